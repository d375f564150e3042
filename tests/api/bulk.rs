//! Bulk (RFC 7644 §3.7): bulkId references, failOnErrors, cycles and limits.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{GROUP, TestApp, USER, patch};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn bulk(app: &TestApp, ops: Value, fail_on_errors: Option<u64>) -> Vec<Value> {
    let mut body = json!({"schemas": [BULK], "Operations": ops});
    if let Some(n) = fail_on_errors {
        body["failOnErrors"] = json!(n);
    }
    let a = app.call(Method::POST, "/Bulk", Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    a.body["Operations"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_user_created_and_added_to_a_group_in_one_request_resolves_its_bulk_id() {
    let app = TestApp::new().await;
    let ops = json!([
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [GROUP], "displayName": "Tour", "members": [{"type": "User", "value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"schemas": [USER], "userName": "bulk-user"}},
        {"method": "PATCH", "path": "/Groups/bulkId:g", "data": patch(json!([{"op": "replace", "path": "displayName", "value": "Tour 2"}]))},
    ]);
    let results = bulk(&app, ops, None).await;
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "201", "204"], "{results:?}");
    let user_id = results[1]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let group_loc = results[0]["location"].as_str().unwrap();
    assert_eq!(results[0]["bulkId"], "g");
    assert_eq!(results[0]["version"], "W/\"1\"");
    let group_id = group_loc.rsplit('/').next().unwrap();
    let group = app.get(&format!("/Groups/{group_id}")).await.body;
    assert_eq!(group["displayName"], "Tour 2");
    assert_eq!(group["members"][0]["value"], user_id);
}

#[tokio::test]
async fn fail_on_errors_stops_processing_after_that_many_errors() {
    let app = TestApp::new().await;
    app.create_user("taken").await;
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "1", "data": {"schemas": [USER], "userName": "taken"}},
        {"method": "POST", "path": "/Users", "bulkId": "2", "data": {"schemas": [USER], "userName": "fresh"}},
        {"method": "DELETE", "path": "/Users/no-such-id"},
        {"method": "POST", "path": "/Users", "bulkId": "3", "data": {"schemas": [USER], "userName": "never"}},
    ]);
    let results = bulk(&app, ops, Some(2)).await;
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["409", "201", "404"]);
    assert_eq!(results[0]["response"]["scimType"], "uniqueness");
    let names = app.get("/Users?sortBy=userName").await.body;
    let names: Vec<&str> = names["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fresh", "taken"]);
}

#[tokio::test]
async fn circular_bulk_id_references_fail_with_409_and_write_nothing_for_them() {
    let app = TestApp::new().await;
    let ops = json!([
        {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"schemas": [GROUP], "displayName": "A", "members": [{"value": "bulkId:b"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"schemas": [GROUP], "displayName": "B", "members": [{"value": "bulkId:a"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER], "userName": "c"}},
    ]);
    let results = bulk(&app, ops, None).await;
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["409", "409", "201"]);
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
}

#[tokio::test]
async fn a_bulk_request_over_max_operations_is_413_and_malformed_ones_are_400() {
    let app = TestApp::new().await;
    let ops: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": {"schemas": [USER], "userName": format!("u{i}")}}))
        .collect();
    let a = app
        .call(
            Method::POST,
            "/Bulk",
            Some(json!({"schemas": [BULK], "Operations": ops})),
        )
        .await;
    a.assert_scim_error(413, None);
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
    let a = app
        .call(Method::POST, "/Bulk", Some(json!({"Operations": []})))
        .await;
    a.assert_scim_error(400, Some("invalidSyntax"));
    let results = bulk(&app, json!([{"method": "GET", "path": "/Users"}, {"method": "POST", "path": "/Users", "data": {}}]), None).await;
    assert!(results.iter().all(|r| r["status"] == "400"), "{results:?}");
}

#[tokio::test]
async fn bulk_operations_honour_versions() {
    let app = TestApp::new().await;
    let id = app.create_user("v").await;
    let ops = json!([{"method": "PUT", "path": format!("/Users/{id}"), "version": "W/\"9\"", "data": {"schemas": [USER], "userName": "v2"}}]);
    let results = bulk(&app, ops, None).await;
    assert_eq!(results[0]["status"], "412");
    assert_eq!(app.get(&format!("/Users/{id}")).await.body["userName"], "v");
}
