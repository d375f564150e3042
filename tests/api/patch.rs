//! PATCH in the dialects Entra ID and Okta send (RFC 7644 §3.5.2).

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, TestApp, USER, patch};

async fn patched(app: &TestApp, id: &str, ops: Value) -> Value {
    let a = app
        .call(Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
}

async fn user_with_work_email(app: &TestApp) -> String {
    let body = json!({"schemas": [USER], "userName": "pat", "title": "Dev",
        "emails": [{"value": "pat@work.test", "type": "work", "primary": true}]});
    app.post("/Users", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_value_path_replace_changes_the_matching_value() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let ops = json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "pat@new.test"}]);
    let user = patched(&app, &id, ops).await;
    assert_eq!(
        user["emails"],
        json!([{"value": "pat@new.test", "type": "work", "primary": true}])
    );
}

#[tokio::test]
async fn a_value_path_that_matches_nothing_adds_a_value_built_from_the_filter() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let ops = json!([
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+33 6 00 00 00 00"},
        {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Lyon"},
    ]);
    let user = patched(&app, &id, ops).await;
    assert_eq!(
        user["phoneNumbers"],
        json!([{"type": "mobile", "value": "+33 6 00 00 00 00"}])
    );
    assert_eq!(
        user["addresses"],
        json!([{"type": "work", "locality": "Lyon"}])
    );
}

#[tokio::test]
async fn entra_path_less_adds_use_value_paths_dotted_names_and_urns_as_keys() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let ops = json!([{"op": "Add", "value": {
        "emails[type eq \"work\"].value": "pat@entra.test",
        "name.givenName": "Pat", "name.familyName": "Doe",
        (format!("{ENTERPRISE}:employeeNumber")): "M-9",
        (format!("{ENTERPRISE}:department")): "R&D",
        "displayName": "Pat Doe",
    }}]);
    let user = patched(&app, &id, ops).await;
    assert_eq!(user["emails"][0]["value"], "pat@entra.test");
    assert_eq!(
        user["name"],
        json!({"givenName": "Pat", "familyName": "Doe"})
    );
    assert_eq!(
        user[ENTERPRISE],
        json!({"employeeNumber": "M-9", "department": "R&D"})
    );
    assert_eq!(user["displayName"], "Pat Doe");
}

#[tokio::test]
async fn okta_deactivates_with_a_path_less_replace_carrying_the_id() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let user = patched(
        &app,
        &id,
        json!([{"op": "replace", "value": {"id": id, "active": false}}]),
    )
    .await;
    assert_eq!(user["active"], false);
}

#[tokio::test]
async fn manager_is_accepted_as_a_bare_id_or_an_object_and_removed_by_path() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let boss = app.create_user("boss").await;
    let path = format!("{ENTERPRISE}:manager");
    let user = patched(
        &app,
        &id,
        json!([{"op": "Add", "path": path, "value": boss}]),
    )
    .await;
    assert_eq!(user[ENTERPRISE]["manager"], json!({"value": boss}));
    let user = patched(&app, &id, json!([{"op": "replace", "path": path, "value": {"value": "other", "$ref": "../Users/other"}}])).await;
    assert_eq!(user[ENTERPRISE]["manager"]["value"], "other");
    let user = patched(&app, &id, json!([{"op": "Remove", "path": path}])).await;
    assert!(user.get(ENTERPRISE).is_none(), "{user}");
}

#[tokio::test]
async fn empty_strings_and_nulls_clear_attributes() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let user = patched(
        &app,
        &id,
        json!([
            {"op": "replace", "path": "title", "value": ""},
            {"op": "replace", "path": "emails", "value": null},
        ]),
    )
    .await;
    assert!(user.get("title").is_none());
    assert!(user.get("emails").is_none());
}

#[tokio::test]
async fn a_new_primary_value_takes_primary_from_the_old_one() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let ops = json!([{"op": "add", "path": "emails", "value": [{"value": "pat@home.test", "type": "home", "primary": true}]}]);
    let user = patched(&app, &id, ops).await;
    assert_eq!(
        user["emails"],
        json!([
            {"value": "pat@work.test", "type": "work", "primary": false},
            {"value": "pat@home.test", "type": "home", "primary": true},
        ])
    );
}

#[tokio::test]
async fn removing_a_value_path_removes_only_the_matching_values() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    patched(
        &app,
        &id,
        json!([{"op": "add", "path": "emails", "value": [{"value": "o@x.test", "type": "other"}]}]),
    )
    .await;
    let user = patched(
        &app,
        &id,
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
    )
    .await;
    assert_eq!(
        user["emails"],
        json!([{"value": "pat@work.test", "type": "work", "primary": true}])
    );
    let user = patched(
        &app,
        &id,
        json!([{"op": "remove", "path": "emails[type eq \"nothing\"]"}]),
    )
    .await;
    assert_eq!(user["emails"].as_array().unwrap().len(), 1);
    let bad = app
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(patch(
                json!([{"op": "add", "path": "title[value eq \"x\"]", "value": "y"}]),
            )),
        )
        .await;
    bad.assert_scim_error(400, Some("invalidPath"));
}

#[tokio::test]
async fn okta_removes_a_group_member_by_value_filter_and_renames_with_the_id_in_the_value() {
    let app = TestApp::new().await;
    let (a, b) = (app.create_user("a").await, app.create_user("b").await);
    let g = app.create_group("Okta Group", &[&a, &b]).await;
    let path = format!("/Groups/{g}");
    let ops = patch(json!([
        {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
        {"op": "replace", "value": {"id": g, "displayName": "Okta Group 2"}},
    ]));
    assert_eq!(
        app.call(Method::PATCH, &path, Some(ops)).await.status,
        StatusCode::NO_CONTENT
    );
    let group = app.get(&path).await.body;
    assert_eq!(group["displayName"], "Okta Group 2");
    assert_eq!(
        group["members"],
        json!([{"value": b, "$ref": format!("http://scim.test{}/Users/{b}", app.base()), "type": "User"}])
    );
    let vague = patch(json!([{"op": "remove", "path": "members[display eq \"x\"]"}]));
    app.call(Method::PATCH, &path, Some(vague))
        .await
        .assert_scim_error(400, Some("invalidPath"));
}

#[tokio::test]
async fn entra_adds_several_members_in_several_operations_of_one_request() {
    let app = TestApp::new().await;
    let ids: Vec<String> = futures_ids(&app, 3).await;
    let g = app.create_group("Entra Group", &[]).await;
    let ops = patch(json!([
        {"op": "Add", "path": "members", "value": [{"value": ids[0]}]},
        {"op": "Add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]},
        {"op": "Remove", "path": "members", "value": [{"value": ids[1]}]},
    ]));
    assert_eq!(
        app.call(Method::PATCH, &format!("/Groups/{g}"), Some(ops))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let group = app.get(&format!("/Groups/{g}")).await.body;
    let mut got: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    got.sort();
    let mut want = vec![ids[0].as_str(), ids[2].as_str()];
    want.sort();
    assert_eq!(got, want);
}

async fn futures_ids(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.create_user(&format!("member{i}")).await);
    }
    ids
}

#[tokio::test]
async fn a_path_naming_the_enterprise_extension_adds_replaces_and_removes_it_whole() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let user = patched(&app, &id, json!([{"op": "add", "path": ENTERPRISE, "value": {"employeeNumber": "1", "division": "D"}}])).await;
    assert_eq!(
        user[ENTERPRISE],
        json!({"employeeNumber": "1", "division": "D"})
    );
    let user = patched(
        &app,
        &id,
        json!([{"op": "replace", "path": ENTERPRISE, "value": {"department": "X"}}]),
    )
    .await;
    assert_eq!(user[ENTERPRISE], json!({"department": "X"}));
    assert_eq!(user["schemas"], json!([USER, ENTERPRISE]));
    let user = patched(&app, &id, json!([{"op": "remove", "path": ENTERPRISE}])).await;
    assert!(user.get(ENTERPRISE).is_none());
    assert_eq!(user["schemas"], json!([USER]));
}

#[tokio::test]
async fn entras_wrapped_single_values_are_unwrapped_and_other_arrays_still_refused() {
    let app = TestApp::new().await;
    let id = user_with_work_email(&app).await;
    let boss = app.create_user("boss").await;
    let wrapped = |v: &str| json!([{"$ref": null, "value": v}]);
    let manager = format!("{ENTERPRISE}:manager");
    let user = patched(
        &app,
        &id,
        json!([
            {"op": "Add", "path": manager, "value": wrapped(&boss)},
            {"op": "Replace", "path": "displayName", "value": wrapped("Pat Doe")},
            {"op": "Replace", "path": "title", "value": wrapped("Lead")}
        ]),
    )
    .await;
    assert_eq!(user[ENTERPRISE]["manager"], json!({"value": boss}));
    assert_eq!(user["displayName"], "Pat Doe");
    assert_eq!(user["title"], "Lead");
    let two = json!([{"op": "Replace", "path": "title", "value": ["a", "b"]}]);
    let refused = app
        .call(Method::PATCH, &format!("/Users/{id}"), Some(patch(two)))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let body = json!({"schemas": [USER], "userName": "wrapped", "displayName": wrapped("W")});
    let created = app.post("/Users", body).await;
    assert_eq!(created.body["displayName"], "W", "{}", created.body);
}
