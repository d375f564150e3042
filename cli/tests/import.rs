//! `muster import` against a real `muster serve`: the one-command flow of an HR script.

mod common;

use std::path::Path;
use std::process::Command;

use common::{MUSTER, Server, data_dir, muster, serve};
use serde_json::Value;

/// `muster import FILE --mode MODE` against `server` as `tenant`'s first client and admin.
fn command(server: &Server, tenant: &Value, file: &Path, mode: &str) -> Command {
    let mut command = Command::new(MUSTER);
    command
        .args(["import"])
        .arg(file)
        .args(["--mode", mode, "--url", &server.url()])
        .args(["--client-id", tenant["client_id"].as_str().unwrap()])
        .args(["--client-secret", tenant["client_secret"].as_str().unwrap()])
        .args(["--user-id", tenant["admin_user_id"].as_str().unwrap()]);
    command
}

fn import(server: &Server, tenant: &Value, file: &Path, mode: &str) -> (bool, Value) {
    let out = command(server, tenant, file, mode)
        .arg("--json")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), json)
}

/// A tenant with community Engineering on a fresh `muster serve`.
fn tenant_with_engineering(data: &Path) -> Value {
    let tenant = muster(
        data,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.test",
        ],
    );
    let t = tenant["tenant_id"].as_str().unwrap();
    let create = [
        "community",
        "create",
        "--tenant",
        t,
        "--name",
        "Engineering",
    ];
    muster(data, &create);
    tenant
}

#[test]
fn one_command_uploads_imports_and_prints_the_report_and_fails_with_the_row_errors() {
    let data = data_dir("flow");
    let server = serve(&data);
    let tenant = tenant_with_engineering(&data);
    let good = data.join("members.csv");
    std::fs::write(&good, "matricule;email;first_name;last_name;community;role\nE1;ann@acme.test;Ann;Lee;Engineering;member\nE2;bob@acme.test;Bob;Ray;engineering;administrator\n").unwrap();
    let (ok, out) = import(&server, &tenant, &good, "upsert");
    assert!(ok, "{out}");
    assert_eq!(out["job"]["state"], "succeeded");
    assert_eq!(out["report"][0]["code"], "CREATE_MEMBER");
    assert_eq!(out["report"][0]["operation_data"]["value"], 2);
    let bad = data.join("bad.csv");
    std::fs::write(
        &bad,
        "matricule,email,first_name,last_name,community,role\nE3,nope,Cyd,Moe,Engineering,member\n",
    )
    .unwrap();
    let (ok, out) = import(&server, &tenant, &bad, "upsert");
    assert!(!ok, "a failed job makes the command fail");
    assert_eq!(out["job"]["state"], "failed");
    assert_eq!(out["errors"][0]["code"], "invalid_email");
    drop(server);
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn dry_run_prints_the_preview_and_leaves_the_members_unchanged() {
    let data = data_dir("dry-run");
    let server = serve(&data);
    let tenant = tenant_with_engineering(&data);
    let header = "matricule,email,first_name,last_name,community,role\n";
    let first = data.join("first.csv");
    let ann = "E1,ann@acme.test,Ann,Lee,Engineering,member\n";
    let bob = "E2,bob@acme.test,Bob,Ray,Engineering,member\n";
    std::fs::write(&first, format!("{header}{ann}{bob}")).unwrap();
    assert!(import(&server, &tenant, &first, "upsert").0);
    let next = data.join("next.csv");
    let renamed = "E1,ann@acme.test,Ann,Lee-Smith,Engineering,member\n";
    let cyd = "E3,cyd@acme.test,Cyd,Moe,Engineering,member\n";
    std::fs::write(&next, format!("{header}{renamed}{cyd}")).unwrap();
    let preview = command(&server, &tenant, &next, "upsert")
        .arg("--dry-run")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{text}");
    for words in [
        "dry run of import",
        "CREATE_MEMBER",
        "UPDATE_MEMBER",
        "would apply",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    let refused = command(&server, &tenant, &next, "mirror")
        .arg("--dry-run")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "a refused preview fails: {text}");
    assert!(
        text.contains("would be refused: MIRROR would remove"),
        "{text}"
    );
    let (ok, out) = import(&server, &tenant, &next, "upsert");
    assert!(ok, "{out}");
    let report: Vec<_> = out["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap(),
                r["operation_data"]["value"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        report,
        [("CREATE_MEMBER", 1), ("UPDATE_MEMBER", 1)],
        "the previews changed nothing"
    );
    drop(server);
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn an_import_by_a_tenant_held_to_one_request_a_second_waits_out_its_refusals_to_the_end() {
    let data = data_dir("throttled");
    let server = serve(&data);
    let tenant = tenant_with_engineering(&data);
    let t = tenant["tenant_id"].as_str().unwrap();
    let limits = ["--rate-limit", "1", "--burst", "1"];
    let mut set = vec!["tenant", "set", "--tenant", t];
    set.extend(limits);
    muster(&data, &set);
    let file = data.join("members.csv");
    let rows = "matricule,email,first_name,last_name,community,role\nE1,ann@acme.test,Ann,Lee,Engineering,member\n";
    std::fs::write(&file, rows).unwrap();
    let started = std::time::Instant::now();
    let (ok, out) = import(&server, &tenant, &file, "upsert");
    assert!(ok, "{out}");
    assert_eq!(out["job"]["state"], "succeeded");
    assert_eq!(out["report"][0]["operation_data"]["value"], 1);
    // Presign, start, at least one look at the job, the report and the errors: five requests
    // at one a second cannot all pass in under three seconds, so some were refused (429,
    // Retry-After: 1) and sent again.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "{:?}: the tenant's limit was not in force",
        started.elapsed()
    );
    drop(server);
    std::fs::remove_dir_all(&data).unwrap();
}
