//! Automatic invitations: off by default; once on, every member created from then on (by the
//! identity provider's groups or by an import) is invited by the maintenance drain, members
//! already waiting are left to the administrators, and a crash at any write of the request
//! that creates a member never leaves that member uninvited.

use std::sync::Arc;

use http::{Method, StatusCode};
use muster::admin::Admin;
use muster::auth::{Tenants, sha256_hex};
use muster::community::{GroupSelector, InvitationsDue, Memberships, Role, Status};
use muster::config::Config;
use muster::directory::{Done, Maintenance, Task};
use muster::ids::TenantId;
use muster::import::LocalNotifier;
use muster::store::{EmbeddedTable, Table};
use serde_json::json;

use crate::counting::CountingTable;
use crate::helpers::{TestApp, patch};
use crate::import_harness::ImportApp;

const HEADER: &str = "matricule,email,first_name,last_name,community,role\n";

/// Runs the scheduled drain with invitations sent to a local notifier; answers how many went.
async fn drain(table: &Arc<dyn Table>) -> u64 {
    let maintenance = Maintenance::new(table.clone())
        .with_invitations(Arc::new(LocalNotifier::new(table.clone())));
    match maintenance.run(&Task::Drain).await.unwrap() {
        Done::Drain {
            invited, failed, ..
        } => {
            assert!(failed.is_empty(), "{failed:?}");
            invited
        }
        other => panic!("{other:?}"),
    }
}

async fn invited_users(table: &Arc<dyn Table>, t: &TenantId) -> Vec<String> {
    let mut users: Vec<String> = LocalNotifier::new(table.clone())
        .recorded(t)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, user, _)| user)
        .collect();
    users.sort();
    users
}

fn set_auto_invite(table: &Arc<dyn Table>, t: &TenantId, on: bool) -> impl Future<Output = ()> {
    let tenants = Tenants::new(table.clone());
    let t = t.clone();
    async move {
        tenants
            .update(&t, |tenant| tenant.set_auto_invite(on))
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn automatic_invitations_are_off_by_default_and_nothing_is_sent() {
    let t = ImportApp::new().await;
    let csv = format!("{HEADER}E1,new@acme.test,New,Member,Sales,member\n");
    let (_, status) = t.import(&csv, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(drain(&t.app.table).await, 0);
    assert!(invited_users(&t.app.table, &t.tenant).await.is_empty());
    assert_eq!(
        t.memberships("E1").await,
        [("Sales".into(), "member".into(), "invited".into())]
    );
}

#[tokio::test]
async fn members_created_by_an_import_or_a_mapped_group_after_turning_it_on_are_invited_once() {
    let t = ImportApp::new().await;
    let table = t.app.table.clone();
    let waiting = format!("{HEADER}E1,waiting@acme.test,Wai,Ting,Sales,member\n");
    assert_eq!(
        t.import(&waiting, "UPSERT", "").await.1["state"],
        "succeeded"
    );
    set_auto_invite(&table, &t.tenant, true).await;

    let csv = format!("{waiting}E2,fresh@acme.test,Fre,Sh,Sales,member\n");
    assert_eq!(t.import(&csv, "UPSERT", "").await.1["state"], "succeeded");
    let admin = Admin::new(table.clone());
    let engineering = t.community_id("Engineering").await;
    let scim_user = t.app.create_user("pushed@acme.test").await;
    let group = t.app.create_group("Engineers", &[]).await;
    admin
        .set_mapping(
            &t.tenant,
            GroupSelector::Id(group.clone()),
            &engineering,
            Role::Member,
        )
        .await
        .unwrap();
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": scim_user}]}]));
    let answer = t
        .app
        .call(Method::PATCH, &format!("/Groups/{group}"), Some(add))
        .await;
    assert!(answer.status.is_success(), "{}", answer.body);

    assert_eq!(drain(&table).await, 2, "the imported and the pushed member");
    let fresh = t
        .app
        .get("/Users?filter=userName%20eq%20%22fresh@acme.test%22")
        .await;
    let fresh = fresh.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut expected = vec![fresh, scim_user];
    expected.sort();
    assert_eq!(invited_users(&table, &t.tenant).await, expected);
    assert_eq!(
        t.memberships("E1").await,
        [("Sales".into(), "member".into(), "invited".into())],
        "a member waiting from before is left to the administrators"
    );
    assert_eq!(
        t.memberships("E2").await,
        [("Sales".into(), "member".into(), "invitation_sent".into())]
    );
    assert_eq!(drain(&table).await, 0, "an invitation goes out once");
    assert!(
        InvitationsDue::new(table.clone())
            .list(&t.tenant)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_mark_waits_for_its_membership_until_it_is_stale() {
    let app = TestApp::new().await;
    let table = app.table.clone();
    let t = TenantId::parse(&app.acme.id).unwrap();
    let due = InvitationsDue::new(table.clone());
    due.mark(&t, &[("c-1".into(), "u-1".into())]).await.unwrap();
    assert_eq!(drain(&table).await, 0);
    assert_eq!(
        due.list(&t).await.unwrap().len(),
        1,
        "its write may still land"
    );

    let mut old = due.list(&t).await.unwrap().remove(0);
    old.at = "2020-01-01T00:00:00Z".into();
    let key = muster::store::keys::invitation_due(&t, &old.community, &old.user);
    let item = muster::store::Item::new(key, 1, serde_json::to_vec(&old).unwrap());
    table
        .put(item, muster::store::Condition::Always)
        .await
        .unwrap();
    assert_eq!(drain(&table).await, 0);
    assert!(
        due.list(&t).await.unwrap().is_empty(),
        "a stale mark is dropped"
    );
}

#[tokio::test]
async fn a_crash_at_any_write_of_a_group_push_never_leaves_a_new_member_uninvited() {
    let mut created_somewhere = false;
    for budget in 0..12 {
        let counting = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
        let table: Arc<dyn Table> = counting.clone();
        let app = TestApp::with_parts(table.clone(), Config::default()).await;
        let t = TenantId::parse(&app.acme.id).unwrap();
        let admin = Admin::new(table.clone());
        let community = admin.create_community(&t, "Sales").await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user = app.create_user("rep@acme.test").await;
        let group = app.create_group("Reps", &[]).await;
        admin
            .set_mapping(
                &t,
                GroupSelector::Id(group.clone()),
                &community,
                Role::Member,
            )
            .await
            .unwrap();
        set_auto_invite(&table, &t, true).await;

        counting.allow_writes(Some(budget));
        let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
        let _ = app
            .call(Method::PATCH, &format!("/Groups/{group}"), Some(add))
            .await;
        counting.allow_writes(None);
        drain(&table).await;

        let membership = Memberships::new(table.clone())
            .get(&t, &user, &community)
            .await;
        if let Some((m, _)) = membership.unwrap() {
            created_somewhere = true;
            assert_eq!(m.status, Status::InvitationSent, "budget {budget}");
            assert_eq!(
                invited_users(&table, &t).await,
                std::slice::from_ref(&user),
                "budget {budget}"
            );
        }
    }
    assert!(created_somewhere, "some budget lets the push through");
}

#[tokio::test]
async fn the_operator_turns_automatic_invitations_on_and_off() {
    const KEY: &str = "operator-key-for-tests";
    let app = TestApp::with_config(Config {
        operator_key_sha256: Some(sha256_hex(KEY.as_bytes())),
        ..Config::default()
    })
    .await;
    let path = format!("/admin/tenants/{}", app.acme.id);
    for on in [true, false] {
        let req = http::Request::builder()
            .method(Method::PATCH)
            .uri(&path)
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"auto_invite": on}).to_string(),
            ))
            .unwrap();
        let answer = app.send(req).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["auto_invite"], on);
        assert_eq!(answer.body["auto_invite_since"].is_string(), on);
    }
}
