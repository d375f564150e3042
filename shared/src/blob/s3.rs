//! Blobs in an S3 bucket. An upload URL is a SigV4-presigned `PutObject` whose signature
//! covers `Content-Type`, `Content-MD5` and `Content-Length`, so S3
//! refuses (403 `SignatureDoesNotMatch`) a request whose headers differ from the declared
//! ones, refuses (400 `BadDigest`) a body whose MD5 differs from `Content-MD5`, and refuses
//! (403 `AccessDenied`) the URL once its validity is over. A refused upload stores nothing.

mod setup;
mod spool;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{BlobError, BlobMeta, Blobs, PresignedUpload, UPLOAD_VALIDITY, UploadSpec};

pub use setup::create_bucket_if_missing;

/// The headers an upload URL must sign, lowercase as in `X-Amz-SignedHeaders`.
const MUST_SIGN: [&str; 3] = ["content-length", "content-md5", "content-type"];

/// A [`Blobs`] adapter on one S3 bucket.
///
/// - [`Blobs::presign_upload`] signs with the client's credentials: a URL stops working when
///   its validity ends or when those credentials expire, whichever comes first.
/// - [`Blobs::head`] reads the size and the ETag, which S3 sets to the hex MD5 of the bytes
///   for an object written by one `PutObject` in a bucket without SSE-KMS or SSE-C; any other
///   ETag is a [`BlobError::Backend`]. The credentials need `s3:ListBucket` so that a missing
///   key is a 404 (`Ok(None)`) rather than a 403 (an error).
/// - [`Blobs::open`] downloads the object into an unnamed temporary file (in
///   `std::env::temp_dir()`; removed when the reader is dropped), so memory stays bounded
///   whatever the object's size.
///
/// Errors of the SDK are logged in full and returned as a short [`BlobError::Backend`] text
/// naming the operation and the error code.
#[derive(Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: Arc<str>,
}

impl S3Blobs {
    /// An adapter on the existing bucket `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: Arc::from(bucket.into()),
        }
    }

    /// An adapter whose client comes from `aws_config`'s default chain (region, credentials,
    /// `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3`); with an endpoint URL set, requests use
    /// path-style addressing (`{endpoint}/{bucket}/{key}`), as S3 emulators expect.
    pub async fn from_env(bucket: impl Into<String>) -> Self {
        Self::new(setup::client_from_env().await, bucket)
    }

    /// A path-style client for an S3-compatible endpoint (an emulator) with static
    /// credentials, for tests and local runs.
    pub fn static_client(
        endpoint_url: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Client {
        setup::static_client(endpoint_url, region, access_key_id, secret_access_key)
    }

    /// The bucket this adapter stores into.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The client this adapter sends its requests with (for [`create_bucket_if_missing`]).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// [`Blobs::presign_upload`] with a URL valid for `validity` instead of
    /// [`UPLOAD_VALIDITY`] (at most 7 days, S3's limit).
    pub async fn presign_upload_for(
        &self,
        spec: &UploadSpec,
        validity: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        let config = PresigningConfig::expires_in(validity)
            .map_err(|e| BlobError::Backend(format!("invalid upload validity: {e}")))?;
        let length = i64::try_from(spec.byte_size)
            .map_err(|_| BlobError::Backend("the declared size is too large".into()))?;
        // Content-Disposition is handed out but not signed: the reference document's own
        // upload call sends `Content-Disposition: null`, which a signed header would refuse.
        let headers = spec.headers();
        let presigned = self
            .client
            .put_object()
            .bucket(&*self.bucket)
            .key(&spec.key)
            .content_type(&spec.content_type)
            .content_md5(&spec.checksum)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| sdk_failure("PutObject (presign)", e))?;
        let url = presigned.uri().to_owned();
        check_signed_headers(&url)?;
        Ok(PresignedUpload { url, headers })
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn presign_upload(&self, spec: &UploadSpec) -> Result<PresignedUpload, BlobError> {
        self.presign_upload_for(spec, UPLOAD_VALIDITY).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let sent = self
            .client
            .head_object()
            .bucket(&*self.bucket)
            .key(key)
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) if is_not_found(&e, |s| s.is_not_found()) => return Ok(None),
            Err(e) => return Err(sdk_failure("HeadObject", e)),
        };
        let size = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| BlobError::Backend("S3 HeadObject returned no length".into()))?;
        let checksum = out.e_tag().and_then(etag_to_md5_base64).ok_or_else(|| {
            tracing::error!(
                bucket = %self.bucket,
                key,
                etag = out.e_tag(),
                "the ETag is not an MD5 (multipart upload, or SSE-KMS/SSE-C encryption)"
            );
            BlobError::Backend("the stored object's ETag is not an MD5".into())
        })?;
        Ok(Some(BlobMeta { size, checksum }))
    }

    async fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>, BlobError> {
        let out = self
            .client
            .get_object()
            .bucket(&*self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_failure("GetObject", e))?;
        let expected = out.content_length().and_then(|n| u64::try_from(n).ok());
        let reader = spool::download(out.body, expected).await?;
        Ok(Box::new(reader))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        // DeleteObject answers 204 whether or not the key exists.
        self.client
            .delete_object()
            .bucket(&*self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_failure("DeleteObject", e))?;
        Ok(())
    }
}

/// The base64 MD5 that a single-part ETag (`"` + 32 hex digits + `"`) stands for.
fn etag_to_md5_base64(etag: &str) -> Option<String> {
    let hex = etag.trim_matches('"');
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut md5 = [0u8; 16];
    for (byte, pair) in md5.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(STANDARD.encode(md5))
}

/// Refuses a presigned URL whose `X-Amz-SignedHeaders` lacks one of [`MUST_SIGN`]: S3 would
/// then accept headers other than the declared ones.
fn check_signed_headers(url: &str) -> Result<(), BlobError> {
    let signed = url
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .unwrap_or_default()
        .replace("%3B", ";")
        .replace("%3b", ";");
    let signed: Vec<&str> = signed.split(';').collect();
    match MUST_SIGN.iter().find(|h| !signed.contains(h)) {
        None => Ok(()),
        Some(missing) => {
            tracing::error!(
                missing,
                ?signed,
                "a presigned upload does not sign a header"
            );
            Err(BlobError::Backend(format!(
                "the presigned upload does not sign {missing}"
            )))
        }
    }
}

/// Whether `err` is a 404: the operation's modeled not-found error, or the bare status (a
/// `HEAD` response has no body to carry an error code).
fn is_not_found<E>(err: &SdkError<E, HttpResponse>, modeled: impl Fn(&E) -> bool) -> bool {
    match err {
        SdkError::ServiceError(service) => {
            modeled(service.err()) || service.raw().status().as_u16() == 404
        }
        _ => false,
    }
}

/// Logs an SDK failure in full and turns it into a short backend error naming the operation
/// and the error code, never the service's message.
fn sdk_failure<E, R>(operation: &str, err: SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    BlobError::Backend(crate::sdk::describe("S3", operation, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> UploadSpec {
        UploadSpec {
            key: "tenants/acme/imports/1".into(),
            filename: "membres é.csv".into(),
            content_type: "text/csv".into(),
            byte_size: 11,
            checksum: crate::blob::md5_base64(b"hello world"),
        }
    }

    fn blobs() -> S3Blobs {
        let client = S3Blobs::static_client("http://127.0.0.1:9", "eu-west-3", "AK", "SK");
        S3Blobs::new(client, "bucket")
    }

    #[test]
    fn a_single_part_etag_is_the_hex_md5_of_the_bytes() {
        let md5 = crate::blob::md5_base64(b"hello world");
        assert_eq!(
            etag_to_md5_base64("\"5eb63bbbe01eeed093cb22bb8f5acdc3\"").as_deref(),
            Some(md5.as_str())
        );
        assert_eq!(
            etag_to_md5_base64("\"5eb63bbbe01eeed093cb22bb8f5acdc3-2\""),
            None
        );
        assert_eq!(etag_to_md5_base64("\"zz\""), None);
        assert_eq!(etag_to_md5_base64(&"é".repeat(16)), None);
    }

    #[tokio::test]
    async fn an_upload_url_signs_the_declared_headers_for_five_minutes() {
        let upload = blobs().presign_upload(&spec()).await.unwrap();
        let url = upload.url.as_str();
        assert!(url.starts_with("http://127.0.0.1:9/bucket/tenants/acme/imports/1?"));
        assert!(url.contains("X-Amz-Expires=300&"), "{url}");
        assert!(
            url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-md5%3Bcontent-type%3Bhost&"),
            "{url}"
        );
        assert_eq!(upload.headers, spec().headers());
    }

    #[test]
    fn a_url_that_does_not_sign_content_md5_is_refused() {
        let url = "https://b.s3/k?X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost";
        assert!(
            matches!(check_signed_headers(url), Err(BlobError::Backend(m)) if m.contains("content-md5"))
        );
        assert!(check_signed_headers("https://b.s3/k").is_err());
    }
}
