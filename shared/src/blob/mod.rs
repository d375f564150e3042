//! The Blobs port: presigned uploads that accept only the declared bytes, and reading stored
//! objects back. Adapters: local files served by `muster serve` ([`LocalBlobs`]) and S3
//! ([`S3Blobs`]: SigV4-presigned PUTs with the declared headers signed).

mod local;
#[cfg(feature = "aws")]
mod s3;

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

pub use local::{LocalBlobs, UploadRefusal};
#[cfg(feature = "aws")]
pub use s3::{S3Blobs, create_bucket_if_missing};

/// How long an upload URL stays valid.
pub const UPLOAD_VALIDITY: Duration = Duration::from_secs(5 * 60);

/// The declared object an upload must match exactly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UploadSpec {
    /// Where the object is stored.
    pub key: String,
    /// The client's file name.
    pub filename: String,
    /// `text/csv` or the XLSX media type.
    pub content_type: String,
    /// Exact length in bytes.
    pub byte_size: u64,
    /// Base64 of the MD5 of the bytes (`Content-MD5`, RFC 1864).
    pub checksum: String,
}

impl UploadSpec {
    /// The headers the client must send with the upload.
    pub fn headers(&self) -> Vec<(String, String)> {
        let ascii: String = self
            .filename
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let encoded = crate::text::percent_encode(&self.filename);
        vec![
            ("Content-Type".into(), self.content_type.clone()),
            ("Content-MD5".into(), self.checksum.clone()),
            (
                "Content-Disposition".into(),
                format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ]
    }
}

/// Where and how to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    /// The URL to PUT to; a path starting with `/` is relative to the API's own origin.
    pub url: String,
    /// Headers to send as they are.
    pub headers: Vec<(String, String)>,
}

/// What is stored under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// Length in bytes.
    pub size: u64,
    /// Base64 MD5 of the bytes.
    pub checksum: String,
}

/// Failures of the Blobs port.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Storage failed.
    #[error("blob storage failed: {0}")]
    Backend(String),
}

/// Base64 MD5 of `bytes`, as in `Content-MD5`.
pub fn md5_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

/// The blob storage port.
#[async_trait]
pub trait Blobs: Send + Sync + 'static {
    /// An upload that accepts, for [`UPLOAD_VALIDITY`], only a body of exactly `spec`'s
    /// length, MD5 and content type, stored under `spec.key`.
    async fn presign_upload(&self, spec: &UploadSpec) -> Result<PresignedUpload, BlobError>;

    /// What is stored under `key`; `Ok(None)` when nothing is.
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;

    /// The stored bytes as a blocking reader (the import reads files on a blocking thread).
    async fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>, BlobError>;

    /// Removes what is stored under `key`; removing nothing is no error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}
