//! SCIM Groups: members stored one item per member, member PATCH in constant store work.

use std::sync::Arc;

use http::{Method, StatusCode};
use muster::config::Config;
use muster::store::{EmbeddedTable, Table};
use serde_json::{Value, json};

use crate::counting::CountingTable;
use crate::helpers::{GROUP, TestApp, patch};

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_group_is_created_with_its_members_and_read_back() {
    let app = TestApp::new().await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let id = app.create_group("Engineering", &[&a, &b]).await;
    let g = app.get(&format!("/Groups/{id}")).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["displayName"], "Engineering");
    assert_eq!(g.body["meta"]["resourceType"], "Group");
    assert_eq!(member_ids(&g.body), sorted(&[&a, &b]));
    let member = &g.body["members"][0];
    assert_eq!(member["type"], "User");
    assert!(
        member["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Users/{}", member["value"].as_str().unwrap()))
    );
    let user = app.get(&format!("/Users/{a}")).await.body;
    assert_eq!(
        user["groups"],
        json!([{"value": id, "$ref": format!("http://scim.test{}/Groups/{id}", app.base()), "type": "direct", "display": "Engineering"}])
    );
}

#[tokio::test]
async fn group_display_names_are_unique_ignoring_case() {
    let app = TestApp::new().await;
    app.create_group("Sales", &[]).await;
    let dup = app
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "SALES"}),
        )
        .await;
    dup.assert_scim_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn a_member_that_is_not_a_user_of_the_tenant_is_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let body = json!({"schemas": [GROUP], "displayName": "Ghosts", "members": [{"value": "no-such-user"}]});
    app.post("/Groups", body)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
    let g = app.create_group("Real", &[]).await;
    let ops =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]));
    app.call(Method::PATCH, &format!("/Groups/{g}"), Some(ops))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn member_patches_add_and_remove_only_the_members_named_and_answer_204() {
    let app = TestApp::new().await;
    let (a, b, c) = (
        app.create_user("a").await,
        app.create_user("b").await,
        app.create_user("c").await,
    );
    let g = app.create_group("Team", &[&a]).await;
    let path = format!("/Groups/{g}");
    let add =
        patch(json!([{"op": "Add", "path": "members", "value": [{"value": b}, {"value": c}]}]));
    let r = app.call(Method::PATCH, &path, Some(add.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    assert_eq!(
        app.call(Method::PATCH, &path, Some(add)).await.status,
        StatusCode::NO_CONTENT,
        "re-adding is fine"
    );
    let remove = patch(json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}]));
    assert_eq!(
        app.call(Method::PATCH, &path, Some(remove.clone()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::PATCH, &path, Some(remove)).await.status,
        StatusCode::NO_CONTENT,
        "removing an absent member is fine"
    );
    assert_eq!(member_ids(&app.get(&path).await.body), sorted(&[&b, &c]));
    let rename = patch(json!([{"op": "replace", "value": {"displayName": "Team 2"}}]));
    assert_eq!(
        app.call(Method::PATCH, &path, Some(rename)).await.status,
        StatusCode::NO_CONTENT
    );
    let read = app.get(&path).await.body;
    assert_eq!(read["displayName"], "Team 2");
    assert_eq!(member_ids(&read), sorted(&[&b, &c]));
    let clear = patch(json!([{"op": "remove", "path": "members"}]));
    app.call(Method::PATCH, &path, Some(clear)).await;
    assert!(app.get(&path).await.body.get("members").is_none());
}

#[tokio::test]
async fn put_replaces_the_member_list() {
    let app = TestApp::new().await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let g = app.create_group("Ops", &[&a]).await;
    let body = json!({"schemas": [GROUP], "displayName": "Ops", "members": [{"value": b}]});
    let r = app
        .call(Method::PUT, &format!("/Groups/{g}"), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), vec![b.clone()]);
    assert!(
        app.get(&format!("/Users/{a}"))
            .await
            .body
            .get("groups")
            .is_none()
    );
}

#[tokio::test]
async fn deleting_users_and_groups_removes_their_memberships() {
    let app = TestApp::new().await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let g = app.create_group("G", &[&a, &b]).await;
    assert_eq!(
        app.call(Method::DELETE, &format!("/Users/{a}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        member_ids(&app.get(&format!("/Groups/{g}")).await.body),
        vec![b.clone()]
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("/Groups/{g}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        app.get(&format!("/Users/{b}"))
            .await
            .body
            .get("groups")
            .is_none()
    );
    app.create_group("G", &[]).await;
}

async fn counted_app() -> (TestApp, Arc<std::sync::Mutex<crate::counting::Calls>>) {
    let counting = CountingTable::new(Arc::new(EmbeddedTable::in_memory()));
    let calls = counting.calls.clone();
    let table: Arc<dyn Table> = Arc::new(counting);
    (TestApp::with_parts(table, Config::default()).await, calls)
}

#[tokio::test]
async fn reading_a_group_without_members_never_reads_its_member_partition() {
    let (app, calls) = counted_app().await;
    let a = app.create_user("a").await;
    let g = app.create_group("Big", &[&a]).await;
    calls.lock().unwrap().queried.clear();
    let r = app
        .get(&format!("/Groups/{g}?excludedAttributes=members"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("members").is_none());
    let queried = calls.lock().unwrap().queried.clone();
    assert!(
        queried.iter().all(|pk| !pk.contains("#G#")),
        "member partition was read: {queried:?}"
    );
    app.get("/Groups?excludedAttributes=members").await;
    let queried = calls.lock().unwrap().queried.clone();
    assert!(
        queried.iter().all(|pk| !pk.contains("#G#")),
        "member partition was read: {queried:?}"
    );
}

#[tokio::test]
async fn adding_one_member_to_a_large_group_costs_the_same_store_work_as_to_a_small_one() {
    let (app, calls) = counted_app().await;
    let mut cost = Vec::new();
    for size in [1usize, 300] {
        let mut members = Vec::new();
        for i in 0..size {
            members.push(app.create_user(&format!("m{size}-{i}")).await);
        }
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        let g = app.create_group(&format!("G{size}"), &refs).await;
        let newcomer = app.create_user(&format!("new{size}")).await;
        *calls.lock().unwrap() = Default::default();
        let ops = patch(json!([{"op": "add", "path": "members", "value": [{"value": newcomer}]}]));
        assert_eq!(
            app.call(Method::PATCH, &format!("/Groups/{g}"), Some(ops))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let c = calls.lock().unwrap().clone();
        assert!(
            c.queried.iter().all(|pk| !pk.contains("#G#")),
            "the member partition was read"
        );
        cost.push((c.reads, c.writes));
    }
    assert_eq!(cost[0], cost[1], "store calls for 1 vs 300 members");
}

#[tokio::test]
async fn adding_a_present_member_or_removing_an_absent_one_writes_nothing() {
    let (app, calls) = counted_app().await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let g = app.create_group("G", &[&a]).await;
    *calls.lock().unwrap() = Default::default();
    let ops = patch(json!([
        {"op": "add", "path": "members", "value": [{"value": a}]},
        {"op": "remove", "path": format!("members[value eq \"{b}\"]")}
    ]));
    let answer = app
        .call(Method::PATCH, &format!("/Groups/{g}"), Some(ops))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    assert_eq!(calls.lock().unwrap().writes, 0);
    assert_eq!(
        calls.lock().unwrap().activity,
        1,
        "the request itself is in the activity log"
    );
    let real = patch(json!([{"op": "add", "path": "members", "value": [{"value": b}]}]));
    app.call(Method::PATCH, &format!("/Groups/{g}"), Some(real))
        .await;
    assert!(calls.lock().unwrap().writes > 0, "a real change writes");
    let members = app.get(&format!("/Groups/{g}")).await.body["members"].clone();
    assert_eq!(members.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_group_with_entras_own_schema_urn_is_created_and_its_attributes_ignored() {
    let app = TestApp::new().await;
    let adscim = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", adscim],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Group1DisplayName",
        adscim: {"description": "ignored"},
        "members": []
    });
    let created = app.post("/Groups", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["displayName"], "Group1DisplayName");
    assert!(created.body.get(adscim).is_none());
    assert_eq!(
        created.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    let user_on_a_group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "x"});
    app.post("/Groups", user_on_a_group)
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn a_group_patch_that_asks_for_attributes_answers_200_with_them_and_otherwise_204() {
    let app = TestApp::new().await;
    let a = app.create_user("a").await;
    let g = app.create_group("G", &[]).await;
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": a}]}]));
    let path = format!("/Groups/{g}?attributes=members");
    let answer = app.call(Method::PATCH, &path, Some(add.clone())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["members"][0]["value"], a.as_str());
    assert!(
        answer.body.get("displayName").is_none(),
        "only what was asked"
    );
    let excluded = format!("/Groups/{g}?excludedAttributes=members");
    let answer = app.call(Method::PATCH, &excluded, Some(add.clone())).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["displayName"], "G");
    assert!(answer.body.get("members").is_none());
    let plain = app
        .call(Method::PATCH, &format!("/Groups/{g}"), Some(add))
        .await;
    assert_eq!(plain.status, StatusCode::NO_CONTENT);
}
