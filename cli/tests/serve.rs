//! `muster serve` and `muster tenant create` as a user runs them: real processes, a real
//! socket, the README's tour.

mod common;

use std::path::Path;
use std::process::Command;

use common::{MUSTER, data_dir, http, serve};
use serde_json::{Value, json};

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
