//! The scheduled `directory-maintenance` function's handler, fed the EventBridge events of
//! `events/schedule-*.json`: a drain heals derivation a killed request left undone, a check
//! reports drift (and repairs it when asked), a purge ends soft-deleted users past retention.

use http::{Method, StatusCode};
use muster::auth::Tenants;
use muster::community::Role;
use muster::directory::check::Checker;
use muster::directory::{Done, Maintenance, Members};
use muster::store::{Condition, keys};
use serde_json::Value;

use crate::directory::{map, memberships_of};
use crate::import_harness::ImportApp;

fn event(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn run(h: &ImportApp, name: &str) -> Done {
    let m = Maintenance::new(h.app.table.clone());
    muster_lambda::maintenance(&m, event(name)).await.unwrap()
}

#[tokio::test]
async fn the_scheduled_drain_derives_what_a_killed_request_left_pending() {
    let h = ImportApp::new().await;
    let ada = h.app.create_user("ada@acme.test").await;
    let group = h.app.create_group("Ops", &[]).await;
    let ops = map(&h, &group, "Engineering", Role::Contributor).await;
    // The primary write of a member add, as a request killed before deriving anything.
    Members::new(h.app.table.clone())
        .add(&h.tenant, &group, std::slice::from_ref(&ada))
        .await
        .unwrap();
    assert_eq!(memberships_of(&h, &ada).await, []);
    let before = Checker::new(h.app.table.clone())
        .check(&h.tenant)
        .await
        .unwrap();
    assert_eq!((before.pending_intents, before.drift_total()), (1, 0));
    let Done::Drain {
        drained, failed, ..
    } = run(&h, "schedule-drain.json").await
    else {
        panic!("a drain event runs a drain");
    };
    assert_eq!((drained.users, drained.changed, failed.len()), (1, 1, 0));
    assert_eq!(
        memberships_of(&h, &ada).await,
        [(ops, "contributor".to_owned(), "invited".to_owned())]
    );
    let after = Checker::new(h.app.table.clone())
        .check(&h.tenant)
        .await
        .unwrap();
    assert_eq!((after.pending_intents, after.drift_total()), (0, 0));
}

#[tokio::test]
async fn the_scheduled_check_reports_drift_and_repairs_it_only_when_told_to() {
    let h = ImportApp::new().await;
    let ada = h.app.create_user("ada@acme.test").await;
    let group = h.app.create_group("Ops", &[&ada]).await;
    let ops = map(&h, &group, "Engineering", Role::Member).await;
    h.app
        .table
        .delete(&keys::membership(&h.tenant, &ada, &ops), Condition::Always)
        .await
        .unwrap();
    let reported = run(&h, "schedule-check.json").await;
    assert!(reported.is_alarming());
    let Done::Check { tenants, .. } = &reported else {
        panic!("a check event runs a check");
    };
    let mine = tenants
        .iter()
        .find(|c| c.tenant == h.tenant.as_str())
        .unwrap();
    assert!(mine.drift > 0 && mine.drift_after == mine.drift);
    assert!(mine.report.drift.contains_key("missing_group_source"));
    assert_eq!(memberships_of(&h, &ada).await, [], "a check writes nothing");
    let repaired = run(&h, "schedule-check-repair.json").await;
    assert!(!repaired.is_alarming(), "{repaired:?}");
    assert_eq!(
        memberships_of(&h, &ada).await,
        [(ops, "member".to_owned(), "invited".to_owned())]
    );
}

#[tokio::test]
async fn the_scheduled_purge_ends_soft_deleted_users_past_their_tenants_retention() {
    let h = ImportApp::new().await;
    let gone = h.app.create_user("gone@acme.test").await;
    let path = format!("/Users/{gone}");
    let deleted = h.app.call(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let Done::Purge { purged, .. } = run(&h, "schedule-purge.json").await else {
        panic!("a purge event runs a purge");
    };
    assert_eq!(purged, 0, "within the default 30 days nothing is purged");
    Tenants::new(h.app.table.clone())
        .update(&h.tenant, |t| t.deleted_user_retention_days = Some(0))
        .await
        .unwrap()
        .unwrap();
    // A retention of 0 days purges what was deleted before now: let the clock move on.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let Done::Purge { purged, .. } = run(&h, "schedule-purge.json").await else {
        panic!("a purge event runs a purge");
    };
    assert_eq!(purged, 1);
    let key = keys::deleted_user(&h.tenant, &gone);
    assert!(h.app.table.get(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn an_event_that_names_no_task_fails_the_invocation() {
    let h = ImportApp::new().await;
    let m = Maintenance::new(h.app.table.clone());
    let cron = serde_json::json!({"detail-type": "Scheduled Event", "detail": {}});
    let err = muster_lambda::maintenance(&m, cron).await.unwrap_err();
    assert!(err.to_string().contains("not a maintenance task"), "{err}");
}
