//! The `/v1` access-token middleware: scope `imports`, JSON errors.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{HeaderMap, Request, StatusCode};
use muster::auth::Scope;
use muster::config::Config;
use muster::http::{AppState, Principal, require_imports_scope};
use serde_json::{Value, json};

use crate::helpers::{OAuthApp, send_raw};
use crate::oauth::json_of;

fn v1_router(oauth: &OAuthApp) -> Router {
    let state =
        AppState::new(oauth.app.table.clone(), Config::default()).with_keys(oauth.keys.clone());
    Router::new()
        .route(
            "/v1/whoami",
            get(|p: Principal| async move {
                axum::Json(json!({"tenant": p.tenant.as_str(), "client_id": p.client_id}))
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_imports_scope,
        ))
        .with_state(state)
}

async fn whoami(router: &Router, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::get("/v1/whoami");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let (status, headers, body) = send_raw(router, req.body(Body::empty()).unwrap()).await;
    (status, headers, json_of(&body))
}

#[tokio::test]
async fn the_v1_middleware_needs_the_imports_scope_and_answers_json_errors() {
    let oauth = OAuthApp::new().await;
    let router = v1_router(&oauth);
    let importer = oauth
        .client(&oauth.app.acme.id, &[Scope::Imports], &[])
        .await;
    let token = oauth.token(&importer).await;
    let (status, _, body) = whoami(&router, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tenant"], oauth.app.acme.id.as_str());
    assert_eq!(body["client_id"], importer.client_id.as_str());

    let scim_only = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let token = oauth.token(&scim_only).await;
    let (status, headers, body) = whoami(&router, Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
    assert!(body["message"].is_string());
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );

    let (status, headers, body) = whoami(&router, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"muster\"");
    let (status, headers, body) = whoami(&router, Some(&oauth.app.acme.token)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "SCIM tokens are not access tokens"
    );
    assert_eq!(body["error"], "unauthorized");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
}
