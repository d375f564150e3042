//! Blobs on the local disk. An upload URL is `/uploads/{token}`: the token is a random
//! 256-bit capability recorded with the declared spec and an expiry; `muster serve` accepts a
//! PUT there only within 5 minutes, only once, and only with exactly the declared
//! `Content-Type`, `Content-MD5`, length and bytes. Refused uploads store nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::{BlobError, BlobMeta, Blobs, PresignedUpload, UPLOAD_VALIDITY, UploadSpec};
use crate::ids::random_bytes;
use crate::store::{Condition, Item, Table, keys};

#[derive(Serialize, Deserialize)]
struct Pending {
    spec: UploadSpec,
    expires_at: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn backend(e: impl std::fmt::Display) -> BlobError {
    BlobError::Backend(e.to_string())
}

/// Why an upload was refused (each maps to an HTTP status in the upload route).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    /// Unknown, used or expired URL (403, like an expired S3 signature).
    #[error("the upload URL is unknown, used or expired")]
    Expired,
    /// A header differs from the declared one (403, like a changed signed header).
    #[error("the {0} header does not match the prepared upload")]
    HeaderMismatch(&'static str),
    /// The body's length differs (400).
    #[error("the body is {got} bytes, not the declared {want}")]
    WrongSize {
        /// Declared.
        want: u64,
        /// Received.
        got: u64,
    },
    /// The body's MD5 differs from `Content-MD5` (400 BadDigest).
    #[error("the body does not match Content-MD5 (BadDigest)")]
    BadDigest,
}

/// Blob storage in a directory.
#[derive(Clone)]
pub struct LocalBlobs {
    dir: Arc<PathBuf>,
    table: Arc<dyn Table>,
}

impl LocalBlobs {
    /// Blobs stored under `dir`, pending uploads recorded in `table`.
    pub fn new(dir: impl Into<PathBuf>, table: Arc<dyn Table>) -> Self {
        Self {
            dir: Arc::new(dir.into()),
            table,
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(safe)
    }

    /// Accepts the body of `PUT /uploads/{token}` if it is exactly what was declared. The
    /// headers are checked before any byte is read; the body is streamed to a scratch file
    /// while its length and MD5 are computed (never held whole in memory), then moved into
    /// place only if both match and the URL had not been used meanwhile. Answers the size
    /// stored.
    pub async fn accept<S, E>(
        &self,
        token: &str,
        content_type: Option<&str>,
        content_md5: Option<&str>,
        body: S,
    ) -> Result<Result<u64, UploadRefusal>, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let key = keys::pending_upload(token);
        let Some(item) = self.table.get(&key).await.map_err(backend)? else {
            return Ok(Err(UploadRefusal::Expired));
        };
        let pending: Pending = serde_json::from_slice(&item.body).map_err(backend)?;
        let spec = &pending.spec;
        if now() > pending.expires_at {
            return Ok(Err(UploadRefusal::Expired));
        }
        if content_type != Some(spec.content_type.as_str()) {
            return Ok(Err(UploadRefusal::HeaderMismatch("Content-Type")));
        }
        if content_md5 != Some(spec.checksum.as_str()) {
            return Ok(Err(UploadRefusal::HeaderMismatch("Content-MD5")));
        }
        let path = self.path(&spec.key);
        let size = spec.byte_size;
        let scratch = path.with_extension(format!(
            "{}.part",
            URL_SAFE_NO_PAD.encode(random_bytes::<9>())
        ));
        let received = receive(&scratch, spec, body).await;
        let verdict = match received {
            Ok(Ok(())) => self
                .table
                .delete(&key, Condition::VersionIs(item.version))
                .await
                .map_or(Err(UploadRefusal::Expired), Ok),
            Ok(Err(refusal)) => Err(refusal),
            Err(e) => {
                let _ = std::fs::remove_file(&scratch);
                return Err(e);
            }
        };
        if let Err(refusal) = verdict {
            let _ = std::fs::remove_file(&scratch);
            return Ok(Err(refusal));
        }
        tokio::task::spawn_blocking(move || std::fs::rename(&scratch, &path))
            .await
            .map_err(backend)?
            .map_err(backend)?;
        Ok(Ok(size))
    }
}

/// Streams `body` into `scratch` (synced to disk), refusing it as soon as it outgrows the
/// declared size, and at the end when its length or MD5 differs.
async fn receive<S, E>(
    scratch: &Path,
    spec: &UploadSpec,
    mut body: S,
) -> Result<Result<(), UploadRefusal>, BlobError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if let Some(dir) = scratch.parent() {
        std::fs::create_dir_all(dir).map_err(backend)?;
    }
    let mut file = std::fs::File::create(scratch).map_err(backend)?;
    let mut md5 = Md5::new();
    let mut got = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| BlobError::Backend(format!("upload interrupted: {e}")))?;
        got += chunk.len() as u64;
        if got > spec.byte_size {
            return Ok(Err(UploadRefusal::WrongSize {
                want: spec.byte_size,
                got,
            }));
        }
        md5.update(&chunk);
        file = tokio::task::spawn_blocking(move || file.write_all(&chunk).map(|()| file))
            .await
            .map_err(backend)?
            .map_err(backend)?;
    }
    if got != spec.byte_size {
        return Ok(Err(UploadRefusal::WrongSize {
            want: spec.byte_size,
            got,
        }));
    }
    if base64::engine::general_purpose::STANDARD.encode(md5.finalize()) != spec.checksum {
        return Ok(Err(UploadRefusal::BadDigest));
    }
    tokio::task::spawn_blocking(move || file.sync_all())
        .await
        .map_err(backend)?
        .map_err(backend)?;
    Ok(Ok(()))
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn presign_upload(&self, spec: &UploadSpec) -> Result<PresignedUpload, BlobError> {
        let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let pending = Pending {
            spec: spec.clone(),
            expires_at: now() + UPLOAD_VALIDITY.as_secs(),
        };
        let body = serde_json::to_vec(&pending).map_err(backend)?;
        let item = Item::new(keys::pending_upload(&token), 1, body);
        self.table
            .put(item, Condition::NotExists)
            .await
            .map_err(backend)?;
        Ok(PresignedUpload {
            url: format!("/uploads/{token}"),
            headers: spec.headers(),
        })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let path = self.path(key);
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Option<BlobMeta>> {
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut hasher = Md5::new();
            let size = std::io::copy(&mut file, &mut hasher)?;
            Ok(Some(BlobMeta {
                size,
                checksum: base64::engine::general_purpose::STANDARD.encode(hasher.finalize()),
            }))
        });
        read.await.map_err(backend)?.map_err(backend)
    }

    async fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>, BlobError> {
        let file = std::fs::File::open(self.path(key)).map_err(backend)?;
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key);
        let removed = tokio::task::spawn_blocking(move || std::fs::remove_file(path))
            .await
            .map_err(backend)?;
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(backend(e)),
            _ => Ok(()),
        }
    }
}
