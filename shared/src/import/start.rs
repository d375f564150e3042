//! Starting an import: the uploaded file is checked against what its presign declared, the
//! job is recorded (once per idempotency key) and sent to the worker. The `/v1` API and the
//! console start imports through here.

use super::Mode;
use super::jobs::{Job, NewJob};
use super::worker::ImportContext;
use crate::blob::{BlobError, UploadSpec};
use crate::ids::TenantId;
use crate::queue::{ImportMessage, Queue, QueueError};
use crate::store::{Condition, Item, StoreError, keys};

/// The MIRROR guard when the caller sets none: at most this share of the members in scope may
/// lose their membership.
pub const DEFAULT_MAX_DELETE_RATIO: f64 = 0.2;

/// What starting an import needs.
#[derive(Debug, Clone)]
pub struct StartImport {
    /// The presigned upload's id.
    pub signed_id: String,
    /// How the file changes the members in scope.
    pub mode: Mode,
    /// The acting administrator.
    pub user_id: String,
    /// The communities the administrator may change.
    pub scope: Vec<String>,
    /// The MIRROR guard: the largest share (0 to 1) of members in scope it may remove.
    pub max_delete_ratio: f64,
    /// A client's key that makes a repeated start answer the first job (of the same kind:
    /// dry runs and real imports keep their keys apart).
    pub idempotency_key: Option<String>,
    /// Check the file and forecast the report without writing to the directory; the file
    /// is kept for the real import.
    pub dry_run: bool,
}

/// Why an import did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No presign has this id (in this tenant).
    #[error("no blob with this signed_id: presign with POST /v1/blobs")]
    UnknownBlob,
    /// Nothing was uploaded for the presign yet.
    #[error(
        "nothing is stored for this signed_id: PUT the file to url_for_direct_upload first (a file is deleted once an import of it, other than a dry run, has ended: presign and upload it again)"
    )]
    NotUploaded,
    /// What was uploaded is not what the presign declared.
    #[error("the stored file does not match the declared size and checksum")]
    Mismatch,
    /// The delete guard is not a share from 0 to 1.
    #[error("max_delete_ratio is a number from 0 to 1")]
    InvalidRatio,
    /// The table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file storage failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The job queue failed after the job was recorded (it stays pending; the local worker
    /// resumes pending jobs when it starts).
    #[error("the job queue failed: {0}")]
    Queue(String),
}

impl From<QueueError> for StartError {
    fn from(e: QueueError) -> Self {
        StartError::Queue(e.0)
    }
}

/// The delete guard a caller asks for: `max_delete_ratio` when given (a share from 0 to 1),
/// else 1 with `allow_mass_delete`, else [`DEFAULT_MAX_DELETE_RATIO`].
pub fn delete_ratio(
    max_delete_ratio: Option<&str>,
    allow_mass_delete: bool,
) -> Result<f64, StartError> {
    delete_ratio_or(
        max_delete_ratio,
        allow_mass_delete,
        DEFAULT_MAX_DELETE_RATIO,
    )
}

/// [`delete_ratio`] with `default` (the tenant's MIRROR threshold) when nothing is asked.
pub fn delete_ratio_or(
    max_delete_ratio: Option<&str>,
    allow_mass_delete: bool,
    default: f64,
) -> Result<f64, StartError> {
    match max_delete_ratio {
        Some(r) => r
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or(StartError::InvalidRatio),
        None if allow_mass_delete => Ok(1.0),
        None => Ok(default),
    }
}

/// Records a presign's declared file under its `signed_id`, which must be new.
pub async fn record_upload(
    ctx: &ImportContext,
    t: &TenantId,
    signed_id: &str,
    spec: &UploadSpec,
) -> Result<(), StoreError> {
    let body = serde_json::to_vec(spec).expect("an upload spec serialises");
    let item = Item::new(keys::upload_spec(t, signed_id), 1, body);
    ctx.table.put(item, Condition::NotExists).await
}

/// Starts an import of tenant `t`: answers the job and whether it is new (a repeated
/// idempotency key answers the first job, which is not sent again).
pub async fn start(
    ctx: &ImportContext,
    queue: &dyn Queue,
    t: &TenantId,
    request: StartImport,
) -> Result<(Job, bool), StartError> {
    let item = ctx
        .table
        .get(&keys::upload_spec(t, &request.signed_id))
        .await?;
    let spec: UploadSpec = match item {
        Some(i) => serde_json::from_slice(&i.body)
            .map_err(|e| StoreError::Backend(format!("corrupt upload record: {e}")))?,
        None => return Err(StartError::UnknownBlob),
    };
    match ctx.blobs.head(&spec.key).await? {
        None => return Err(StartError::NotUploaded),
        Some(m) if m.size != spec.byte_size || m.checksum != spec.checksum => {
            return Err(StartError::Mismatch);
        }
        Some(_) => {}
    }
    let new = NewJob {
        mode: request.mode,
        blob_key: spec.key,
        content_type: spec.content_type,
        file_name: spec.filename,
        user_id: request.user_id,
        scope: request.scope,
        max_delete_ratio: request.max_delete_ratio,
    };
    let key = request.idempotency_key.as_deref();
    let (job, created) = ctx.jobs.create_as(t, new, key, request.dry_run).await?;
    if created {
        let message = ImportMessage {
            tenant: t.clone(),
            job: job.id,
        };
        queue.send(message).await?;
    }
    Ok((job, created))
}
