//! Kill -9 of `muster serve` in the middle of a 3,000-member add and of a 3,000-member replace
//! of a mapped group: after a restart, and with no new request, the directory converges to its
//! invariant (`muster check` finds no drift and no pending intent).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, check, data_dir, http, muster, serve, unthrottled_tenant};
use serde_json::{Value, json};

const MEMBERS: usize = 3000;
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Sends a request and does not wait for its answer (the server is about to die).
fn fire(addr: &str, path: &str, token: &str, body: &Value) {
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    std::mem::forget(stream);
}

fn members(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "value": id })).collect())
}

/// How many members the group lists now.
fn listed(server: &Server, path: &str, token: &str) -> usize {
    let (_, group) = http(&server.addr, "GET", path, token, None);
    group["members"].as_array().map_or(0, Vec::len)
}

/// Sends a member change and kills the server as soon as the group's member list has moved
/// (the change is under way), then proves the kill landed mid-change: the store holds intents
/// or drift. Restarts and waits, sending nothing, until the invariant holds.
fn kill_mid_change(
    data: &Path,
    tenant: &str,
    server: Server,
    request: (&str, &str, Value),
) -> Server {
    let (path, token, body) = request;
    let before = listed(&server, path, token);
    fire(&server.addr, path, token, &body);
    let since = Instant::now();
    while listed(&server, path, token) == before {
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "the change never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(server);
    let (drift, pending, _, _) = check(data, tenant);
    assert!(
        drift + pending > 0,
        "the kill landed after the change had settled"
    );
    let restarted = serve(data);
    let since = Instant::now();
    loop {
        let (drift, pending, members, memberships) = check(data, tenant);
        if drift == 0 && pending == 0 {
            assert_eq!(
                members, memberships,
                "every member, and only members, have access"
            );
            return restarted;
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "no convergence: {drift} drift, {pending} pending"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_kill_during_a_large_add_or_replace_heals_after_restart_without_any_request() {
    let data = data_dir("kill");
    // The test sends its 3,000 users as fast as it can: far past a tenant's default share
    // (200 requests/s).
    let (tenant, token) = unthrottled_tenant(&data, "Kill");
    let (tenant, token) = (tenant.as_str(), token.as_str());
    muster(
        &data,
        &["community", "create", "--tenant", tenant, "--name", "Eng"],
    );
    // A new integration starts with its synchronization off: turn it on, as its
    // administrator would, so that the mapped group grants access.
    let on = muster(
        &data,
        &["tenant", "set", "--tenant", tenant, "--sync", "on"],
    );
    assert_eq!(on["sync"], true);
    let mut server = serve(&data);
    let base = format!("/tenants/{tenant}/scim/v2");
    let mut ids = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": format!("m{i:04}@acme.test")});
        let (status, user) = http(
            &server.addr,
            "POST",
            &format!("{base}/Users"),
            token,
            Some(body),
        );
        assert_eq!(status, 201, "{user}");
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let body = json!({"schemas": [GROUP], "displayName": "Everyone"});
    let (_, group) = http(
        &server.addr,
        "POST",
        &format!("{base}/Groups"),
        token,
        Some(body),
    );
    let group = group["id"].as_str().unwrap().to_owned();
    muster(
        &data,
        &[
            "mapping",
            "set",
            "--tenant",
            tenant,
            "--group-id",
            &group,
            "--community",
            "Eng",
            "--role",
            "member",
        ],
    );
    let path = format!("{base}/Groups/{group}");
    let add = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": members(&ids)}]});
    server = kill_mid_change(&data, tenant, server, (&path, token, add.clone()));
    let (status, _) = http(&server.addr, "PATCH", &path, token, Some(add));
    assert_eq!(status, 204);
    let (_, _, all, _) = check(&data, tenant);
    assert_eq!(all, MEMBERS as u64);
    let empty = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "members", "value": []}]});
    let server = kill_mid_change(&data, tenant, server, (&path, token, empty));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
