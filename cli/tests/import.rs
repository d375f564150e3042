//! `muster import` against a real `muster serve`: the one-command flow of an HR script.

mod common;

use std::path::Path;
use std::process::Command;

use common::{MUSTER, Server, data_dir, muster, serve};
use serde_json::Value;

fn import(server: &Server, tenant: &Value, file: &Path, mode: &str) -> (bool, Value) {
    let out = Command::new(MUSTER)
        .args(["import"])
        .arg(file)
        .args(["--mode", mode, "--url", &server.url(), "--json"])
        .args(["--client-id", tenant["client_id"].as_str().unwrap()])
        .args(["--client-secret", tenant["client_secret"].as_str().unwrap()])
        .args(["--user-id", tenant["admin_user_id"].as_str().unwrap()])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), json)
}

#[test]
fn one_command_uploads_imports_and_prints_the_report_and_fails_with_the_row_errors() {
    let data = data_dir("flow");
    let server = serve(&data);
    let tenant = muster(
        &data,
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
    muster(
        &data,
        &[
            "community",
            "create",
            "--tenant",
            t,
            "--name",
            "Engineering",
        ],
    );
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
