//! The keys of imports: uploads, jobs and each job's own partition.

use super::{Key, tenant_pk};
use crate::ids::TenantId;

/// A presigned upload's declared file (size, checksum, type), named by its `signed_id`.
pub fn upload_spec(t: &TenantId, signed_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("BLOB#{signed_id}"))
}

/// A pending upload to the local blob store, named by its one-time token.
pub fn pending_upload(token: &str) -> Key {
    Key::new("UPLOADS", format!("U#{token}"))
}

/// An import job's record.
pub fn job(t: &TenantId, id: u64) -> Key {
    Key::new(tenant_pk(t), format!("JOB#{id:012}"))
}

/// The counter that numbers a tenant's import jobs.
pub fn job_sequence(t: &TenantId) -> Key {
    Key::new(tenant_pk(t), "JOBSEQ")
}

/// The job an idempotency key started (the key is stored hashed).
pub fn job_idempotency(t: &TenantId, idempotency_key: &str) -> Key {
    let hash = crate::auth::sha256_hex(idempotency_key.as_bytes());
    Key::new(tenant_pk(t), format!("IDEM#{hash}"))
}

/// The partition listing unfinished jobs of every tenant, for a worker that restarts.
pub const ACTIVE_JOBS_PK: &str = "ACTIVEJOBS";

/// An unfinished job's entry in [`ACTIVE_JOBS_PK`].
pub fn active_job(t: &TenantId, id: u64) -> Key {
    Key::new(ACTIVE_JOBS_PK, format!("{t}#{id:012}"))
}

/// The partition of one job's row errors, checkpoints, forecasts, deletions and report.
pub fn job_pk(t: &TenantId, job: u64) -> String {
    format!("T#{t}#J#{job:012}")
}

/// Sort-key prefix of a job's row errors.
pub const JOB_ERROR_PREFIX: &str = "E#";
/// Sort-key prefix of a job's report rows.
pub const JOB_REPORT_PREFIX: &str = "R#";

/// A row error of a job, ordered by line then column.
pub fn job_error(t: &TenantId, job: u64, line: u64, column: &str) -> Key {
    Key::new(
        job_pk(t, job),
        format!("{JOB_ERROR_PREFIX}{line:012}#{column}"),
    )
}

/// A report row of a job.
pub fn job_report_row(t: &TenantId, job: u64, id: u64) -> Key {
    Key::new(job_pk(t, job), format!("{JOB_REPORT_PREFIX}{id:06}"))
}

/// A chunk's checkpoint: it was applied, with its counts.
pub fn job_checkpoint(t: &TenantId, job: u64, chunk: &str) -> Key {
    Key::new(job_pk(t, job), format!("K#{chunk}"))
}

/// A chunk's forecast counts, recorded before its first write.
pub fn job_forecast(t: &TenantId, job: u64, chunk: &str) -> Key {
    Key::new(job_pk(t, job), format!("F#{chunk}"))
}

/// Part `i` of a job's frozen deletion plan.
pub fn job_deletions(t: &TenantId, job: u64, i: usize) -> Key {
    Key::new(job_pk(t, job), format!("X#{i:08}"))
}

/// The head of a job's frozen deletion plan (how many parts, and the scope).
pub fn job_deletions_head(t: &TenantId, job: u64) -> Key {
    Key::new(job_pk(t, job), "X#head")
}
