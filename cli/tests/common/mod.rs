//! What the command-line tests share: the `muster` binary, a scratch data directory, a
//! `muster serve` child process, JSON commands and one-shot HTTP requests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const MUSTER: &str = env!("CARGO_BIN_EXE_muster");

/// A running `muster serve`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

impl Server {
    /// The base URL (`http://host:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, empty scratch directory for this test process.
pub fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("muster-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `command` (a `muster … serve --addr 127.0.0.1:0 …`) and reads the URL it prints;
/// returns the server and that first line.
pub fn start(mut command: Command) -> (Server, String) {
    let mut child = command
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
        .expect("the URL is printed");
    (
        Server {
            addr: url.trim_start_matches("http://").to_owned(),
            child,
        },
        line,
    )
}

/// `muster serve` on a free port over the embedded store in `data`.
pub fn serve(data: &Path) -> Server {
    let mut command = Command::new(MUSTER);
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data);
    start(command).0
}

/// Runs `command` with `args` and `--json`; asserts success and returns the printed JSON.
pub fn run_json(mut command: Command, args: &[&str]) -> Value {
    let out = command.args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "muster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("muster {args:?} printed no JSON ({e})"))
}

/// `muster ARGS --json --data DATA`.
pub fn muster(data: &Path, args: &[&str]) -> Value {
    let mut command = Command::new(MUSTER);
    command.env("MUSTER_DATA_DIR", data);
    run_json(command, args)
}

/// `muster ARGS --data DATA`, which must fail; returns its standard error.
pub fn fails(data: &Path, args: &[&str]) -> String {
    let out = Command::new(MUSTER)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(!out.status.success(), "muster {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One HTTP/1.1 request over a fresh connection; returns status and JSON body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    try_http(addr, method, path, token, body).expect("the server answers")
}

/// [`http`] to a server that may be gone: `None` when the connection fails or the answer is
/// cut short.
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// `muster check --json` on the tenant: (drift, pending intents, group members, memberships).
pub fn check(data: &Path, tenant: &str) -> (u64, u64, u64, u64) {
    let out = Command::new(MUSTER)
        .args(["check", "--tenant", tenant, "--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let drift: u64 = report["drift"]
        .as_object()
        .unwrap()
        .values()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    let n = |k: &str| report["scanned"][k].as_u64().unwrap();
    assert_eq!(out.status.code(), Some(if drift > 0 { 2 } else { 0 }));
    let pending = report["pending_intents"].as_u64().unwrap();
    (drift, pending, n("group_members"), n("memberships"))
}

/// A tenant named `name` (domain `acme.test`) whose request limits are lifted far past a
/// tenant's default share, for tests that send thousands of requests: its (id, SCIM token).
pub fn unthrottled_tenant(data: &Path, name: &str) -> (String, String) {
    let t = muster(
        data,
        &["tenant", "create", "--name", name, "--domain", "acme.test"],
    );
    let tenant = t["tenant_id"].as_str().unwrap().to_owned();
    let limits = [
        "--rate-limit",
        "100000",
        "--burst",
        "100000",
        "--max-concurrent",
        "1000",
    ];
    let mut set = vec!["tenant", "set", "--tenant", &tenant];
    set.extend(limits);
    muster(data, &set);
    (tenant, t["scim_token"].as_str().unwrap().to_owned())
}
