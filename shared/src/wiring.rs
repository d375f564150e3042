//! Building the service from the environment, for the Lambda functions and `muster serve
//! --aws`: `MUSTER_TABLE` (DynamoDB), `MUSTER_BUCKET` (S3), `MUSTER_QUEUE_URL` (SQS),
//! `MUSTER_NOTIFY_QUEUE_URL` (SQS, sent invitations; recorded in the table when unset),
//! `MUSTER_SIGNING_KEYS_SECRET` (the Secrets Manager secret holding the access-token keys,
//! read at start and on an unknown key id; or, for local runs, `MUSTER_SIGNING_KEYS`, the
//! keys themselves as JSON), plus
//! the standard `AWS_*` variables, `AWS_ENDPOINT_URL` included. Clients are built once.

use std::sync::Arc;

use crate::auth::{KeyRing, SigningKeys};
use crate::blob::{Blobs, S3Blobs};
use crate::config::Config;
use crate::http::{AppState, Imports};
use crate::import::{ImportContext, LocalNotifier, Notifier};
use crate::queue::{Queue, SqsNotifier, SqsQueue};
use crate::secrets::SecretsManagerKeys;
use crate::store::{DynamoTable, Table};

/// A missing or malformed setting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WiringError(pub String);

fn required(name: &str) -> Result<String, WiringError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| WiringError(format!("{name} must be set")))
}

/// The DynamoDB table named by `MUSTER_TABLE`, once its key layout is this build's (see
/// [`crate::store::ensure_schema`]).
pub async fn table_from_env() -> Result<Arc<dyn Table>, WiringError> {
    let table = DynamoTable::from_env(required("MUSTER_TABLE")?)
        .await
        .map_err(|e| WiringError(e.to_string()))?;
    crate::store::ensure_schema(&table)
        .await
        .map_err(|e| WiringError(e.to_string()))?;
    Ok(Arc::new(table))
}

/// The signing keys: read from the secret `MUSTER_SIGNING_KEYS_SECRET` names (and reloaded
/// from it on an unknown key id), else fixed from the JSON of `MUSTER_SIGNING_KEYS`. A
/// secret that cannot be read is an error: a function must not start without its keys.
pub async fn key_ring_from_env() -> Result<KeyRing, WiringError> {
    if let Some(secret) = std::env::var("MUSTER_SIGNING_KEYS_SECRET")
        .ok()
        .filter(|v| !v.is_empty())
    {
        let source = SecretsManagerKeys::new(SecretsManagerKeys::client_from_env().await, secret);
        return KeyRing::from_source(Arc::new(source))
            .await
            .map_err(|e| WiringError(format!("MUSTER_SIGNING_KEYS_SECRET: {e}")));
    }
    let keys = SigningKeys::from_json(&required("MUSTER_SIGNING_KEYS")?)
        .map_err(|e| WiringError(format!("MUSTER_SIGNING_KEYS: {e}")))?;
    Ok(KeyRing::fixed(keys))
}

/// The import wiring on S3 and SQS.
pub async fn imports_from_env(table: Arc<dyn Table>) -> Result<Imports, WiringError> {
    let blobs: Arc<dyn Blobs> = Arc::new(S3Blobs::from_env(required("MUSTER_BUCKET")?).await);
    let sqs = SqsQueue::client_from_env().await;
    let queue: Arc<dyn Queue> = Arc::new(SqsQueue::new(sqs.clone(), required("MUSTER_QUEUE_URL")?));
    let notifier = notifier_from_env(table.clone(), sqs);
    let ctx = ImportContext::new(table, blobs.clone());
    Ok(Imports {
        blobs,
        local: None,
        queue,
        ctx,
        notifier,
    })
}

/// Where sent invitations go: the SQS queue of `MUSTER_NOTIFY_QUEUE_URL` when it is set,
/// else records in `table`.
pub fn notifier_from_env(table: Arc<dyn Table>, sqs: aws_sdk_sqs::Client) -> Arc<dyn Notifier> {
    match std::env::var("MUSTER_NOTIFY_QUEUE_URL") {
        Ok(url) if !url.is_empty() => Arc::new(SqsNotifier::new(sqs, url)),
        _ => Arc::new(LocalNotifier::new(table)),
    }
}

/// The scheduled maintenance of the table, sending the invitations due through the
/// notifier of [`notifier_from_env`].
pub async fn maintenance_from_env() -> Result<crate::directory::Maintenance, WiringError> {
    let table = table_from_env().await?;
    let sqs = SqsQueue::client_from_env().await;
    let notifier = notifier_from_env(table.clone(), sqs);
    Ok(crate::directory::Maintenance::new(table).with_invitations(notifier))
}

/// The whole HTTP state of a Lambda function.
pub async fn state_from_env() -> Result<AppState, WiringError> {
    let table = table_from_env().await?;
    let imports = imports_from_env(table.clone()).await?;
    Ok(AppState::new(table, Config::from_env())
        .with_key_ring(key_ring_from_env().await?)
        .with_imports(imports))
}
