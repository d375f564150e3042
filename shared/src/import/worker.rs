//! Running a job: loading → checking → syncing → succeeded | failed. Safe to run again on the
//! same job (a redelivered message, a restarted worker): finished jobs are left alone and
//! applied chunks are skipped by their checkpoints.

use std::sync::Arc;
use std::time::Instant;

use super::check::{Checked, check};
use super::jobs::{Job, JobStore};
use super::ledger::ChunkLedger;
use super::reader::open_any;
use super::report::{JobData, OperationData, ReportRow, Tally, merge};
use super::sync::{CHUNK_ROWS, apply_chunk, remove};
use super::{JobState, Mode};
use crate::auth::{TenantError, Tenants};
use crate::blob::Blobs;
use crate::community::{Communities, Memberships};
use crate::directory::{DirectoryError, UserDirectory};
use crate::ids::TenantId;
use crate::store::{StoreError, Table};

/// Everything a job needs.
#[derive(Clone)]
pub struct ImportContext {
    /// The table.
    pub table: Arc<dyn Table>,
    /// The directory's users (members are users keyed by employeeNumber).
    pub users: Arc<UserDirectory>,
    /// Memberships.
    pub memberships: Memberships,
    /// Communities.
    pub communities: Arc<Communities>,
    /// Tenants (for allowed domains).
    pub tenants: Tenants,
    /// Jobs.
    pub jobs: JobStore,
    /// Errors, checkpoints and reports.
    pub data: JobData,
    /// Where files are.
    pub blobs: Arc<dyn Blobs>,
}

impl ImportContext {
    /// A context over `table` and `blobs`.
    pub fn new(table: Arc<dyn Table>, blobs: Arc<dyn Blobs>) -> Self {
        Self {
            users: Arc::new(UserDirectory::new(table.clone())),
            memberships: Memberships::new(table.clone()),
            communities: Arc::new(Communities::new(table.clone())),
            tenants: Tenants::new(table.clone()),
            jobs: JobStore::new(table.clone()),
            data: JobData::new(table.clone()),
            blobs,
            table,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The job is finished (or was already).
    Done,
    /// The deadline came first; send the job again to continue where it stopped.
    Continue,
}

async fn fail(ctx: &ImportContext, job: &mut Job, reason: String) -> Result<Outcome, StoreError> {
    tracing::info!(tenant = %job.tenant, job = job.id, %reason, "import failed");
    ctx.jobs
        .update(job, |j| {
            j.state = JobState::Failed;
            j.reason = Some(reason);
        })
        .await?;
    discard_file(ctx, job).await;
    Ok(Outcome::Done)
}

/// Deletes an ended job's uploaded file: its report and row errors are kept in the table,
/// the member file itself is not kept a moment longer than needed. A failure is only logged:
/// the bucket's lifecycle rule (S3) removes what is left behind.
async fn discard_file(ctx: &ImportContext, job: &Job) {
    if let Err(e) = ctx.blobs.delete(&job.blob_key).await {
        tracing::warn!(tenant = %job.tenant, job = job.id, error = %e, "the member file was not deleted");
    }
}

/// Sorts a directory failure while applying rows: storage failures and contention (the state
/// moved under the chunk: a writer won, a user went away) are transient, so the message is
/// delivered again and the chunk applied anew; a refusal the check did not foresee fails the
/// job with its reason.
fn refused<T>(applied: Result<T, DirectoryError>) -> Result<Result<T, String>, StoreError> {
    match applied {
        Ok(done) => Ok(Ok(done)),
        Err(DirectoryError::Store(e)) => Err(e),
        Err(DirectoryError::Stale | DirectoryError::Busy | DirectoryError::NotFound(_)) => {
            Err(StoreError::Conflict)
        }
        Err(e) => Ok(Err(format!("the directory refused a row: {e}"))),
    }
}

/// Runs job `id` of tenant `t` until it finishes or `deadline` passes.
pub async fn run_job(
    ctx: &ImportContext,
    t: &TenantId,
    id: u64,
    deadline: Option<Instant>,
) -> Result<Outcome, StoreError> {
    let Some(mut job) = ctx.jobs.get(t, id).await? else {
        return Ok(Outcome::Done);
    };
    if job.state.is_terminal() {
        return Ok(Outcome::Done);
    }
    ctx.jobs
        .update(&mut job, |j| j.state = JobState::Loading)
        .await?;
    let source = ctx
        .blobs
        .open(&job.blob_key)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let (columns, rows) = match open_any(source, &job.content_type, job.mode) {
        Ok(opened) => opened,
        Err(e) => return fail(ctx, &mut job, e.0).await,
    };
    ctx.jobs
        .update(&mut job, |j| j.state = JobState::Checking)
        .await?;
    // The e-mail domain allowlist is never skipped: a failed read sends the job back to be
    // retried, and an unreadable tenant fails it.
    let domains = match ctx.tenants.get(t).await {
        Ok(Some(tenant)) => tenant.domains,
        Ok(None) => return fail(ctx, &mut job, "the tenant no longer exists".into()).await,
        Err(TenantError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::error!(tenant = %t, error = %e, "the tenant record cannot be read");
            return fail(
                ctx,
                &mut job,
                "the tenant's settings could not be read".into(),
            )
            .await;
        }
    };
    let mut checked = check(ctx, &job, &columns, rows, &domains).await?;
    job.counters.rows_total = checked.rows_total;
    match ctx.data.frozen_plan(t, id).await? {
        // An earlier run passed every check and began to write: its decisions stand, and
        // its deletions, counted before anything was deleted, are the ones to finish.
        Some(plan) => {
            checked.deletions = plan.deletions;
            checked.members_in_scope = plan.members_in_scope;
        }
        None => {
            if let Some(reason) = refusal(ctx, &mut job, &checked).await? {
                return fail(ctx, &mut job, reason).await;
            }
            let (deletions, in_scope) = (&checked.deletions, checked.members_in_scope);
            ctx.data.freeze_plan(t, id, deletions, in_scope).await?;
        }
    }
    ctx.jobs
        .update(&mut job, |j| j.state = JobState::Syncing)
        .await?;
    let source = ctx
        .blobs
        .open(&job.blob_key)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let (columns, rows) =
        open_any(source, &job.content_type, job.mode).map_err(|e| StoreError::Backend(e.0))?;
    let mut total = Tally::new();
    job.counters.rows_read = 0;
    job.counters.rows_applied = 0;
    let mut rows = rows.peekable();
    let mut n = 0usize;
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK_ROWS).collect();
        let name = format!("R{n:08}");
        n += 1;
        let count = chunk.len() as u64;
        let tally = match ctx.data.checkpoint(t, id, &name).await? {
            Some((_, done)) => done,
            None => {
                let ledger = ChunkLedger::new(&ctx.data, t, id, &name);
                let applied = apply_chunk(ctx, &job, &checked, &columns, chunk, &ledger).await;
                let tally = match refused(applied)? {
                    Ok(tally) => tally,
                    Err(reason) => return fail(ctx, &mut job, reason).await,
                };
                ctx.data.put_checkpoint(t, id, &name, count, &tally).await?;
                tally
            }
        };
        merge(&mut total, &tally);
        job.counters.rows_read += count;
        job.counters.rows_applied += count;
        if n.is_multiple_of(10) {
            let counters = job.counters;
            ctx.jobs.update(&mut job, |j| j.counters = counters).await?;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let counters = job.counters;
            ctx.jobs.update(&mut job, |j| j.counters = counters).await?;
            return Ok(Outcome::Continue);
        }
    }
    for (k, pairs) in checked.deletions.chunks(CHUNK_ROWS).enumerate() {
        let name = format!("D{k:08}");
        let tally = match ctx.data.checkpoint(t, id, &name).await? {
            Some((_, done)) => done,
            None => {
                let ledger = ChunkLedger::new(&ctx.data, t, id, &name);
                let tally = match refused(remove(ctx, &job, pairs, &ledger).await)? {
                    Ok(tally) => tally,
                    Err(reason) => return fail(ctx, &mut job, reason).await,
                };
                ctx.data
                    .put_checkpoint(t, id, &name, pairs.len() as u64, &tally)
                    .await?;
                tally
            }
        };
        merge(&mut total, &tally);
    }
    write_report(ctx, &job, &checked, &total).await?;
    let counters = job.counters;
    ctx.jobs
        .update(&mut job, |j| {
            j.state = JobState::Succeeded;
            j.counters = counters;
        })
        .await?;
    tracing::info!(tenant = %t, job = id, rows = counters.rows_total, "import succeeded");
    discard_file(ctx, &job).await;
    Ok(Outcome::Done)
}

/// Why the checked file must not be applied, if it must not; row errors are stored first.
async fn refusal(
    ctx: &ImportContext,
    job: &mut Job,
    checked: &Checked,
) -> Result<Option<String>, StoreError> {
    if !checked.errors.is_empty() {
        let errors = &checked.errors;
        ctx.data
            .put_errors(&job.tenant, job.id, errors.kept())
            .await?;
        let (n, bad_rows) = (errors.total(), errors.rows());
        job.counters.rows_failed = bad_rows;
        let listed = if n > errors.kept().len() as u64 {
            format!("the first {} are listed", errors.kept().len())
        } else {
            "all are listed".to_owned()
        };
        return Ok(Some(format!(
            "{bad_rows} row(s) rejected ({n} error(s): {}); nothing was changed: {listed} at /v1/member_provisionings/errors",
            errors.summary()
        )));
    }
    if checked.rows_total == 0 {
        return Ok(Some("the file has a header but no rows".into()));
    }
    if job.mode == Mode::Mirror && checked.members_in_scope > 0 {
        let threshold = job.max_delete_ratio;
        let proceed = "nothing was changed. Send allow_mass_delete=true or a higher max_delete_ratio to proceed";
        let ratio = checked.deletions.len() as f64 / checked.members_in_scope as f64;
        if ratio > threshold {
            return Ok(Some(format!(
                "MIRROR would remove {} of the {} members in scope ({:.1} %), above the {:.1} % threshold; {proceed}",
                checked.deletions.len(),
                checked.members_in_scope,
                ratio * 100.0,
                threshold * 100.0
            )));
        }
        let over = over_threshold(checked, threshold);
        if !over.is_empty() {
            return Ok(Some(format!(
                "MIRROR would remove too much of {} communit{} ({}), above the {:.1} % threshold per community or emptying it; {proceed}",
                over.len(),
                if over.len() == 1 { "y" } else { "ies" },
                over.join("; "),
                threshold * 100.0
            )));
        }
    }
    Ok(None)
}

/// The communities a MIRROR would empty (unless the threshold is 100 %) or strip of more than
/// `threshold` of their file-sourced members, each named with its counts.
fn over_threshold(checked: &Checked, threshold: f64) -> Vec<String> {
    checked
        .per_community
        .iter()
        .filter(|c| c.deletions > 0)
        .filter_map(|c| {
            let emptied = c.deletions == c.members && threshold < 1.0;
            let ratio = c.deletions as f64 / c.from_file.max(1) as f64;
            (emptied || ratio > threshold).then(|| {
                let name = checked
                    .communities
                    .get(&c.community)
                    .map_or(c.community.as_str(), |(_, name)| name.as_str());
                let emptying = if emptied { ", emptying it" } else { "" };
                format!(
                    "{name}: {} of its {} file-sourced members{emptying}",
                    c.deletions, c.from_file
                )
            })
        })
        .collect()
}

async fn write_report(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    total: &Tally,
) -> Result<(), StoreError> {
    let created_at = chrono::Utc::now().timestamp_millis();
    let mut rows = Vec::new();
    for (code_index, code) in ["CREATE_MEMBER", "UPDATE_MEMBER", "DELETE_MEMBER"]
        .into_iter()
        .enumerate()
    {
        for (community, counts) in total {
            if counts[code_index] == 0 {
                continue;
            }
            let name = checked
                .community(community)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| community.clone());
            rows.push(ReportRow {
                id: rows.len() as u64 + 1,
                code: code.to_owned(),
                created_at,
                operation_data: OperationData {
                    name,
                    value: counts[code_index],
                },
            });
        }
    }
    ctx.data.put_report(&job.tenant, job.id, &rows).await
}
