//! SCIM Users: create, read, list, replace, patch, delete, uniqueness and versions.

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ENTERPRISE, TestApp, USER, patch, user};

#[tokio::test]
async fn creating_a_user_returns_201_with_location_meta_and_a_weak_etag() {
    let app = TestApp::new().await;
    let a = app
        .post(
            "/Users",
            json!({
                "schemas": [USER, ENTERPRISE],
                "userName": "ada@acme.test",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"value": "ada@acme.test", "type": "work", "primary": true}],
                ENTERPRISE: {"employeeNumber": "E001", "department": "Math"},
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().unwrap();
    let location = format!("http://scim.test{}/Users/{id}", app.base());
    assert_eq!(a.header("location"), Some(location.as_str()));
    assert_eq!(a.header("etag"), Some(r#"W/"1""#));
    assert_eq!(a.header("content-type"), Some("application/scim+json"));
    let meta = &a.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], location.as_str());
    assert_eq!(meta["version"], r#"W/"1""#);
    assert_eq!(meta["created"], meta["lastModified"]);
    assert_eq!(a.body["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(a.body[ENTERPRISE]["employeeNumber"], "E001");
    let read = app.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, a.body);
}

#[tokio::test]
async fn unknown_and_read_only_attributes_on_create_are_ignored() {
    let app = TestApp::new().await;
    let a = app
        .post(
            "/Users",
            json!({
                "schemas": [USER], "USERNAME": "bob", "id": "chosen-by-client",
                "meta": {"created": "1999-01-01T00:00:00Z"}, "favouriteColour": "blue",
                "groups": [{"value": "g1"}], "password": "hunter2",
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["userName"], "bob");
    assert_ne!(a.body["id"], "chosen-by-client");
    assert_ne!(a.body["meta"]["created"], "1999-01-01T00:00:00Z");
    for absent in ["favouriteColour", "groups", "password", "USERNAME"] {
        assert!(
            a.body.get(absent).is_none(),
            "{absent} must not be returned"
        );
    }
}

#[tokio::test]
async fn user_names_are_unique_per_tenant_ignoring_case() {
    let app = TestApp::new().await;
    app.create_user("Carol@Acme.test").await;
    let dup = app.post("/Users", user("carol@acme.TEST")).await;
    dup.assert_scim_error(409, Some("uniqueness"));
    let other = app
        .call_as(
            &app.beta.token,
            Method::POST,
            &format!("/tenants/{}/scim/v2/Users", app.beta.id),
            Some(user("carol@acme.test")),
            &[],
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::CREATED,
        "another tenant may use the same userName"
    );
}

#[tokio::test]
async fn employee_numbers_and_external_ids_are_unique_too() {
    let app = TestApp::new().await;
    let first = json!({"schemas": [USER, ENTERPRISE], "userName": "a", "externalId": "X1", ENTERPRISE: {"employeeNumber": "M7"}});
    assert_eq!(app.post("/Users", first).await.status, StatusCode::CREATED);
    let same_number = json!({"schemas": [USER, ENTERPRISE], "userName": "b", ENTERPRISE: {"employeeNumber": "M7"}});
    app.post("/Users", same_number)
        .await
        .assert_scim_error(409, Some("uniqueness"));
    let same_external = json!({"schemas": [USER], "userName": "c", "externalId": "X1"});
    app.post("/Users", same_external)
        .await
        .assert_scim_error(409, Some("uniqueness"));
    assert_eq!(app.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test]
async fn lists_page_in_a_stable_order_with_start_index_and_count() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.create_user(&format!("user{i}")).await;
    }
    let all = app.get("/Users").await.body;
    assert_eq!(all["totalResults"], 5);
    let ids: Vec<_> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    let page = app.get("/Users?startIndex=2&count=2").await.body;
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["Resources"][0]["id"], ids[1]);
    assert_eq!(page["Resources"][1]["id"], ids[2]);
    let zero = app.get("/Users?STARTINDEX=0&Count=1").await.body;
    assert_eq!(zero["startIndex"], 1, "startIndex below 1 means 1");
    assert_eq!(zero["Resources"][0]["id"], ids[0]);
    let none = app.get("/Users?count=0").await.body;
    assert_eq!(
        (none["totalResults"].clone(), none["itemsPerPage"].clone()),
        (json!(5), json!(0))
    );
    let past = app.get("/Users?startIndex=9").await.body;
    assert_eq!(past["Resources"], json!([]));
    app.get("/Users?count=ten")
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn put_replaces_the_user_and_frees_the_old_user_name() {
    let app = TestApp::new().await;
    let id = app.create_user("old-name").await;
    let body =
        json!({"schemas": [USER], "userName": "new-name", "displayName": "New", "unknownThing": 1});
    let a = app
        .call(Method::PUT, &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["userName"], "new-name");
    assert!(
        a.body.get("active").is_none(),
        "PUT replaces: attributes left out are cleared"
    );
    assert_eq!(a.body["meta"]["version"], r#"W/"2""#);
    app.create_user("old-name").await;
    app.post("/Users", user("NEW-NAME"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn deactivating_a_user_keeps_it_visible_as_identity_providers_expect() {
    let app = TestApp::new().await;
    let id = app.create_user("dee").await;
    let ops = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let a = app
        .call(Method::PATCH, &format!("/Users/{id}"), Some(ops))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["active"], false);
    assert_eq!(app.get(&format!("/Users/{id}")).await.body["active"], false);
    assert_eq!(
        app.get("/Users").await.body["Resources"][0]["active"],
        false
    );
}

#[tokio::test]
async fn patch_adds_replaces_and_removes_simple_paths_in_order() {
    let app = TestApp::new().await;
    let id = app.create_user("pat").await;
    let ops = patch(json!([
        {"op": "add", "path": "name.givenName", "value": "Pat"},
        {"op": "add", "path": "emails", "value": [{"value": "pat@acme.test", "type": "work"}]},
        {"op": "replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "E42"},
        {"op": "replace", "value": {"displayName": "Pat P", "name.familyName": "Smith", "id": id}},
        {"op": "add", "path": "title", "value": "Engineer"},
        {"op": "remove", "path": "title"},
    ]));
    let a = app
        .call(Method::PATCH, &format!("/Users/{id}"), Some(ops))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body["name"],
        json!({"givenName": "Pat", "familyName": "Smith"})
    );
    assert_eq!(
        a.body["emails"],
        json!([{"value": "pat@acme.test", "type": "work"}])
    );
    assert_eq!(a.body[ENTERPRISE]["employeeNumber"], "E42");
    assert_eq!(a.body["displayName"], "Pat P");
    assert!(a.body.get("title").is_none());
    assert_eq!(a.body["schemas"], json!([USER, ENTERPRISE]));
}

#[tokio::test]
async fn a_failing_patch_operation_leaves_the_user_untouched() {
    let app = TestApp::new().await;
    let id = app.create_user("atomic").await;
    let ops = patch(json!([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "active", "value": "perhaps"},
    ]));
    let a = app
        .call(Method::PATCH, &format!("/Users/{id}"), Some(ops))
        .await;
    a.assert_scim_error(400, Some("invalidValue"));
    let read = app.get(&format!("/Users/{id}")).await;
    assert!(read.body.get("displayName").is_none());
    assert_eq!(read.body["meta"]["version"], r#"W/"1""#);
    let ro = patch(json!([{"op": "replace", "path": "id", "value": "x"}]));
    app.call(Method::PATCH, &format!("/Users/{id}"), Some(ro))
        .await
        .assert_scim_error(400, Some("mutability"));
}

#[tokio::test]
async fn deleting_a_user_answers_204_and_frees_its_user_name() {
    let app = TestApp::new().await;
    let id = app.create_user("gone").await;
    let a = app
        .call(Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    app.get(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
    app.call(Method::DELETE, &format!("/Users/{id}"), None)
        .await
        .assert_scim_error(404, None);
    app.create_user("gone").await;
}

#[tokio::test]
async fn if_match_and_if_none_match_follow_the_version() {
    let app = TestApp::new().await;
    let id = app.create_user("ver").await;
    let path = format!("{}/Users/{id}", app.base());
    let ops = patch(json!([{"op": "replace", "path": "displayName", "value": "V"}]));
    let stale = app
        .call_as(
            &app.acme.token,
            Method::PATCH,
            &path,
            Some(ops.clone()),
            &[("if-match", r#"W/"7""#)],
        )
        .await;
    stale.assert_scim_error(412, None);
    let fresh = app
        .call_as(
            &app.acme.token,
            Method::PATCH,
            &path,
            Some(ops),
            &[("if-match", r#"W/"1""#)],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.header("etag"), Some(r#"W/"2""#));
    let cached = app
        .call_as(
            &app.acme.token,
            Method::GET,
            &path,
            None,
            &[("if-none-match", r#"W/"2""#)],
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let old = app
        .call_as(
            &app.acme.token,
            Method::GET,
            &path,
            None,
            &[("if-none-match", r#"W/"1""#)],
        )
        .await;
    assert_eq!(old.status, StatusCode::OK);
    let delete = app
        .call_as(
            &app.acme.token,
            Method::DELETE,
            &path,
            None,
            &[("if-match", r#"W/"1""#)],
        )
        .await;
    delete.assert_scim_error(412, None);
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_the_response() {
    let app = TestApp::new().await;
    let body = json!({"schemas": [USER, ENTERPRISE], "userName": "proj", "displayName": "P",
        "name": {"givenName": "G", "familyName": "F"}, ENTERPRISE: {"employeeNumber": "9"}});
    let id = app.post("/Users", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let only = app
        .get(&format!("/Users/{id}?attributes=userName,name.givenName"))
        .await
        .body;
    assert_eq!(
        only,
        json!({"schemas": [USER, ENTERPRISE], "id": id, "userName": "proj", "name": {"givenName": "G"}})
    );
    let without = app
        .get(&format!(
            "/Users/{id}?excludedAttributes=name,{ENTERPRISE}:employeeNumber,id"
        ))
        .await
        .body;
    assert!(without.get("name").is_none());
    assert_eq!(without["id"], id.as_str(), "id is returned always");
    assert!(without[ENTERPRISE].get("employeeNumber").is_none());
}
