//! Bad input gets a clear SCIM error and writes nothing.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::config::Config;
use serde_json::json;

use crate::helpers::{ENTERPRISE, GROUP, TestApp, USER};

async fn post_raw(app: &TestApp, body: &str, content_type: &str) -> crate::helpers::Answer {
    let req = Request::post(format!("{}/Users", app.base()))
        .header("authorization", format!("Bearer {}", app.acme.token))
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn malformed_bodies_are_invalid_syntax_and_write_nothing() {
    let app = TestApp::new().await;
    for body in [
        "{\"schemas\": [",
        "",
        "[1,2]",
        "\"text\"",
        "{\"userName\": \"x\"}",
    ] {
        post_raw(&app, body, "application/scim+json")
            .await
            .assert_scim_error(400, Some("invalidSyntax"));
    }
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn schema_violations_are_invalid_value_and_write_nothing() {
    let app = TestApp::new().await;
    let cases = [
        json!({"schemas": [USER]}),
        json!({"schemas": [USER], "userName": "   "}),
        json!({"schemas": [USER], "userName": 42}),
        json!({"schemas": [USER], "userName": "a", "active": "perhaps"}),
        json!({"schemas": [USER], "userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": true}]}),
        json!({"schemas": [USER, ENTERPRISE], "userName": "a", ENTERPRISE: "E1"}),
        json!({"schemas": [USER], "userName": "a", "name": "Ada"}),
    ];
    for body in cases {
        app.post("/Users", body)
            .await
            .assert_scim_error(400, Some("invalidValue"));
    }
    app.post("/Groups", json!({"schemas": [GROUP]}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.post("/Groups", json!({"schemas": [USER], "displayName": "x"}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
}

#[tokio::test]
async fn plain_application_json_is_accepted() {
    let app = TestApp::new().await;
    let a = post_raw(
        &app,
        &json!({"schemas": [USER], "userName": "j"}).to_string(),
        "application/json",
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_body_over_max_payload_size_is_413() {
    let app = TestApp::with_config(Config {
        max_payload: 2048,
        ..Config::default()
    })
    .await;
    let body = json!({"schemas": [USER], "userName": "big", "displayName": "x".repeat(4096)});
    app.post("/Users", body).await.assert_scim_error(413, None);
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn unknown_ids_and_endpoints_are_scim_404s() {
    let app = TestApp::new().await;
    app.get("/Users/00000000-0000-4000-8000-000000000000")
        .await
        .assert_scim_error(404, None);
    app.get("/Groups/nope").await.assert_scim_error(404, None);
    app.get("/Widgets").await.assert_scim_error(404, None);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": "x"}]});
    app.call(Method::PATCH, "/Users/nope", Some(patch))
        .await
        .assert_scim_error(404, None);
}

#[tokio::test]
async fn malformed_patch_documents_are_refused_with_their_keyword() {
    let app = TestApp::new().await;
    let id = app.create_user("p").await;
    let path = format!("/Users/{id}");
    let p = |ops| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let cases = [
        (
            json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
            "invalidSyntax",
        ),
        (p(json!([])), "invalidSyntax"),
        (
            p(json!([{"op": "merge", "path": "title", "value": "x"}])),
            "invalidSyntax",
        ),
        (p(json!([{"op": "add", "path": "title"}])), "invalidSyntax"),
        (p(json!([{"op": "remove"}])), "noTarget"),
        (
            p(json!([{"op": "add", "path": "name..givenName", "value": "x"}])),
            "invalidPath",
        ),
        (
            p(json!([{"op": "replace", "path": "meta", "value": {}}])),
            "mutability",
        ),
    ];
    for (body, keyword) in cases {
        app.call(Method::PATCH, &path, Some(body))
            .await
            .assert_scim_error(400, Some(keyword));
    }
    let too_many: Vec<_> = (0..1001)
        .map(|_| json!({"op": "add", "path": "title", "value": "x"}))
        .collect();
    app.call(Method::PATCH, &path, Some(p(json!(too_many))))
        .await
        .assert_scim_error(400, Some("tooMany"));
    assert_eq!(app.get(&path).await.body["meta"]["version"], r#"W/"1""#);
}
