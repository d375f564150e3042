//! The DynamoDB Table adapter: one table with string keys `PK`/`SK`, the version in `v`
//! (number) and the body in `b` (binary), with the same semantics as the embedded adapter.

mod batch;
mod cursor;
mod read;
mod setup;
mod write;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Condition, Item, Key, Page, Query, SkRange, StoreError, Table, Write};
use cursor::Cursors;

pub use setup::{client_from_env, create_table_if_missing};

/// Attribute holding the partition key.
const PK: &str = "PK";
/// Attribute holding the sort key.
const SK: &str = "SK";
/// Attribute holding the item's version (a number).
const VERSION: &str = "v";
/// Attribute holding the item's body (binary).
const BODY: &str = "b";
/// Attribute holding the item's expiry (Unix seconds), the table's TTL attribute.
pub(crate) const TTL: &str = "ttl";

/// DynamoDB's limit on the size of a partition key value, in bytes.
const MAX_PK_BYTES: usize = 2048;
/// DynamoDB's limit on the size of a sort key value, in bytes.
const MAX_SK_BYTES: usize = 1024;

/// Attempts the SDK makes for one request (throttling and transient errors are retried by
/// its standard retry strategy, with exponential backoff).
const SDK_MAX_ATTEMPTS: u32 = 5;

/// A [`Table`] stored in one DynamoDB table.
///
/// Reads are strongly consistent, so a read sees every write acknowledged before it, as with
/// the embedded adapter. Page cursors are the last evaluated sort key sealed with an
/// HMAC-SHA256 tag bound to the query's partition and range: a cursor that was altered, or
/// that belongs to another query, is refused with [`StoreError::Invalid`]. Errors of the SDK
/// are logged in full and returned as a short [`StoreError::Backend`] text.
#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: Arc<str>,
    cursors: Cursors,
}

impl DynamoTable {
    /// An adapter on the existing table `table_name`, sealing page cursors with `cursor_key`
    /// (keep it secret and the same on every instance serving one table).
    pub fn new(client: Client, table_name: impl Into<String>, cursor_key: [u8; 32]) -> Self {
        Self {
            client,
            table: Arc::from(table_name.into()),
            cursors: Cursors::new(cursor_key),
        }
    }

    /// An adapter built from the environment, for the entry points: the client comes from
    /// `aws_config`'s default chain (region, credentials, `AWS_ENDPOINT_URL`), the cursor key
    /// from `MUSTER_CURSOR_KEY` (64 hex digits).
    ///
    /// Without `MUSTER_CURSOR_KEY` the key is derived from the table name, so every instance
    /// agrees on it but anyone who knows the name can forge a cursor: production should set
    /// it. A forged cursor still reads only inside the query's own partition and range.
    pub async fn from_env(table_name: impl Into<String>) -> Result<Self, StoreError> {
        let table_name = table_name.into();
        let cursor_key = setup::cursor_key_from_env(&table_name)?;
        let client = setup::client_from_env().await;
        Ok(Self::new(client, table_name, cursor_key))
    }

    /// A client for a DynamoDB-compatible endpoint (a local emulator such as moto or DynamoDB
    /// Local) with static credentials, for tests and local runs.
    pub fn static_client(
        endpoint_url: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Client {
        setup::static_client(endpoint_url, region, access_key_id, secret_access_key)
    }

    /// The name of the DynamoDB table this adapter uses.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The client this adapter sends its requests with (for [`create_table_if_missing`]).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        read::get(self, key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        keys.iter().try_for_each(check_key)?;
        batch::get_all(self, keys).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        read::page(self, query).await
    }

    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        read::count(self, pk, range).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        check_key(&item.key)?;
        write::put(self, item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        check_key(key)?;
        write::delete(self, key, condition).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::validate_transaction(&writes, check_key)?;
        write::transact(self, &writes).await
    }

    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::validate_batch(&writes, check_key)?;
        if writes.is_empty() {
            return Ok(());
        }
        batch::write_all(self, writes).await
    }
}

/// Refuses keys DynamoDB cannot store: empty, or longer than its key size limits.
fn check_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("keys must not be empty".into()));
    }
    if key.pk.len() > MAX_PK_BYTES || key.sk.len() > MAX_SK_BYTES {
        return Err(StoreError::Invalid(format!(
            "keys are at most {MAX_PK_BYTES} (partition) and {MAX_SK_BYTES} (sort) bytes"
        )));
    }
    Ok(())
}

/// The `PK`/`SK` attributes addressing `key`.
fn key_attributes(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk.to_owned())),
        (SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The attributes stored for `item`.
fn encode(item: &Item) -> HashMap<String, AttributeValue> {
    let mut attributes = key_attributes(&item.key.pk, &item.key.sk);
    attributes.insert(
        VERSION.to_owned(),
        AttributeValue::N(item.version.to_string()),
    );
    attributes.insert(
        BODY.to_owned(),
        AttributeValue::B(Blob::new(item.body.clone())),
    );
    if let Some(at) = item.expires {
        attributes.insert(TTL.to_owned(), AttributeValue::N(at.to_string()));
    }
    attributes
}

/// The item stored in `attributes`, or a backend error when they are not one of ours.
fn decode(mut attributes: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let corrupt = || StoreError::Backend("corrupt item in the DynamoDB table".into());
    let pk = match attributes.remove(PK) {
        Some(AttributeValue::S(s)) => s,
        _ => return Err(corrupt()),
    };
    let sk = match attributes.remove(SK) {
        Some(AttributeValue::S(s)) => s,
        _ => return Err(corrupt()),
    };
    let version = match attributes.remove(VERSION) {
        Some(AttributeValue::N(n)) => count_or_version(&n).ok_or_else(corrupt)?,
        _ => return Err(corrupt()),
    };
    let body = match attributes.remove(BODY) {
        Some(AttributeValue::B(b)) => b.into_inner(),
        // A counter made by `ADD` has no body.
        None => Vec::new(),
        _ => return Err(corrupt()),
    };
    let expires = match attributes.remove(TTL) {
        Some(AttributeValue::N(n)) => Some(n.parse::<i64>().map_err(|_| corrupt())?),
        _ => None,
    };
    let mut item = Item::new(Key::new(pk, sk), version, body);
    item.expires = expires;
    Ok(item)
}

/// A stored version, or a counter's count: a counter that an `ADD` took below zero reads as
/// 0, as [`Write::Add`] promises.
fn count_or_version(n: &str) -> Option<u64> {
    n.parse::<u64>()
        .ok()
        .or_else(|| n.parse::<i64>().ok().map(|v| v.max(0).unsigned_abs()))
}

/// The sort key of a `LastEvaluatedKey`.
fn sort_key_of(last: Option<HashMap<String, AttributeValue>>) -> Option<String> {
    match last?.remove(SK)? {
        AttributeValue::S(sk) => Some(sk),
        _ => None,
    }
}

/// Logs an SDK failure in full and turns it into a short backend error naming the operation
/// and the error code, never the service's message.
fn sdk_failure<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Backend(crate::sdk::describe("DynamoDB", operation, err))
}

/// A request builder of the SDK that could not be completed (a missing required field).
fn build_failure(err: impl std::fmt::Display) -> StoreError {
    tracing::error!(error = %err, "DynamoDB request not built");
    StoreError::Backend("DynamoDB request not built".into())
}

/// Waits before retry `attempt` (0-based): exponential from 20 ms, capped at 1 s, with the
/// upper half of each step drawn at random so that competing writers spread out.
async fn backoff(attempt: u32) {
    let step = 20u64.saturating_mul(1 << attempt.min(10)).min(1_000);
    let random = u64::from_le_bytes(crate::ids::random_bytes::<8>());
    let millis = step / 2 + random % (step / 2 + 1);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_survives_encoding_and_decoding() {
        let item = Item::new(Key::new("T#a", "USER#é"), u64::MAX, vec![0, 1, 255]);
        assert_eq!(decode(encode(&item)).unwrap(), item);
        let empty = Item::new(Key::new("P", "S"), 0, Vec::new());
        assert_eq!(decode(encode(&empty)).unwrap(), empty);
    }

    #[test]
    fn attributes_that_are_not_an_item_are_a_backend_error() {
        let mut attributes = encode(&Item::new(Key::new("P", "S"), 1, b"x".to_vec()));
        attributes.insert(VERSION.into(), AttributeValue::S("1".into()));
        assert!(matches!(decode(attributes), Err(StoreError::Backend(_))));
    }

    #[test]
    fn keys_beyond_dynamodb_limits_are_invalid() {
        assert!(check_key(&Key::new("P", "S")).is_ok());
        let long = Key::new("P", "S".repeat(MAX_SK_BYTES + 1));
        assert!(matches!(check_key(&long), Err(StoreError::Invalid(_))));
        assert!(matches!(
            check_key(&Key::new("", "S")),
            Err(StoreError::Invalid(_))
        ));
    }
}
