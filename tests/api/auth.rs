//! Bearer tokens: bound to one tenant, stored hashed, and one 401 for every failure.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::store::{Query, keys, query_all};
use serde_json::Value;

use crate::helpers::{Answer, TestApp, user};

fn assert_denied(a: &Answer) {
    a.assert_scim_error(401, None);
    assert_eq!(
        a.header("www-authenticate"),
        Some("Bearer realm=\"muster\"")
    );
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_with_www_authenticate() {
    let app = TestApp::new().await;
    let req = Request::get(format!("{}/Users", app.base()))
        .body(Body::empty())
        .unwrap();
    assert_denied(&app.send(req).await);
    let basic = Request::get(format!("{}/Users", app.base()))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .unwrap();
    assert_denied(&app.send(basic).await);
}

#[tokio::test]
async fn another_tenants_token_a_forged_token_and_an_unknown_tenant_look_the_same() {
    let app = TestApp::new().await;
    let path = format!("{}/Users", app.base());
    let foreign = app
        .call_as(&app.beta.token, Method::GET, &path, None, &[])
        .await;
    let forged_secret = format!("{}x", &app.acme.token[..app.acme.token.len() - 1]);
    let forged = app
        .call_as(&forged_secret, Method::GET, &path, None, &[])
        .await;
    let garbage = app
        .call_as("not-a-token", Method::GET, &path, None, &[])
        .await;
    let unknown = app
        .call_as(
            &app.acme.token,
            Method::GET,
            "/tenants/nobody/scim/v2/Users",
            None,
            &[],
        )
        .await;
    let invalid = app
        .call_as(
            &app.acme.token,
            Method::GET,
            "/tenants/NOT%20VALID/scim/v2/Users",
            None,
            &[],
        )
        .await;
    for a in [&foreign, &forged, &garbage, &unknown, &invalid] {
        assert_denied(a);
        assert_eq!(a.body, foreign.body, "every refusal reads the same");
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::new().await;
    let req = Request::get(format!("{}/Users", app.base()))
        .header("authorization", format!("bearer {}", app.acme.token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn one_tenant_never_sees_or_touches_another_tenants_users() {
    let app = TestApp::new().await;
    let id = app.create_user("secret@acme.test").await;
    let beta = format!("/tenants/{}/scim/v2", app.beta.id);
    let t = &app.beta.token;
    let read = app
        .call_as(t, Method::GET, &format!("{beta}/Users/{id}"), None, &[])
        .await;
    read.assert_scim_error(404, None);
    let list = app
        .call_as(t, Method::GET, &format!("{beta}/Users"), None, &[])
        .await;
    assert_eq!(list.body["totalResults"], 0);
    let put = app
        .call_as(
            t,
            Method::PUT,
            &format!("{beta}/Users/{id}"),
            Some(user("x")),
            &[],
        )
        .await;
    put.assert_scim_error(404, None);
    let delete = app
        .call_as(t, Method::DELETE, &format!("{beta}/Users/{id}"), None, &[])
        .await;
    delete.assert_scim_error(404, None);
    assert_eq!(
        app.get(&format!("/Users/{id}")).await.body["userName"],
        "secret@acme.test"
    );
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = TestApp::new().await;
    let secret = app.acme.token.split_once('.').unwrap().1;
    let pk = keys::tenant_pk(&muster::ids::TenantId::parse(&app.acme.id).unwrap());
    let items = query_all(&*app.table, Query::prefix(pk, "TOKEN#"))
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let stored = String::from_utf8(items[0].body.clone()).unwrap();
    assert!(
        !stored.contains(secret),
        "the secret is in the table: {stored}"
    );
    let record: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(record["secret_sha256"].as_str().unwrap().len(), 64);
    assert!(secret.len() >= 43, "at least 256 bits of secret");
}
