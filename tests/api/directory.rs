//! The directory core's invariant under races, on the embedded store and on DynamoDB (moto):
//! the reproductions of the directory-core issue, each ending with `muster check`'s verdict.

use std::sync::Arc;

use http::{Method, StatusCode};
use muster::community::{GroupSelector, Mapping, Mappings, Role};
use muster::directory::Reconciler;
use muster::directory::check::Checker;
use serde_json::{Value, json};

use crate::helpers::patch;
use crate::import_harness::ImportApp;

pub const MEMBERSHIPS: &str = "urn:muster:params:scim:schemas:extension:community:2.0:User";

/// The harness on the embedded store, or on DynamoDB when `dynamo` (`None` without moto),
/// with the tenants' request limits lifted for the races.
pub async fn harness(test: &str, dynamo: bool) -> Option<ImportApp> {
    let config = crate::helpers::unlimited();
    if dynamo {
        let table = crate::store_dynamo::fresh_table(test).await?;
        return Some(ImportApp::on_with(Arc::new(table), config).await);
    }
    let table = Arc::new(muster::store::EmbeddedTable::in_memory());
    Some(ImportApp::on_with(table, config).await)
}

/// Maps `group` to the community named `community` with `role`.
pub async fn map(h: &ImportApp, group: &str, community: &str, role: Role) -> String {
    let id = h.community_id(community).await;
    let mapping = Mapping {
        group: GroupSelector::Id(group.to_owned()),
        community: id.clone(),
        role,
    };
    Mappings::new(h.app.table.clone())
        .set(&h.tenant, &mapping)
        .await
        .unwrap();
    Reconciler::new(h.app.table.clone())
        .drain(&h.tenant)
        .await
        .unwrap();
    id
}

/// Drains what is pending, then asserts that `muster check` finds no drift and no intent.
pub async fn assert_invariant_holds(h: &ImportApp) {
    Reconciler::new(h.app.table.clone())
        .drain(&h.tenant)
        .await
        .unwrap();
    let report = Checker::new(h.app.table.clone())
        .check(&h.tenant)
        .await
        .unwrap();
    assert_eq!(report.drift_total(), 0, "drift: {:#?}", report.drift);
    assert_eq!(report.pending_intents, 0);
}

/// The (community id, role, status) of a user's memberships, as SCIM shows them.
pub async fn memberships_of(h: &ImportApp, user: &str) -> Vec<(String, String, String)> {
    let body = h.app.get(&format!("/Users/{user}")).await.body;
    let list = body[MEMBERSHIPS]["memberships"].as_array().cloned();
    list.unwrap_or_default()
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (s("value"), s("role"), s("status"))
        })
        .collect()
}

/// The ids a group lists as members.
pub async fn members_of(h: &ImportApp, group: &str) -> Vec<String> {
    let body = h.app.get(&format!("/Groups/{group}")).await.body;
    let list = body["members"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect()
}

fn add_member(user: &str) -> Value {
    patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
}

fn remove_member(user: &str) -> Value {
    patch(json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]))
}

async fn users(h: &ImportApp, prefix: &str, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(
            h.app
                .create_user(&format!("{prefix}{i:03}@acme.test"))
                .await,
        );
    }
    out
}

/// A harness with an empty group mapped to `community` and `n` fresh users: (harness, group
/// id, community id, user ids).
async fn mapped_group(
    test: &str,
    dynamo: bool,
    community: &str,
    role: Role,
    n: usize,
) -> Option<(Arc<ImportApp>, String, String, Vec<String>)> {
    let h = Arc::new(harness(test, dynamo).await?);
    let group = h.app.create_group("Racers", &[]).await;
    let community = map(&h, &group, community, role).await;
    let fresh = users(&h, "racer", n).await;
    Some((h, group, community, fresh))
}

async fn deleting_users_while_adding_them_leaves_no_deleted_member_and_no_invitation(
    test: &str,
    dynamo: bool,
    n: usize,
) {
    let Some((h, group, community, fresh)) =
        mapped_group(test, dynamo, "Engineering", Role::Member, n).await
    else {
        return;
    };
    let tasks: Vec<_> = fresh
        .iter()
        .map(|u| {
            let (h, group, u) = (h.clone(), group.clone(), u.clone());
            tokio::spawn(async move {
                let path = format!("/Groups/{group}");
                let add = h.app.call(Method::PATCH, &path, Some(add_member(&u)));
                let user_path = format!("/Users/{u}");
                let delete = h.app.call(Method::DELETE, &user_path, None);
                let (added, deleted) = tokio::join!(add, delete);
                (added.status, deleted.status)
            })
        })
        .collect();
    for task in tasks {
        let (added, deleted) = task.await.unwrap();
        assert!(
            added == StatusCode::NO_CONTENT || added == StatusCode::BAD_REQUEST,
            "{added}"
        );
        assert_eq!(deleted, StatusCode::NO_CONTENT);
    }
    assert_eq!(members_of(&h, &group).await, Vec::<String>::new());
    let sent = h.send_invitations(&community).await;
    assert_eq!(sent.body["sent"], 0, "{}", sent.body);
    assert_invariant_holds(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_deletes_racing_adds_leave_no_deleted_member_on_the_embedded_store() {
    let test = "two_hundred_deletes_racing_adds_leave_no_deleted_member_on_the_embedded_store";
    deleting_users_while_adding_them_leaves_no_deleted_member_and_no_invitation(test, false, 200)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletes_racing_adds_leave_no_deleted_member_on_dynamodb() {
    let test = "deletes_racing_adds_leave_no_deleted_member_on_dynamodb";
    deleting_users_while_adding_them_leaves_no_deleted_member_and_no_invitation(test, true, 40)
        .await;
}

async fn an_add_racing_a_remove_leaves_membership_and_access_agreeing(
    test: &str,
    dynamo: bool,
    n: usize,
) {
    let Some((h, group, community, fresh)) =
        mapped_group(test, dynamo, "Sales", Role::Contributor, n).await
    else {
        return;
    };
    for u in &fresh {
        let path = format!("/Groups/{group}");
        let a = h.app.call(Method::PATCH, &path, Some(add_member(u))).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT);
    }
    let tasks: Vec<_> = fresh
        .iter()
        .map(|u| {
            let (h, group, u) = (h.clone(), group.clone(), u.clone());
            tokio::spawn(async move {
                let path = format!("/Groups/{group}");
                let add = h.app.call(Method::PATCH, &path, Some(add_member(&u)));
                let remove = h.app.call(Method::PATCH, &path, Some(remove_member(&u)));
                let (a, r) = tokio::join!(add, remove);
                assert_eq!(
                    (a.status, r.status),
                    (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT)
                );
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    Reconciler::new(h.app.table.clone())
        .drain(&h.tenant)
        .await
        .unwrap();
    let members = members_of(&h, &group).await;
    for u in &fresh {
        let access = memberships_of(&h, u).await;
        let want: Vec<(String, String, String)> = if members.contains(u) {
            vec![(community.clone(), "contributor".into(), "invited".into())]
        } else {
            vec![]
        };
        assert_eq!(access, want, "user {u}");
    }
    assert_invariant_holds(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_adds_racing_removes_leave_access_equal_to_membership_on_the_embedded_store() {
    let test =
        "a_hundred_adds_racing_removes_leave_access_equal_to_membership_on_the_embedded_store";
    an_add_racing_a_remove_leaves_membership_and_access_agreeing(test, false, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adds_racing_removes_leave_access_equal_to_membership_on_dynamodb() {
    let test = "adds_racing_removes_leave_access_equal_to_membership_on_dynamodb";
    an_add_racing_a_remove_leaves_membership_and_access_agreeing(test, true, 30).await;
}
