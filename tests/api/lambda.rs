//! The Lambda path: API Gateway v2 events from `events/` converted by `lambda_http` exactly
//! as on Lambda, then served by the Router.

use axum::body::Body;
use http::StatusCode;
use serde_json::Value;

use crate::helpers::{Answer, TestApp};

async fn invoke(app: &TestApp, event_file: &str) -> Answer {
    let path = format!("{}/../events/{event_file}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap();
    let raw = raw
        .replace("{{tenant}}", &app.acme.id)
        .replace("{{token}}", &app.acme.token);
    let request = lambda_http::request::from_str(&raw).expect("a valid API Gateway v2 event");
    let request = request.map(|body| Body::from(body.to_vec()));
    app.send(request).await
}

#[tokio::test]
async fn an_api_gateway_create_user_event_creates_the_user_with_an_https_location() {
    let app = TestApp::new().await;
    let a = invoke(&app, "apigw-scim-create-user.json").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let location = a.header("location").unwrap();
    assert!(
        location.starts_with(&format!(
            "https://abc123.execute-api.eu-west-1.amazonaws.com/tenants/{}/scim/v2/Users/",
            app.acme.id
        )),
        "{location}"
    );
    let list = invoke(&app, "apigw-scim-list-users.json").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["totalResults"], 1);
    assert_eq!(list.body["Resources"][0]["userName"], "ada@contoso.example");
}

#[tokio::test]
async fn an_api_gateway_discovery_event_is_answered() {
    let app = TestApp::new().await;
    let a = invoke(&app, "apigw-scim-service-provider-config.json").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["patch"]["supported"], Value::Bool(true));
}
