//! `muster serve` and `muster tenant create` as a user runs them: real processes, a real
//! socket, the README's tour.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const MUSTER: &str = env!("CARGO_BIN_EXE_muster");

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("muster-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
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
        .expect("the URL is printed");
    Server {
        addr: url.trim_start_matches("http://").to_owned(),
        child,
    }
}

fn create_tenant(data: &Path, name: &str) -> Value {
    let out = Command::new(MUSTER)
        .args([
            "tenant",
            "create",
            "--name",
            name,
            "--domain",
            "acme.test",
            "--json",
            "--data",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// One HTTP/1.1 request over a fresh connection; returns status and JSON body.
fn http(addr: &str, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn tenant_create_prints_the_scim_url_and_a_token_shown_once() {
    let data = data_dir("create");
    let t = create_tenant(&data, "Acme Corp");
    let id = t["tenant_id"].as_str().unwrap();
    assert!(id.starts_with("acme-corp-"), "{id}");
    assert_eq!(t["scim_base_url"], format!("/tenants/{id}/scim/v2"));
    assert!(t["scim_token"].as_str().unwrap().starts_with("mst_"));
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn the_readme_tour_creates_reads_lists_and_deletes_a_user_over_http() {
    let data = data_dir("tour");
    let server = serve(&data);
    let t = create_tenant(&data, "Acme");
    let (base, token) = (
        t["scim_base_url"].as_str().unwrap(),
        t["scim_token"].as_str().unwrap(),
    );
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.test"});
    let (status, created) = http(
        &server.addr,
        "POST",
        &format!("{base}/Users"),
        token,
        Some(user),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, read) = http(
        &server.addr,
        "GET",
        &format!("{base}/Users/{id}"),
        token,
        None,
    );
    assert_eq!(
        (status, read["userName"].as_str()),
        (200, Some("ada@acme.test"))
    );
    let (_, list) = http(&server.addr, "GET", &format!("{base}/Users"), token, None);
    assert_eq!(list["totalResults"], 2, "the first administrator and ada");
    let (status, _) = http(
        &server.addr,
        "DELETE",
        &format!("{base}/Users/{id}"),
        token,
        None,
    );
    assert_eq!(status, 204);
    let (status, _) = http(
        &server.addr,
        "GET",
        &format!("{base}/Users/{id}"),
        token,
        None,
    );
    assert_eq!(status, 404);
    let (status, _) = http(&server.addr, "GET", &format!("{base}/Users"), "wrong", None);
    assert_eq!(status, 401);
    drop(server);
    let restarted = serve(&data);
    let (status, _) = http(
        &restarted.addr,
        "GET",
        &format!("{base}/Users"),
        token,
        None,
    );
    assert_eq!(status, 200, "tenants and tokens survive a restart");
    drop(restarted);
    std::fs::remove_dir_all(&data).unwrap();
}
