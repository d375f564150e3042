//! OAuth 2.0 client credentials: the token endpoint, access tokens on SCIM routes, key
//! rotation, scopes and address allowlists.

use axum::body::Body;
use http::{Request, StatusCode};
use muster::auth::{Claims, Scope, SigningKeys};
use muster::ids::TenantId;
use muster::store::{Query, keys, query_all};
use serde_json::{Value, json};

use crate::helpers::{OAuthApp, base64, send_raw};

const GRANT: &str = "grant_type=client_credentials";

pub fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.unwrap().as_secs()).unwrap()
}

fn tenant_id(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// Asserts the answer of a rejected access token on a SCIM route.
fn assert_scim_401(a: &crate::helpers::Answer) {
    a.assert_scim_error(401, None);
    assert_eq!(
        a.header("www-authenticate"),
        Some("Bearer realm=\"muster\"")
    );
}

#[tokio::test]
async fn a_client_gets_a_token_with_http_basic_and_uses_it_on_its_tenants_scim_routes() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let basic = (client.client_id.as_str(), client.client_secret.as_str());
    let (status, headers, body) = oauth.token_request(GRANT, Some(basic), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    let body = json_of(&body);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "scim");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    let users = oauth.scim_users(&oauth.app.acme.id, token, None).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    let created = oauth
        .app
        .call_as(
            token,
            http::Method::POST,
            &format!("{}/Users", oauth.app.base()),
            Some(crate::helpers::user("ada@acme.test")),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let scim_token = oauth
        .scim_users(&oauth.app.acme.id, &oauth.app.acme.token, None)
        .await;
    assert_eq!(
        scim_token.status,
        StatusCode::OK,
        "SCIM tokens keep working"
    );
}

#[tokio::test]
async fn a_client_gets_a_token_with_form_fields_and_percent_encoded_basic_credentials() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &Scope::ALL, &[]).await;
    let form = format!(
        "{GRANT}&client_id={}&client_secret={}",
        client.client_id, client.client_secret
    );
    let (status, _, body) = oauth.token_request(&form, None, None).await;
    assert_eq!(status, StatusCode::OK, "{}", json_of(&body));
    assert_eq!(json_of(&body)["scope"], "scim imports");
    let encoded_id = client.client_id.replace('_', "%5F");
    let basic = (encoded_id.as_str(), client.client_secret.as_str());
    let (status, _, _) = oauth
        .token_request(&format!("{GRANT}&scope=imports"), Some(basic), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn basic_and_form_credentials_together_are_an_invalid_request() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let basic = (client.client_id.as_str(), client.client_secret.as_str());
    let form = format!("{GRANT}&client_id={}", client.client_id);
    let (status, _, body) = oauth.token_request(&form, Some(basic), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&body)["error"], "invalid_request");
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_client_and_a_revoked_client_get_byte_identical_401s() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let revoked = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    assert!(
        oauth
            .clients
            .revoke(&tenant_id(&oauth.app.acme.id), &revoked.client_id)
            .await
            .unwrap()
    );
    let attempts = [
        (client.client_id.as_str(), "wrong-secret"),
        ("mcl_00000000000000000000000000000000", "whatever"),
        ("nonsense", "whatever"),
        (revoked.client_id.as_str(), revoked.client_secret.as_str()),
    ];
    let mut answers = Vec::new();
    for (id, secret) in attempts {
        answers.push(oauth.token_request(GRANT, Some((id, secret)), None).await);
        let form = format!("{GRANT}&client_id={id}&client_secret={secret}");
        answers.push(oauth.token_request(&form, None, None).await);
    }
    let (_, _, first) = &answers[0];
    assert_eq!(json_of(first)["error"], "invalid_client");
    for (status, headers, body) in &answers {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, first, "every refusal reads the same, byte for byte");
        assert_eq!(headers["www-authenticate"], "Basic realm=\"muster\"");
        assert_eq!(headers["cache-control"], "no-store");
    }
    let (status, _, body) = oauth.token_request(GRANT, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no credentials at all");
    assert_eq!(&body, first);
}

#[tokio::test]
async fn a_token_of_tenant_a_on_tenant_bs_url_gets_the_same_401_as_garbage() {
    let oauth = OAuthApp::new().await;
    let acme_client = oauth.client(&oauth.app.acme.id, &Scope::ALL, &[]).await;
    let token = oauth.token(&acme_client).await;
    let beta = &oauth.app.beta.id;
    let foreign = oauth.scim_users(beta, &token, None).await;
    let garbage = oauth.scim_users(beta, "not-a-token", None).await;
    let garbage_jwt = oauth.scim_users(beta, "eyJhbGciOi.e30.AAAA", None).await;
    for a in [&foreign, &garbage, &garbage_jwt] {
        assert_scim_401(a);
        assert_eq!(a.body, garbage.body);
    }
}

#[tokio::test]
async fn revoking_a_client_stops_its_access_tokens_at_once() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let token = oauth.token(&client).await;
    let acme = &oauth.app.acme.id;
    assert_eq!(
        oauth.scim_users(acme, &token, None).await.status,
        StatusCode::OK
    );
    let tenant = tenant_id(acme);
    assert!(
        oauth
            .clients
            .revoke(&tenant, &client.client_id)
            .await
            .unwrap()
    );
    assert_scim_401(&oauth.scim_users(acme, &token, None).await);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let acme = tenant_id(&oauth.app.acme.id);
    let claims = Claims::access(&client.client_id, &acme, &[Scope::Scim], now() - 3600);
    let expired = oauth.keys.sign(&claims);
    assert_scim_401(&oauth.scim_users(&oauth.app.acme.id, &expired, None).await);
    let fresh = Claims::access(&client.client_id, &acme, &[Scope::Scim], now());
    let fresh = oauth.keys.sign(&fresh);
    let a = oauth.scim_users(&oauth.app.acme.id, &fresh, None).await;
    assert_eq!(a.status, StatusCode::OK, "the same claims, unexpired, pass");
}

#[tokio::test]
async fn a_token_signed_with_the_real_key_but_living_a_year_is_refused() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let acme = tenant_id(&oauth.app.acme.id);
    let mut claims = Claims::access(&client.client_id, &acme, &[Scope::Scim], now());
    claims.exp = claims.iat + 365 * 24 * 3600;
    let long_lived = oauth.keys.sign(&claims);
    assert_scim_401(
        &oauth
            .scim_users(&oauth.app.acme.id, &long_lived, None)
            .await,
    );
}

#[tokio::test]
async fn a_forged_signature_alg_none_and_another_key_are_refused() {
    let oauth = OAuthApp::new().await;
    let client = oauth
        .client(&oauth.app.acme.id, &[Scope::Imports], &[])
        .await;
    let token = oauth.token(&client).await;
    let parts: Vec<&str> = token.split('.').collect();
    let acme = tenant_id(&oauth.app.acme.id);
    let wider = Claims::access(&client.client_id, &acme, &Scope::ALL, now());
    let wider = base64(&serde_json::to_vec(&wider).unwrap(), true);
    let forged = format!("{}.{wider}.{}", parts[0], parts[2]);
    let kid = oauth.keys.current_kid();
    let none_header = base64(
        format!(r#"{{"alg":"none","kid":"{kid}"}}"#).as_bytes(),
        true,
    );
    let alg_none = format!("{none_header}.{wider}.");
    let other_keys = SigningKeys::generate();
    let scim_claims = Claims::access(&client.client_id, &acme, &Scope::ALL, now());
    let other_key = other_keys.sign(&scim_claims);
    let mut same_kid: Value = serde_json::from_str(&oauth.keys.to_json()).unwrap();
    same_kid["keys"][0]["secret"] = json!(base64(&[7u8; 32], true));
    let same_kid = SigningKeys::from_json(&same_kid.to_string()).unwrap();
    let same_kid_token = same_kid.sign(&scim_claims);
    for bad in [&forged, &alg_none, &other_key, &same_kid_token] {
        assert_scim_401(&oauth.scim_users(&oauth.app.acme.id, bad, None).await);
    }
}

#[tokio::test]
async fn after_rotation_the_previous_keys_tokens_still_work_and_a_dropped_keys_do_not() {
    let oauth = OAuthApp::new().await;
    let acme = oauth.app.acme.id.clone();
    let client = oauth.client(&acme, &[Scope::Scim], &[]).await;
    let first = oauth.token(&client).await;
    let mut keys = oauth.keys.clone();
    keys.rotate();
    let oauth = oauth.serving(Some(keys));
    let second = oauth.token(&client).await;
    for token in [&first, &second] {
        let a = oauth.scim_users(&acme, token, None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let mut keys = oauth.keys.clone();
    keys.rotate_at(now() + 10_000);
    assert_eq!(keys.kids().len(), 2, "the first key is dropped");
    let oauth = oauth.serving(Some(keys));
    assert_scim_401(&oauth.scim_users(&acme, &first, None).await);
    let a = oauth.scim_users(&acme, &second, None).await;
    assert_eq!(a.status, StatusCode::OK, "the replaced key still verifies");
}

#[tokio::test]
async fn a_client_without_the_scim_scope_gets_403_on_scim_routes() {
    let oauth = OAuthApp::new().await;
    let acme = oauth.app.acme.id.clone();
    let imports_only = oauth.client(&acme, &[Scope::Imports], &[]).await;
    let token = oauth.token(&imports_only).await;
    oauth
        .scim_users(&acme, &token, None)
        .await
        .assert_scim_error(403, None);
    let both = oauth.client(&acme, &Scope::ALL, &[]).await;
    let basic = (both.client_id.as_str(), both.client_secret.as_str());
    let form = format!("{GRANT}&scope=imports");
    let (_, _, body) = oauth.token_request(&form, Some(basic), None).await;
    let narrowed = json_of(&body)["access_token"].as_str().unwrap().to_owned();
    oauth
        .scim_users(&acme, &narrowed, None)
        .await
        .assert_scim_error(403, None);
}

#[tokio::test]
async fn an_unknown_or_ungranted_scope_is_invalid_scope() {
    let oauth = OAuthApp::new().await;
    let client = oauth
        .client(&oauth.app.acme.id, &[Scope::Imports], &[])
        .await;
    let basic = (client.client_id.as_str(), client.client_secret.as_str());
    for scope in ["scim", "admin", "imports+admin"] {
        let form = format!("{GRANT}&scope={scope}");
        let (status, _, body) = oauth.token_request(&form, Some(basic), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope}");
        assert_eq!(json_of(&body)["error"], "invalid_scope");
    }
}

#[tokio::test]
async fn a_client_with_an_allowlist_is_refused_outside_it_and_served_inside_it() {
    let oauth = OAuthApp::new().await;
    let acme = oauth.app.acme.id.clone();
    let allowed = ["192.0.2.0/24", "2001:db8::/32"];
    let client = oauth.client(&acme, &[Scope::Scim], &allowed).await;
    let basic = (client.client_id.as_str(), client.client_secret.as_str());
    for outside in [Some("198.51.100.7:40000"), None] {
        let (status, headers, body) = oauth.token_request(GRANT, Some(basic), outside).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{outside:?}");
        assert_eq!(json_of(&body)["error"], "access_denied");
        assert!(json_of(&body)["error_description"].is_string());
        assert_eq!(headers["cache-control"], "no-store");
    }
    let inside = Some("192.0.2.10:5555");
    let (status, _, body) = oauth.token_request(GRANT, Some(basic), inside).await;
    assert_eq!(status, StatusCode::OK);
    let token = json_of(&body)["access_token"].as_str().unwrap().to_owned();
    oauth
        .scim_users(&acme, &token, Some("198.51.100.7:1"))
        .await
        .assert_scim_error(403, None);
    let v6 = oauth
        .scim_users(&acme, &token, Some("[2001:db8::1]:443"))
        .await;
    assert_eq!(v6.status, StatusCode::OK, "{}", v6.body);
}

#[tokio::test]
async fn an_unsupported_grant_type_is_400_and_a_malformed_body_is_invalid_request() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let basic = Some((client.client_id.as_str(), client.client_secret.as_str()));
    let form = "grant_type=password&username=a&password=b";
    let (status, _, body) = oauth.token_request(form, basic, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&body)["error"], "unsupported_grant_type");
    for form in [
        "",
        "scope=scim",
        "grant_type=%zz",
        &format!("{GRANT}&{GRANT}"),
    ] {
        let (status, _, body) = oauth.token_request(form, basic, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(json_of(&body)["error"], "invalid_request");
        assert!(json_of(&body)["error_description"].is_string());
    }
    let json_body = Request::post("/oauth/token")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"grant_type":"client_credentials"}"#))
        .unwrap();
    let (status, _, body) = send_raw(&oauth.app.router, json_body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&body)["error"], "invalid_request");
}

#[tokio::test]
async fn client_secrets_are_stored_only_as_hashes() {
    let oauth = OAuthApp::new().await;
    let client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let acme = tenant_id(&oauth.app.acme.id);
    let record_pk = keys::client(&client.client_id).pk;
    let mut items = query_all(&*oauth.app.table, Query::prefix(record_pk, ""))
        .await
        .unwrap();
    let listing = Query::prefix(keys::tenant_pk(&acme), "");
    items.extend(query_all(&*oauth.app.table, listing).await.unwrap());
    assert!(items.len() >= 3, "record, listing and tenant items");
    let hash = muster::auth::sha256_hex(client.client_secret.as_bytes());
    let mut hashed = 0;
    for item in &items {
        let body = String::from_utf8_lossy(&item.body);
        assert!(!body.contains(&client.client_secret), "{:?}", item.key);
        hashed += usize::from(body.contains(&hash));
    }
    assert_eq!(hashed, 1, "only the record holds the hash");
}
