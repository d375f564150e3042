//! Signing keys kept in Secrets Manager (moto's): a function reads them at start, and a key
//! added to the secret by a rotation is picked up by a running function the first time a
//! token names it — no restart, no deploy. A function that cannot read its secret does not
//! start.

use std::sync::Arc;

use aws_sdk_secretsmanager::Client;
use http::StatusCode;
use muster::auth::{KeyRing, Scope, SigningKeys};
use muster::config::Config;
use muster::http::{AppState, app};
use muster::secrets::SecretsManagerKeys;

use crate::helpers::OAuthApp;

fn endpoint() -> Option<String> {
    crate::store_dynamo::emulator_endpoint(module_path!())
}

fn client(endpoint: &str) -> Client {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let creds = Credentials::new("test", "test", None, None, "tests");
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .build();
    Client::from_conf(config)
}

/// A new secret holding `keys`; returns its ARN.
async fn secret_with(client: &Client, keys: &SigningKeys) -> String {
    let name = format!(
        "muster/signing-keys-{}",
        muster::ids::to_hex(&muster::ids::random_bytes::<6>())
    );
    let out = client
        .create_secret()
        .name(name)
        .secret_string(keys.to_json())
        .send()
        .await
        .unwrap();
    out.arn().unwrap().to_owned()
}

/// A "function" over the test's store whose keys come from the secret `arn`.
async fn function_reading(oauth: &OAuthApp, sm: &Client, arn: &str) -> axum::Router {
    let source = SecretsManagerKeys::new(sm.clone(), arn);
    let ring = KeyRing::from_source(Arc::new(source)).await.unwrap();
    app(AppState::new(oauth.app.table.clone(), Config::default()).with_key_ring(ring))
}

#[tokio::test]
async fn a_key_added_to_the_secret_is_accepted_by_a_running_function_without_a_restart() {
    let Some(endpoint) = endpoint() else { return };
    let sm = client(&endpoint);
    let mut oauth = OAuthApp::new().await;
    let first = SigningKeys::generate();
    let arn = secret_with(&sm, &first).await;
    let api_client = oauth.client(&oauth.app.acme.id, &[Scope::Scim], &[]).await;
    let tenant = oauth.app.acme.id.clone();

    let running = function_reading(&oauth, &sm, &arn).await;
    oauth.app.router = running.clone();
    let old_token = oauth.token(&api_client).await;
    let a = oauth.scim_users(&tenant, &old_token, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // The rotation: the operator adds a key to the secret; functions started after it sign
    // with the new key.
    let mut rotated = first.clone();
    rotated.rotate();
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string(rotated.to_json())
        .send()
        .await
        .unwrap();
    oauth.app.router = function_reading(&oauth, &sm, &arn).await;
    let new_token = oauth.token(&api_client).await;
    assert_ne!(new_token, old_token);

    // The function started before the rotation accepts the new key's token, and still the
    // old one.
    oauth.app.router = running;
    for token in [&new_token, &old_token] {
        let a = oauth.scim_users(&tenant, token, None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }

    // A token signed by a key the secret never held stays refused.
    let stranger = SigningKeys::generate();
    let claims = muster::auth::Claims::access(
        &api_client.client_id,
        &muster::ids::TenantId::parse(&tenant).unwrap(),
        &[Scope::Scim],
        chrono_now(),
    );
    let forged = stranger.sign(&claims);
    let a = oauth.scim_users(&tenant, &forged, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_function_that_cannot_read_its_secret_does_not_start() {
    let Some(endpoint) = endpoint() else { return };
    let sm = client(&endpoint);
    let missing = SecretsManagerKeys::new(sm.clone(), "muster/no-such-secret");
    let err = KeyRing::from_source(Arc::new(missing)).await.unwrap_err();
    assert!(err.to_string().contains("muster/no-such-secret"), "{err}");

    let name = format!(
        "muster/not-keys-{}",
        muster::ids::to_hex(&muster::ids::random_bytes::<6>())
    );
    sm.create_secret()
        .name(&name)
        .secret_string(r#"{"keys":[]}"#)
        .send()
        .await
        .unwrap();
    let empty = SecretsManagerKeys::new(sm, name);
    assert!(KeyRing::from_source(Arc::new(empty)).await.is_err());
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
