//! Setting the DynamoDB adapter up: clients (from the environment, or static for emulators),
//! the cursor key, and creating the table.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use sha2::{Digest, Sha256};

use super::{PK, SDK_MAX_ATTEMPTS, SK, build_failure, sdk_failure};
use crate::store::StoreError;

/// The variable holding the cursor key, 64 hex digits.
const CURSOR_KEY_VAR: &str = "MUSTER_CURSOR_KEY";

/// How long [`create_table_if_missing`] waits for the table to become `ACTIVE`.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(SDK_MAX_ATTEMPTS)
}

/// A client configured by `aws_config`'s default chain (which honours `AWS_ENDPOINT_URL`).
pub async fn client_from_env() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await;
    Client::new(&config)
}

/// A client for `endpoint_url` with static credentials.
pub fn static_client(
    endpoint_url: &str,
    region: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Client {
    let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "static");
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .retry_config(retry_config())
        .build();
    Client::from_conf(config)
}

/// The cursor key from `MUSTER_CURSOR_KEY`, or, when it is unset or empty, one derived from
/// the table name (with a warning: production should set the variable).
pub fn cursor_key_from_env(table_name: &str) -> Result<[u8; 32], StoreError> {
    match std::env::var(CURSOR_KEY_VAR) {
        Ok(hex) if !hex.trim().is_empty() => parse_key(hex.trim()).ok_or_else(|| {
            StoreError::Invalid(format!("{CURSOR_KEY_VAR} must be 64 hex digits (32 bytes)"))
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(StoreError::Invalid(format!(
            "{CURSOR_KEY_VAR} must be 64 hex digits (32 bytes)"
        ))),
        _ => {
            tracing::warn!(
                "{CURSOR_KEY_VAR} is not set: page cursors are sealed with a key derived from the \
                 table name; set it to 32 random bytes in hex in production"
            );
            Ok(derived_key(table_name))
        }
    }
}

fn parse_key(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

fn derived_key(table_name: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"muster dynamo cursor key v1\0");
    hash.update(table_name.as_bytes());
    hash.finalize().into()
}

/// Creates the table `name` (string keys `PK` hash and `SK` range, on-demand billing) unless
/// it exists, then waits until it is `ACTIVE`. Idempotent, and safe to race with another
/// caller. An existing table with another key schema is [`StoreError::Invalid`].
pub async fn create_table_if_missing(client: &Client, name: &str) -> Result<(), StoreError> {
    if describe(client, name).await?.is_none() {
        let attribute = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_failure)
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .map_err(build_failure)
        };
        let created = client
            .create_table()
            .table_name(name)
            .attribute_definitions(attribute(PK)?)
            .attribute_definitions(attribute(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => tracing::info!(table = name, "created the DynamoDB table"),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(sdk_failure("CreateTable", e)),
        }
    }
    wait_until_active(client, name).await
}

/// The status of table `name`, or `None` when it does not exist; refuses a table whose key
/// schema is not `PK`/`SK`.
async fn describe(client: &Client, name: &str) -> Result<Option<TableStatus>, StoreError> {
    let out = match client.describe_table().table_name(name).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(sdk_failure("DescribeTable", e)),
    };
    let Some(table) = out.table else {
        return Ok(None);
    };
    let schema: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    if schema != [(PK, &KeyType::Hash), (SK, &KeyType::Range)] {
        return Err(StoreError::Invalid(format!(
            "table {name} exists with another key schema than {PK} (hash) and {SK} (range)"
        )));
    }
    Ok(Some(table.table_status.unwrap_or(TableStatus::Creating)))
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let deadline = Instant::now() + ACTIVE_TIMEOUT;
    let mut pause = Duration::from_millis(200);
    loop {
        match describe(client, name).await? {
            Some(TableStatus::Active) => return Ok(()),
            None | Some(TableStatus::Creating | TableStatus::Updating) => {}
            Some(other) => {
                return Err(StoreError::Backend(format!(
                    "table {name} is {}, not ACTIVE",
                    other.as_str()
                )));
            }
        }
        if Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "table {name} did not become ACTIVE within {} s",
                ACTIVE_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_key_is_64_hex_digits() {
        let hex = "00ff".repeat(16);
        let key = parse_key(&hex).unwrap();
        assert_eq!((key[0], key[1], key[31]), (0x00, 0xff, 0xff));
        assert_eq!(parse_key("00ff"), None);
        assert_eq!(parse_key(&"zz".repeat(32)), None);
        assert_eq!(parse_key(&"é".repeat(32)), None);
    }

    #[test]
    fn a_derived_cursor_key_depends_on_the_table_name() {
        assert_eq!(derived_key("a"), derived_key("a"));
        assert_ne!(derived_key("a"), derived_key("b"));
    }
}
