//! `totalResults` comes from counters kept in the same transaction as each create and delete
//! (issue 18): it follows every way a user or group comes and goes, on the embedded store and
//! on DynamoDB, under concurrency, and `muster check` finds and repairs a counter set wrong.

use std::sync::Arc;

use http::{Method, StatusCode};
use muster::directory::check::Checker;
use muster::store::{Write, keys};

use crate::directory::harness;
use crate::helpers::user;
use crate::import_harness::ImportApp;

const FILE_HEADER: &str = "matricule,email,first_name,last_name,community,role\n";

async fn total(h: &ImportApp, resource: &str) -> u64 {
    let body = h.app.get(&format!("/{resource}?count=0")).await.body;
    body["totalResults"].as_u64().unwrap()
}

/// Every resource listed by following the pages of `resource`.
async fn listed(h: &ImportApp, resource: &str) -> u64 {
    let mut seen = 0;
    let mut start = 1;
    loop {
        let page = h
            .app
            .get(&format!("/{resource}?startIndex={start}&count=50"))
            .await
            .body;
        let n = page["Resources"].as_array().map_or(0, Vec::len) as u64;
        seen += n;
        if n < 50 {
            return seen;
        }
        start += 50;
    }
}

async fn the_counts_follow_every_create_delete_and_restore(h: &ImportApp) {
    let admin = total(h, "Users").await;
    assert_eq!(admin, 1, "the harness's acting administrator");
    let ann = h.app.create_user("ann@acme.test").await;
    let bob = h.app.create_user("bob@acme.test").await;
    assert_eq!(total(h, "Users").await, 3);
    let rows: String = (0..30)
        .map(|i| format!("E{i},e{i}@acme.test,E,{i},Engineering,member\n"))
        .collect();
    h.import(&format!("{FILE_HEADER}{rows}"), "UPSERT", "")
        .await;
    assert_eq!(
        total(h, "Users").await,
        33,
        "30 imported in shared transactions"
    );
    let gone = h
        .app
        .call(Method::DELETE, &format!("/Users/{ann}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(total(h, "Users").await, 32, "a soft delete counts out");
    let back = h.app.post("/Users", user("ann@acme.test")).await;
    assert_eq!(back.body["id"], ann.as_str(), "restored");
    assert_eq!(total(h, "Users").await, 33, "a restore counts in");
    assert_eq!(listed(h, "Users").await, 33);
    let g = h.app.create_group("Readers", &[&bob]).await;
    h.app.create_group("Writers", &[]).await;
    assert_eq!(total(h, "Groups").await, 2);
    let gone = h
        .app
        .call(Method::DELETE, &format!("/Groups/{g}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(total(h, "Groups").await, 1);
    let clash = h.app.post("/Users", user("bob@acme.test")).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(
        total(h, "Users").await,
        33,
        "a refused create counts nothing"
    );
}

#[tokio::test]
async fn total_results_follows_creates_imports_deletes_and_restores_on_the_embedded_store() {
    let h = harness("counts", false).await.unwrap();
    the_counts_follow_every_create_delete_and_restore(&h).await;
}

#[tokio::test]
async fn total_results_follows_creates_imports_deletes_and_restores_on_dynamodb() {
    let Some(h) = harness("counts", true).await else {
        return;
    };
    the_counts_follow_every_create_delete_and_restore(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_and_deletes_leave_the_count_equal_to_the_users_listed() {
    let h = Arc::new(harness("counts-race", false).await.unwrap());
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                let created = h.app.post("/Users", user(&format!("r{i}@acme.test"))).await;
                let id = created.body["id"].as_str().unwrap().to_owned();
                if i % 3 == 0 {
                    h.app
                        .call(Method::DELETE, &format!("/Users/{id}"), None)
                        .await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(total(&h, "Users").await, 41, "40 and the administrator");
    assert_eq!(listed(&h, "Users").await, 41);
}

#[tokio::test]
async fn a_counter_set_wrong_is_found_by_the_check_and_repaired() {
    let h = harness("counts-drift", false).await.unwrap();
    let ann = h.app.create_user("ann@acme.test").await;
    let wrong = Write::Add {
        key: keys::user_counter(&h.tenant, &ann),
        delta: 5,
    };
    h.app.table.transact(vec![wrong]).await.unwrap();
    assert_eq!(total(&h, "Users").await, 7);
    let checker = Checker::new(h.app.table.clone());
    let report = checker.check(&h.tenant).await.unwrap();
    let finding = &report.drift["user_count"];
    assert_eq!(finding.count, 1);
    assert!(
        finding.examples[0].contains("counts=1"),
        "{:?}",
        finding.examples
    );
    let repaired = checker.repair(&h.tenant).await.unwrap();
    assert_eq!(repaired.after.drift_total(), 0);
    assert_eq!(total(&h, "Users").await, 2);
}
