//! `muster import` against a real `muster serve`: the one-command flow of an HR script.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const MUSTER: &str = env!("CARGO_BIN_EXE_muster");

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path) -> Server {
    let mut child = Command::new(MUSTER)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    Server(child, url)
}

fn muster(data: &Path, args: &[&str]) -> Value {
    let out = Command::new(MUSTER)
        .args(args)
        .arg("--json")
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(server: &Server, tenant: &Value, file: &Path, mode: &str) -> (bool, Value) {
    let out = Command::new(MUSTER)
        .args(["import"])
        .arg(file)
        .args(["--mode", mode, "--url", &server.1, "--json"])
        .args(["--client-id", tenant["client_id"].as_str().unwrap()])
        .args(["--client-secret", tenant["client_secret"].as_str().unwrap()])
        .args(["--user-id", tenant["admin_user_id"].as_str().unwrap()])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), json)
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("muster-import-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn one_command_uploads_imports_and_prints_the_report_and_fails_with_the_row_errors() {
    let data = dir("flow");
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
