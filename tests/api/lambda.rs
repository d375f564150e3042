//! The Lambda path: API Gateway v2 events from `events/` converted by `lambda_http` exactly
//! as on Lambda, then served by the Router.

use axum::body::Body;
use http::StatusCode;
use serde_json::Value;

use http_body_util::BodyExt;
use muster::auth::Scope;
use tower::ServiceExt;

use crate::helpers::{Answer, OAuthApp, TestApp};

async fn invoke(app: &TestApp, event_file: &str) -> Answer {
    invoke_with(app, event_file, &[]).await
}

/// Sends the event after filling `{{tenant}}`, `{{token}}` and these other placeholders,
/// through the Router as the Lambda glue serves it.
async fn invoke_with(app: &TestApp, event_file: &str, fill: &[(&str, &str)]) -> Answer {
    let path = format!("{}/../events/{event_file}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap();
    let raw = fill.iter().fold(
        raw.replace("{{tenant}}", &app.acme.id)
            .replace("{{token}}", &app.acme.token),
        |raw, (k, v)| raw.replace(&format!("{{{{{k}}}}}"), v),
    );
    let request = lambda_http::request::from_str(&raw).expect("a valid API Gateway v2 event");
    let request = request.map(|body| Body::from(body.to_vec()));
    let router = muster_lambda::behind_api_gateway(app.router.clone());
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
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

#[tokio::test]
async fn on_lambda_the_allowlist_reads_api_gateways_source_ip_never_a_forged_first_hop() {
    let oauth = OAuthApp::new().await;
    let client = oauth
        .client(&oauth.app.acme.id, &[Scope::Scim], &["10.0.0.0/8"])
        .await;
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", client.client_id, client.client_secret),
    );
    let event = "apigw-token-forged-forwarded-for.json";
    // The client wrote 10.0.0.1 as the first hop; API Gateway saw 203.0.113.10.
    let forged = [("basic", basic.as_str()), ("source_ip", "203.0.113.10")];
    let a = invoke_with(&oauth.app, event, &forged).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(a.body["error"], "access_denied");
    let inside = [("basic", basic.as_str()), ("source_ip", "10.20.30.40")];
    let a = invoke_with(&oauth.app, event, &inside).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
