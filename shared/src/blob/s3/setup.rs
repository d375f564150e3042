//! Setting the S3 adapter up: clients (from the environment, or static for emulators) and
//! creating the bucket.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use super::{is_not_found, sdk_failure};
use crate::blob::BlobError;

/// The variable naming an endpoint for S3 alone, which `aws_config` honours besides
/// `AWS_ENDPOINT_URL`.
const S3_ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_S3";

/// A client configured by `aws_config`'s default chain; path-style when an endpoint URL is
/// configured (an emulator rarely resolves `{bucket}.{host}`).
pub async fn client_from_env() -> Client {
    let config = crate::sdk::config_from_env().await;
    let custom_endpoint = config.endpoint_url().is_some()
        || std::env::var_os(S3_ENDPOINT_VAR).is_some_and(|v| !v.is_empty());
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(custom_endpoint)
        .build();
    Client::from_conf(s3)
}

/// A path-style client for `endpoint_url` with static credentials.
pub fn static_client(
    endpoint_url: &str,
    region: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Client {
    let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "static");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// Creates the bucket `bucket` in the client's region unless it exists. Idempotent, and
/// safe to race with another caller; a bucket of that name that this account cannot reach
/// (another account's) is a [`BlobError::Backend`].
pub async fn create_bucket_if_missing(client: &Client, bucket: &str) -> Result<(), BlobError> {
    if bucket_exists(client, bucket).await? {
        return Ok(());
    }
    let mut create = client.create_bucket().bucket(bucket);
    let region = client.config().region().map(Region::as_ref);
    if let Some(region) = region.filter(|r| *r != "us-east-1") {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build();
        create = create.create_bucket_configuration(location);
    }
    match create.send().await {
        Ok(_) => {
            tracing::info!(bucket, "created the S3 bucket");
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        // Created meanwhile by a concurrent caller, or taken by another account.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_exists())
                && bucket_exists(client, bucket).await? =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_failure("CreateBucket", e)),
    }
}

/// Whether `bucket` exists and these credentials reach it.
async fn bucket_exists(client: &Client, bucket: &str) -> Result<bool, BlobError> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e, |s| s.is_not_found()) => Ok(false),
        Err(e) => Err(sdk_failure("HeadBucket", e)),
    }
}
