//! Communities, group mappings and derived memberships, seen through SCIM.

use http::{Method, StatusCode};
use muster::auth::{NewTenant, ScimTokens, Tenants};
use muster::community::{Communities, GroupSelector, Mapping, Mappings, Role};
use muster::ids::TenantId;
use serde_json::{Value, json};

use crate::helpers::{GROUP, TestApp, USER, patch};

const MEMBERSHIPS: &str = "urn:muster:params:scim:schemas:extension:community:2.0:User";

fn tenant(app: &TestApp) -> TenantId {
    TenantId::parse(&app.acme.id).unwrap()
}

async fn community(app: &TestApp, name: &str) -> String {
    Communities::new(app.table.clone())
        .create(&tenant(app), name)
        .await
        .unwrap()
        .id
}

async fn map(app: &TestApp, group: GroupSelector, community: &str, role: Role) {
    let mapping = Mapping {
        group,
        community: community.to_owned(),
        role,
    };
    Mappings::new(app.table.clone())
        .set(&tenant(app), &mapping)
        .await
        .unwrap();
}

async fn memberships(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let u = app.get(&format!("/Users/{user}")).await.body;
    u[MEMBERSHIPS]["memberships"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    (
                        m["display"].as_str().unwrap().to_owned(),
                        m["role"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn send_patch(app: &TestApp, group: &str, ops: Value) {
    let a = app
        .call(Method::PATCH, &format!("/Groups/{group}"), Some(patch(ops)))
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.body);
}

#[tokio::test]
async fn two_groups_giving_two_roles_give_the_higher_and_removing_one_falls_back() {
    let app = TestApp::new().await;
    let c = community(&app, "Engineering").await;
    let user = app.create_user("ada").await;
    let readers = app.create_group("eng-readers", &[]).await;
    let writers = app.create_group("eng-writers", &[]).await;
    map(&app, GroupSelector::Id(readers.clone()), &c, Role::Member).await;
    map(
        &app,
        GroupSelector::Id(writers.clone()),
        &c,
        Role::Contributor,
    )
    .await;
    send_patch(
        &app,
        &readers,
        json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    assert_eq!(
        memberships(&app, &user).await,
        [("Engineering".into(), "member".into())]
    );
    send_patch(
        &app,
        &writers,
        json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    assert_eq!(
        memberships(&app, &user).await,
        [("Engineering".into(), "contributor".into())]
    );
    send_patch(
        &app,
        &writers,
        json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]),
    )
    .await;
    assert_eq!(
        memberships(&app, &user).await,
        [("Engineering".into(), "member".into())]
    );
    send_patch(
        &app,
        &readers,
        json!([{"op": "remove", "path": "members", "value": [{"value": user}]}]),
    )
    .await;
    assert!(memberships(&app, &user).await.is_empty());
}

#[tokio::test]
async fn a_mapping_by_display_name_applies_to_a_group_pushed_later() {
    let app = TestApp::new().await;
    let c = community(&app, "Sales").await;
    map(
        &app,
        GroupSelector::DisplayName("Sales Team".into()),
        &c,
        Role::Administrator,
    )
    .await;
    let user = app.create_user("sam").await;
    app.create_group("SALES TEAM", &[&user]).await;
    assert_eq!(
        memberships(&app, &user).await,
        [("Sales".into(), "administrator".into())]
    );
    let u = app.get(&format!("/Users/{user}")).await.body;
    let m = &u[MEMBERSHIPS]["memberships"][0];
    assert_eq!(
        m["status"], "invited",
        "new memberships wait with a pending invitation"
    );
    assert_eq!(m["value"], c.as_str());
    assert!(
        u["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(MEMBERSHIPS))
    );
}

#[tokio::test]
async fn changing_a_mapping_re_derives_the_members_of_the_group() {
    let app = TestApp::new().await;
    let (c, d) = (community(&app, "C").await, community(&app, "D").await);
    let users = [app.create_user("u1").await, app.create_user("u2").await];
    let g = app.create_group("G", &[&users[0], &users[1]]).await;
    map(&app, GroupSelector::Id(g.clone()), &c, Role::Member).await;
    let reconciler = muster::directory::Reconciler::new(app.table.clone());
    assert_eq!(reconciler.drain(&tenant(&app)).await.unwrap().changed, 2);
    assert_eq!(
        memberships(&app, &users[1]).await,
        [("C".into(), "member".into())]
    );
    map(&app, GroupSelector::Id(g.clone()), &c, Role::Administrator).await;
    map(&app, GroupSelector::Id(g.clone()), &d, Role::Contributor).await;
    reconciler.drain(&tenant(&app)).await.unwrap();
    let mut both = memberships(&app, &users[0]).await;
    both.sort();
    assert_eq!(
        both,
        [
            ("C".into(), "administrator".into()),
            ("D".into(), "contributor".into())
        ]
    );
    Mappings::new(app.table.clone())
        .remove(&tenant(&app), &GroupSelector::Id(g.clone()), &c)
        .await
        .unwrap();
    reconciler.drain(&tenant(&app)).await.unwrap();
    assert_eq!(
        memberships(&app, &users[0]).await,
        [("D".into(), "contributor".into())]
    );
}

#[tokio::test]
async fn deleting_the_group_or_the_user_takes_memberships_away_and_deactivating_suspends_them() {
    let app = TestApp::new().await;
    let c = community(&app, "C").await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let g = app.create_group("G", &[]).await;
    map(&app, GroupSelector::Id(g.clone()), &c, Role::Member).await;
    send_patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
    )
    .await;
    let off = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(
        app.call(Method::PATCH, &format!("/Users/{a}"), Some(off))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        memberships(&app, &a).await.len(),
        1,
        "a deactivated user keeps its memberships"
    );
    let u = app.get(&format!("/Users/{a}")).await.body;
    assert_eq!(u[MEMBERSHIPS]["memberships"][0]["status"], "suspended");
    assert_eq!(
        app.call(Method::DELETE, &format!("/Users/{a}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let restored = app.create_user("a").await;
    assert_eq!(
        restored, a,
        "a POST of the same userName restores the same id"
    );
    assert!(
        memberships(&app, &restored).await.is_empty(),
        "a restored user is in no group until the IdP adds it again"
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("/Groups/{g}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(memberships(&app, &b).await.is_empty());
}

#[tokio::test]
async fn communities_are_listed_filtered_and_read_but_not_written_over_scim() {
    let app = TestApp::new().await;
    let c = community(&app, "Marketing").await;
    community(&app, "Legal").await;
    let list = app.get("/Communities?sortBy=displayName").await.body;
    assert_eq!(list["totalResults"], 2);
    assert_eq!(list["Resources"][0]["displayName"], "Legal");
    let found = app
        .get("/Communities?filter=displayName%20eq%20%22marketing%22")
        .await
        .body;
    assert_eq!(found["Resources"][0]["id"], c.as_str());
    let one = app.get(&format!("/Communities/{c}")).await.body;
    assert_eq!(one["meta"]["resourceType"], "Community");
    let post = app.post("/Communities", json!({"schemas": ["urn:muster:params:scim:schemas:core:2.0:Community"], "displayName": "X"})).await;
    post.assert_scim_error(405, None);
    app.call(Method::DELETE, &format!("/Communities/{c}"), None)
        .await
        .assert_scim_error(405, None);
    let types = app.get("/ResourceTypes/Community").await.body;
    assert_eq!(types["endpoint"], "/Communities");
    let schema = app
        .get("/Schemas/urn:muster:params:scim:schemas:core:2.0:Community")
        .await;
    assert_eq!(schema.status, StatusCode::OK);
    let dup = Communities::new(app.table.clone())
        .create(&tenant(&app), "marketing")
        .await;
    let dup = muster::scim::ScimError::from(dup.unwrap_err());
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_user_outside_the_tenants_email_domains_is_refused_with_403() {
    let app = TestApp::new().await;
    let t = Tenants::new(app.table.clone())
        .create(NewTenant {
            name: "Domains".into(),
            domains: vec!["acme.example".into()],
            sync: true,
        })
        .await
        .unwrap();
    let token = ScimTokens::new(app.table.clone())
        .issue(&t.id)
        .await
        .unwrap()
        .token;
    let base = format!("/tenants/{}/scim/v2", t.id);
    let users = format!("{base}/Users");
    let post = |body: Value| app.call_as(&token, Method::POST, &users, Some(body), &[]);
    let foreign = post(json!({"schemas": [USER], "userName": "eve@evil.example"})).await;
    foreign.assert_scim_error(403, None);
    assert!(
        foreign.body["detail"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    let ok = post(json!({"schemas": [USER], "userName": "ann@acme.example"})).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let sub = post(
        json!({"schemas": [USER], "userName": "x1", "emails": [{"value": "bob@eu.acme.example"}]}),
    )
    .await;
    assert_eq!(sub.status, StatusCode::CREATED, "subdomains are allowed");
    let id = ok.body["id"].as_str().unwrap();
    let move_out = patch(
        json!([{"op": "replace", "path": "emails", "value": [{"value": "ann@gmail.example"}]}]),
    );
    let a = app
        .call_as(
            &token,
            Method::PATCH,
            &format!("{base}/Users/{id}"),
            Some(move_out),
            &[],
        )
        .await;
    a.assert_scim_error(403, None);
    let _ = GROUP;
}
