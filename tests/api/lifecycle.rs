//! A user's lifecycle through SCIM: deactivation suspends its memberships, DELETE is a soft
//! delete that a POST with the same userName or e-mail undoes, purge ends it; and
//! `muster check` finds and repairs drift written behind the directory's back.

use http::{Method, StatusCode};
use muster::community::Role;
use muster::directory::Lifecycle;
use muster::directory::check::Checker;
use muster::store::{Condition, Item, keys};
use serde_json::json;

use crate::directory::{assert_invariant_holds, map, members_of, memberships_of};
use crate::helpers::{USER, patch};
use crate::import_harness::ImportApp;

fn active(on: bool) -> serde_json::Value {
    patch(json!([{"op": "replace", "path": "active", "value": on}]))
}

#[tokio::test]
async fn deactivating_suspends_every_membership_and_reactivating_restores_them() {
    let h = ImportApp::new().await;
    let u = h.app.create_user("ada@acme.test").await;
    let group = h.app.create_group("Eng", &[&u]).await;
    let eng = map(&h, &group, "Engineering", Role::Administrator).await;
    let invited = (
        eng.clone(),
        "administrator".to_owned(),
        "invited".to_owned(),
    );
    assert_eq!(memberships_of(&h, &u).await, std::slice::from_ref(&invited));
    let path = format!("/Users/{u}");
    let off = h.app.call(Method::PATCH, &path, Some(active(false))).await;
    assert_eq!(off.status, StatusCode::OK);
    let suspended = (
        eng.clone(),
        "administrator".to_owned(),
        "suspended".to_owned(),
    );
    assert_eq!(memberships_of(&h, &u).await, [suspended]);
    assert_eq!(h.send_invitations(&eng).await.body["sent"], 0);
    let on = h.app.call(Method::PATCH, &path, Some(active(true))).await;
    assert_eq!(on.status, StatusCode::OK);
    assert_eq!(memberships_of(&h, &u).await, [invited]);
    assert_eq!(h.send_invitations(&eng).await.body["sent"], 1);
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn a_deleted_user_is_gone_from_every_read_and_its_group_access_with_it() {
    let h = ImportApp::new().await;
    let u = h.app.create_user("bob@acme.test").await;
    let group = h.app.create_group("Sales Team", &[&u]).await;
    map(&h, &group, "Sales", Role::Member).await;
    let deleted = h
        .app
        .call(Method::DELETE, &format!("/Users/{u}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    h.app
        .get(&format!("/Users/{u}"))
        .await
        .assert_scim_error(404, None);
    let list = h.app.get("/Users").await.body;
    assert!(!list.to_string().contains(&u), "listed: {list}");
    let found = h
        .app
        .get("/Users?filter=userName%20eq%20%22bob@acme.test%22")
        .await
        .body;
    assert_eq!(found["totalResults"], 0);
    assert!(members_of(&h, &group).await.is_empty());
    let again = h
        .app
        .call(Method::DELETE, &format!("/Users/{u}"), None)
        .await;
    again.assert_scim_error(404, None);
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn a_post_with_the_same_user_name_or_e_mail_restores_the_same_id_and_its_access_returns_with_its_groups()
 {
    let h = ImportApp::new().await;
    let u = h.app.create_user("cy@acme.test").await;
    let group = h.app.create_group("Legal Team", &[&u]).await;
    let legal = map(&h, &group, "Legal", Role::Contributor).await;
    h.app
        .call(Method::DELETE, &format!("/Users/{u}"), None)
        .await;
    let body = json!({"schemas": [USER], "userName": "CY@acme.test", "displayName": "Cy",
                      "emails": [{"value": "cy.work@acme.test"}]});
    let restored = h.app.post("/Users", body).await;
    assert_eq!(restored.status, StatusCode::CREATED, "{}", restored.body);
    assert_eq!(restored.body["id"], u.as_str());
    assert_eq!(restored.body["displayName"], "Cy", "updated from the body");
    assert!(memberships_of(&h, &u).await.is_empty(), "no group yet");
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
    h.app
        .call(Method::PATCH, &format!("/Groups/{group}"), Some(add))
        .await;
    let back = (legal, "contributor".to_owned(), "invited".to_owned());
    assert_eq!(memberships_of(&h, &u).await, [back]);
    h.app
        .call(Method::DELETE, &format!("/Users/{u}"), None)
        .await;
    let by_mail = json!({"schemas": [USER], "userName": "cyrus@acme.test",
                         "emails": [{"value": "Cy.Work@acme.test"}]});
    let restored = h.app.post("/Users", by_mail).await;
    assert_eq!(restored.status, StatusCode::CREATED, "{}", restored.body);
    assert_eq!(restored.body["id"], u.as_str(), "restored by e-mail");
    assert_eq!(restored.body["userName"], "cyrus@acme.test");
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn purging_ends_a_soft_deleted_user_for_good() {
    let h = ImportApp::new().await;
    let u = h.app.create_user("dee@acme.test").await;
    h.app
        .call(Method::DELETE, &format!("/Users/{u}"), None)
        .await;
    let lifecycle = Lifecycle::new(h.app.table.clone());
    assert_eq!(
        lifecycle
            .purge(&h.tenant, "2000-01-01T00:00:00Z")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lifecycle
            .purge(&h.tenant, "9999-01-01T00:00:00Z")
            .await
            .unwrap(),
        1
    );
    let again = h.app.create_user("dee@acme.test").await;
    assert_ne!(again, u, "a purged user is not restored");
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn check_finds_drift_written_behind_the_directorys_back_and_repair_removes_it() {
    let h = ImportApp::new().await;
    let (a, b) = (
        h.app.create_user("a@acme.test").await,
        h.app.create_user("b@acme.test").await,
    );
    let group = h.app.create_group("Ops", &[&a, &b]).await;
    let eng = map(&h, &group, "Engineering", Role::Member).await;
    let table = h.app.table.clone();
    let t = &h.tenant;
    table
        .delete(&keys::membership(t, &a, &eng), Condition::Always)
        .await
        .unwrap();
    let ghost = Item::new(keys::group_member(t, &group, "ghost"), 1, b"{}".to_vec());
    table.put(ghost, Condition::Always).await.unwrap();
    table
        .delete(&keys::community_member(t, &eng, &b), Condition::Always)
        .await
        .unwrap();
    let checker = Checker::new(table.clone());
    let report = checker.check(t).await.unwrap();
    let kinds: Vec<&str> = report.drift.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "community_entry_without_membership",
            "member_not_live",
            "membership_without_community_entry",
            "missing_group_source"
        ]
    );
    assert_eq!(report.drift_total(), 4);
    let repaired = checker.repair(t).await.unwrap();
    assert_eq!(repaired.after.drift_total(), 0, "{:#?}", repaired.after);
    assert_eq!(memberships_of(&h, &a).await.len(), 1);
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn a_member_file_row_with_a_deleted_users_e_mail_restores_the_same_user() {
    let h = ImportApp::new().await;
    let csv = "matricule,email,first_name,last_name,community,role\n\
               M7,dee@acme.test,Dee,Dow,Legal,member\n";
    let (_, job) = h.import(csv, "UPSERT", "").await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let found = h
        .app
        .get("/Users?filter=userName%20eq%20%22dee@acme.test%22")
        .await;
    let id = found.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = h
        .app
        .call(Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.memberships("M7").await,
        [],
        "a deleted member is in no list"
    );
    let again = csv.replace("Dee,Dow", "Dee,Doe");
    let (_, job) = h.import(&again, "UPSERT", "").await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let user = h.app.get(&format!("/Users/{id}")).await;
    assert_eq!(user.status, StatusCode::OK, "the same id is back");
    assert_eq!(
        user.body["name"]["familyName"], "Doe",
        "updated from the row"
    );
    let legal = (
        "Legal".to_owned(),
        "member".to_owned(),
        "invited".to_owned(),
    );
    assert_eq!(h.memberships("M7").await, [legal]);
    assert_invariant_holds(&h).await;
}

#[tokio::test]
async fn a_patch_that_sets_active_restores_a_deleted_user_and_any_other_patch_is_a_404() {
    let h = ImportApp::new().await;
    let u = h.app.create_user("eve@acme.test").await;
    let path = format!("/Users/{u}");
    h.app.call(Method::DELETE, &path, None).await;
    let rename = patch(json!([{"op": "replace", "path": "displayName", "value": "Eve"}]));
    let refused = h.app.call(Method::PATCH, &path, Some(rename)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let off = h.app.call(Method::PATCH, &path, Some(active(false))).await;
    assert_eq!(
        off.status,
        StatusCode::NOT_FOUND,
        "deactivating stays deleted"
    );
    // Entra's form: a path-less replace, the boolean as a string.
    let on = patch(json!([{"op": "Replace", "value": {"active": "True", "displayName": "Eve"}}]));
    let back = h.app.call(Method::PATCH, &path, Some(on)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.body["id"], u.as_str());
    assert_eq!(back.body["displayName"], "Eve", "the patch applies");
    assert_eq!(h.app.get(&path).await.status, StatusCode::OK);
    assert_invariant_holds(&h).await;
}
