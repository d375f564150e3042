//! Kill -9 of `muster serve` while four SCIM clients create users, three times over: every
//! create answered 201 before a kill is there after the restart (durable creates go through
//! the store's journal, which the restart replays), the tenant's count matches its users, and
//! `muster check` finds no drift.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{check, data_dir, http, serve, try_http, unthrottled_tenant};
use serde_json::json;

const CLIENTS: usize = 4;

/// Creates users from `CLIENTS` threads until the server stops answering; the (id, userName)
/// of every create answered 201.
fn create_until_killed(
    addr: &str,
    base: &str,
    token: &str,
    round: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<(String, String)>>> {
    (0..CLIENTS)
        .map(|client| {
            let (addr, base, token) = (addr.to_owned(), base.to_owned(), token.to_owned());
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                for i in 0.. {
                    let name = format!("r{round}c{client}n{i}@acme.test");
                    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                      "userName": name});
                    match try_http(&addr, "POST", &format!("{base}/Users"), &token, Some(body)) {
                        Some((201, user)) => {
                            answered.push((user["id"].as_str().unwrap().to_owned(), name));
                        }
                        Some((status, body)) if !stop.load(Ordering::Acquire) => {
                            panic!("a create answered {status}: {body}")
                        }
                        _ => break,
                    }
                }
                answered
            })
        })
        .collect()
}

#[test]
fn every_create_answered_before_a_kill_is_there_after_the_restart() {
    let data = data_dir("kill-creates");
    let (tenant, token) = unthrottled_tenant(&data, "Kill");
    let base = format!("/tenants/{tenant}/scim/v2");
    let mut answered: Vec<(String, String)> = Vec::new();
    for round in 0..3 {
        let server = serve(&data);
        let stop = Arc::new(AtomicBool::new(false));
        let clients = create_until_killed(&server.addr, &base, &token, round, &stop);
        std::thread::sleep(Duration::from_millis(600));
        stop.store(true, Ordering::Release);
        drop(server); // SIGKILL, then wait
        let before = answered.len();
        for client in clients {
            answered.extend(client.join().unwrap());
        }
        assert!(
            answered.len() > before + 20,
            "round {round}: only {} creates answered before the kill",
            answered.len() - before
        );
    }
    let server = serve(&data);
    for (id, name) in &answered {
        let (status, user) = http(
            &server.addr,
            "GET",
            &format!("{base}/Users/{id}"),
            &token,
            None,
        );
        assert_eq!(status, 200, "{name} was answered 201 before a kill: {user}");
        assert_eq!(user["userName"], name.as_str());
    }
    let (_, list) = http(
        &server.addr,
        "GET",
        &format!("{base}/Users?count=0"),
        &token,
        None,
    );
    let total = list["totalResults"].as_u64().unwrap();
    // A create under way at a kill may have been written without its answer.
    let unanswered = total.checked_sub(answered.len() as u64);
    let unanswered = unanswered.expect("the count holds every answered create");
    assert!(
        unanswered <= 3 * CLIENTS as u64,
        "{total} users for {} answered creates",
        answered.len()
    );
    drop(server);
    let (drift, pending, _, _) = check(&data, &tenant);
    assert_eq!((drift, pending), (0, 0), "muster check after three kills");
    let _ = std::fs::remove_dir_all(&data);
}
