//! Users' derived state settled in batches: the members a request adds are read together and
//! committed in shared transactions, each with the end of its own intent; a member whose
//! intent is renewed while its batch commits is settled again on its own, so the directory's
//! invariant holds either way.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::Method;
use muster::admin::Admin;
use muster::community::{GroupSelector, Memberships, Role};
use muster::directory::check::Checker;
use muster::directory::{Intents, Target};
use muster::ids::TenantId;
use muster::store::EmbeddedTable;
use serde_json::json;

use crate::counting::CountingTable;
use crate::helpers::{TestApp, patch, unlimited};

/// Adds `users` to `group` with one PATCH, which must succeed.
async fn add_members(app: &TestApp, group: &str, users: &[String]) {
    let value: Vec<_> = users.iter().map(|u| json!({"value": u})).collect();
    let ops = json!([{"op": "add", "path": "members", "value": value}]);
    let added = app
        .call(Method::PATCH, &format!("/Groups/{group}"), Some(patch(ops)))
        .await;
    assert!(added.status.is_success(), "{}", added.body);
}

#[tokio::test]
async fn a_member_whose_intent_is_renewed_while_its_batch_commits_is_settled_on_its_own() {
    let counting = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
    let app = TestApp::with_parts(counting.clone(), unlimited()).await;
    let t = TenantId::parse(&app.acme.id).unwrap();
    let admin = Admin::new(app.table.clone());
    let sales = admin.create_community(&t, "Sales").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = app.create_group("Reps", &[]).await;
    let mapped = GroupSelector::Id(group.clone());
    let (_, rederive) = admin
        .set_mapping(&t, mapped, &sales, Role::Contributor)
        .await
        .unwrap();
    for g in rederive {
        admin.rederive(&t, &g).await.unwrap();
    }
    let mut users = Vec::new();
    for i in 0..10 {
        users.push(app.create_user(&format!("rep{i}@acme.test")).await);
    }
    counting.renew_before_commit(Target::User(users[3].clone()).key(&t));

    add_members(&app, &group, &users).await;

    assert!(
        counting.renewed.load(Ordering::SeqCst),
        "the race was staged"
    );
    let memberships = Memberships::new(app.table.clone());
    for user in &users {
        let held = memberships.of_user(&t, user).await.unwrap();
        assert_eq!(held.len(), 1, "{user}");
        assert_eq!(
            (held[0].community.as_str(), held[0].role),
            (sales.as_str(), Role::Contributor)
        );
    }
    let pending = Intents::new(app.table.clone()).pending(&t).await.unwrap();
    assert!(pending.is_empty(), "{pending:?}");
    let report = Checker::new(app.table.clone()).check(&t).await.unwrap();
    assert_eq!(report.drift_total(), 0, "{report:?}");
}

#[tokio::test]
async fn fifty_members_added_at_once_are_settled_in_few_requests() {
    let counting = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
    let app = TestApp::with_parts(counting.clone(), unlimited()).await;
    let mut users = Vec::new();
    for i in 0..50 {
        users.push(app.create_user(&format!("member{i}@acme.test")).await);
    }
    let group = app.create_group("Everyone", &[]).await;
    let before = counting.calls.lock().unwrap().clone();

    add_members(&app, &group, &users).await;

    let after = counting.calls.lock().unwrap().clone();
    let (reads, writes) = (after.reads - before.reads, after.writes - before.writes);
    // Each member's links are one query (a partition of its own); everything else is read in
    // batches and the members' intents end in one shared transaction.
    assert!(reads <= 50 + 10, "{reads} reads");
    assert!(writes <= 5, "{writes} writes");
}
