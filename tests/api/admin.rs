//! The operator's `/admin` API: closed without the operator key, never opened by a tenant's
//! token, and the same operations as the `muster` admin commands.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::auth::sha256_hex;
use muster::config::Config;
use serde_json::{Value, json};

use crate::helpers::{Answer, GROUP, TestApp, USER};

const KEY: &str = "operator-key-for-tests";

async fn app() -> TestApp {
    TestApp::with_config(Config {
        operator_key_sha256: Some(sha256_hex(KEY.as_bytes())),
        ..Config::default()
    })
    .await
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/admin{path}"))
        .header("authorization", format!("Bearer {KEY}"));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    app.send(req.body(body).unwrap()).await
}

#[tokio::test]
async fn the_admin_api_is_closed_without_the_operator_key() {
    let app = app().await;
    let path = "/admin/tenants";
    for token in [None, Some("wrong"), Some(app.acme.token.as_str())] {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let a = app.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(a.body["error"], "unauthorized");
    }
    let closed = TestApp::new().await;
    let req = Request::get(path)
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        closed.send(req).await.status,
        StatusCode::UNAUTHORIZED,
        "no configured key: closed"
    );
}

#[tokio::test]
async fn a_tenant_created_over_http_is_ready_for_scim_and_lists_with_the_others() {
    let app = app().await;
    let a = admin(
        &app,
        Method::POST,
        "/tenants",
        Some(json!({"name": "Gamma", "domains": ["gamma.example"]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let token = a.body["scim_token"].as_str().unwrap();
    assert!(a.body["client_secret"].as_str().is_some());
    let base = a.body["scim_base_url"].as_str().unwrap();
    let me = app
        .call_as(
            token,
            Method::GET,
            &format!("{base}/Users/{}", a.body["admin_user_id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(me.body["userName"], "admin@gamma.example");
    let list = admin(&app, Method::GET, "/tenants", None).await;
    assert_eq!(list.body["tenants"].as_array().unwrap().len(), 3);
    let id = a.body["tenant_id"].as_str().unwrap();
    let bad = admin(&app, Method::POST, "/tenants", Some(json!({"name": " "}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let token_id = a.body["scim_token_id"].as_str().unwrap();
    let revoke = admin(
        &app,
        Method::DELETE,
        &format!("/tenants/{id}/tokens/{token_id}"),
        None,
    )
    .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = app
        .call_as(token, Method::GET, &format!("{base}/Users"), None, &[])
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working"
    );
    assert_eq!(
        admin(&app, Method::GET, "/tenants/no-such-tenant", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_mapping_set_over_http_re_derives_the_group_in_the_background() {
    let app = app().await;
    let t = app.acme.id.clone();
    let c = admin(
        &app,
        Method::POST,
        &format!("/tenants/{t}/communities"),
        Some(json!({"name": "Ops"})),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED);
    let user = app.create_user("op@acme.test").await;
    let group = app
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Ops Team", "members": [{"value": user}]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED);
    let m = admin(
        &app,
        Method::PUT,
        &format!("/tenants/{t}/mappings"),
        Some(json!({"group": "ops team", "community": "Ops", "role": "administrator"})),
    )
    .await;
    assert_eq!(m.status, StatusCode::ACCEPTED, "{}", m.body);
    assert_eq!(m.body["rederiving_groups"], json!([group.body["id"]]));
    let ext = "urn:muster:params:scim:schemas:extension:community:2.0:User";
    let mut role = Value::Null;
    for _ in 0..200 {
        role = app.get(&format!("/Users/{user}")).await.body[ext]["memberships"][0]["role"].clone();
        if role == "administrator" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(role, "administrator");
    let listed = admin(&app, Method::GET, &format!("/tenants/{t}/mappings"), None).await;
    assert_eq!(
        listed.body["mappings"][0]["group"],
        json!({"by": "displayName", "value": "ops team"})
    );
    let unknown = admin(
        &app,
        Method::PUT,
        &format!("/tenants/{t}/mappings"),
        Some(json!({"group": "x", "community": "Nope"})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let _ = USER;
}

#[tokio::test]
async fn clients_and_administrators_are_managed_over_http() {
    let app = app().await;
    let t = app.acme.id.clone();
    let c = admin(
        &app,
        Method::POST,
        &format!("/tenants/{t}/clients"),
        Some(json!({"name": "hr", "scopes": ["imports"]})),
    )
    .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let id = c.body["client_id"].as_str().unwrap();
    let listed = admin(&app, Method::GET, &format!("/tenants/{t}/clients"), None).await;
    assert!(
        !listed
            .body
            .to_string()
            .contains(c.body["client_secret"].as_str().unwrap())
    );
    assert_eq!(
        admin(
            &app,
            Method::DELETE,
            &format!("/tenants/{t}/clients/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin(
            &app,
            Method::DELETE,
            &format!("/tenants/{t}/clients/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let user = app.create_user("chief@acme.test").await;
    let a = admin(
        &app,
        Method::POST,
        &format!("/tenants/{t}/admins"),
        Some(json!({"user": "chief@acme.test"})),
    )
    .await;
    assert_eq!(
        (a.status, a.body["user_id"].as_str()),
        (StatusCode::OK, Some(user.as_str()))
    );
}
