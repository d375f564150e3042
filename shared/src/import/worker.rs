//! Running a job: loading → checking → syncing → succeeded | failed. Safe to run again on the
//! same job (a redelivered message, a restarted worker): finished jobs are left alone and
//! applied chunks are skipped by their checkpoints. A dry run takes the same steps and
//! writes nothing to the directory.

use std::sync::Arc;
use std::time::Instant;

use super::check::{Checked, check};
use super::jobs::{Job, JobStore};
use super::notify::mark_created_since;
use super::reader::{Columns, Row, open_any};
use super::report::{JobData, report_rows};
use super::sync::{Synced, sync};
use super::{JobState, Mode};
use crate::activity::{Activity, Event, Kind};
use crate::auth::{TenantError, Tenants};
use crate::blob::Blobs;
use crate::community::{Communities, Memberships};
use crate::directory::UserDirectory;
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
    /// A context over `table` and `blobs`. The directory's writes and the job's data
    /// (forecasts, checkpoints, row errors, the report) go through the table's
    /// [deferred](Table::deferred) view where it has one; only the job's record is written
    /// durably (its state, and its counters every tenth chunk). A durable write takes every
    /// write before it to disk, so after a crash what is on disk is a prefix of the job's
    /// writes: a chunk's writes never without its forecast, a checkpoint never without its
    /// chunk, an ended job never without its report. The next run applies again what no
    /// surviving checkpoint covers.
    pub fn new(table: Arc<dyn Table>, blobs: Arc<dyn Blobs>) -> Self {
        let bulk = table.deferred().unwrap_or_else(|| table.clone());
        Self {
            users: Arc::new(UserDirectory::new(bulk.clone())),
            memberships: Memberships::new(bulk.clone()),
            communities: Arc::new(Communities::new(table.clone())),
            tenants: Tenants::new(table.clone()),
            jobs: JobStore::new(table.clone()),
            data: JobData::new(bulk),
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
    let event = Event::now(
        Kind::Import,
        &job.user_id,
        "import ended",
        &format!("job {}", job.id),
        &format!("failed: {reason}"),
    );
    Activity::new(ctx.table.clone())
        .record(&job.tenant, event)
        .await;
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
/// the bucket's lifecycle rule (S3) removes what is left behind. A dry run's file is kept, so
/// that the real import can start from the same `signed_id`.
async fn discard_file(ctx: &ImportContext, job: &Job) {
    if job.dry_run {
        return;
    }
    if let Err(e) = ctx.blobs.delete(&job.blob_key).await {
        tracing::warn!(tenant = %job.tenant, job = job.id, error = %e, "the member file was not deleted");
    }
}

/// Ends a job whose file must not be applied: a real job fails with `reason`; a dry run
/// succeeds with `reason` as its verdict (the real job would fail so), reporting nothing.
async fn refuse(ctx: &ImportContext, job: &mut Job, reason: String) -> Result<Outcome, StoreError> {
    if !job.dry_run {
        return fail(ctx, job, reason).await;
    }
    finish(ctx, job, Some(reason)).await
}

/// Marks a job succeeded; a dry run keeps `verdict`, why the real job would be refused.
async fn finish(
    ctx: &ImportContext,
    job: &mut Job,
    verdict: Option<String>,
) -> Result<Outcome, StoreError> {
    let counters = job.counters;
    ctx.jobs
        .update(job, |j| {
            j.state = JobState::Succeeded;
            j.counters = counters;
            j.reason = verdict;
        })
        .await?;
    let (rows, dry_run) = (counters.rows_total, job.dry_run);
    tracing::info!(tenant = %job.tenant, job = job.id, rows, dry_run, reason = ?job.reason, "import succeeded");
    let what = if dry_run {
        "preview ended"
    } else {
        "import ended"
    };
    let event = Event::now(
        Kind::Import,
        &job.user_id,
        what,
        &format!("job {}", job.id),
        &format!("succeeded, {rows} rows"),
    );
    Activity::new(ctx.table.clone())
        .record(&job.tenant, event)
        .await;
    discard_file(ctx, job).await;
    Ok(Outcome::Done)
}

/// Runs job `id` of tenant `t` until it finishes or `deadline` passes. A dry run goes as far
/// as a real job with `max_delete_ratio` 1 would, writes nothing to the directory, and ends
/// `succeeded` with the report the real job would write and, when the real job would be
/// refused, its reason (see [`Job::would_apply`]).
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
    let (columns, rows) = match open(ctx, &job).await? {
        Ok(opened) => opened,
        Err(reason) => return refuse(ctx, &mut job, reason).await,
    };
    ctx.jobs
        .update(&mut job, |j| j.state = JobState::Checking)
        .await?;
    // The e-mail domain allowlist is never skipped: a failed read sends the job back to be
    // retried, and an unreadable tenant fails it.
    let (invites, domains) = match ctx.tenants.get(t).await {
        Ok(Some(tenant)) => (tenant.auto_invites(), tenant.domains),
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
    let checking = Instant::now();
    let mut checked = check(ctx, &job, &columns, rows, &domains).await?;
    job.counters.rows_total = checked.rows_total;
    let check_ms = checking.elapsed().as_millis();
    tracing::debug!(tenant = %t, job = id, rows = checked.rows_total, check_ms, "import checked");
    let mut verdict = None;
    match ctx.data.frozen_plan(t, id).await? {
        // An earlier run passed every check and began to write: its decisions stand, and
        // its deletions, counted before anything was deleted, are the ones to finish.
        Some(plan) => {
            checked.deletions = plan.deletions;
            checked.members_in_scope = plan.members_in_scope;
        }
        None => {
            if let Some(reason) = rejected(ctx, &mut job, &checked).await? {
                return refuse(ctx, &mut job, reason).await;
            }
            // A dry run previews what the real job would do past the guard, and freezes
            // nothing: the guard's refusal is its verdict.
            verdict = guarded(&job, &checked);
            if !job.dry_run {
                if let Some(reason) = verdict.take() {
                    return fail(ctx, &mut job, reason).await;
                }
                let (deletions, in_scope) = (&checked.deletions, checked.members_in_scope);
                ctx.data.freeze_plan(t, id, deletions, in_scope).await?;
            }
        }
    }
    ctx.jobs
        .update(&mut job, |j| j.state = JobState::Syncing)
        .await?;
    let (columns, rows) = open(ctx, &job).await?.map_err(StoreError::Backend)?;
    let checked = Arc::new(checked);
    let syncing = Instant::now();
    let total = match sync(ctx, &mut job, &checked, &columns, rows, deadline).await? {
        Synced::Done(total) => total,
        Synced::Continue => return Ok(Outcome::Continue),
        Synced::Refused(reason) => return refuse(ctx, &mut job, reason).await,
    };
    let sync_ms = syncing.elapsed().as_millis();
    tracing::debug!(tenant = %t, job = id, sync_ms, "import synced");
    let report = report_rows(&checked, &total);
    ctx.data.put_report(t, id, &report).await?;
    if invites && !job.dry_run {
        // Marked before the job ends: a crash in between runs the job again, and the members
        // it created are still pending and still newer than the job.
        let created = total.iter().filter(|(_, n)| n[0] > 0).map(|(c, _)| c);
        for community in created {
            mark_created_since(&ctx.table, t, community, &job.created_at).await?;
        }
    }
    finish(ctx, &mut job, verdict).await
}

/// The job's file, opened: its columns and rows, or why it cannot be read as a member file.
async fn open(ctx: &ImportContext, job: &Job) -> Result<Result<Opened, String>, StoreError> {
    let source = ctx
        .blobs
        .open(&job.blob_key)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(open_any(source, &job.content_type, job.mode).map_err(|e| e.0))
}

/// A member file's columns and rows.
type Opened = (Columns, Box<dyn Iterator<Item = Row> + Send>);

/// Why the checked file must not be applied whatever the guard says (rows rejected, no rows),
/// if it must not; row errors are stored first.
async fn rejected(
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
    Ok(None)
}

/// Why the MIRROR guard refuses the checked file, if it does.
fn guarded(job: &Job, checked: &Checked) -> Option<String> {
    if job.mode == Mode::Mirror && checked.members_in_scope > 0 {
        let threshold = job.max_delete_ratio;
        let proceed = "nothing was changed. Send allow_mass_delete=true or a higher max_delete_ratio to proceed";
        let ratio = checked.deletions.len() as f64 / checked.members_in_scope as f64;
        if ratio > threshold {
            return Some(format!(
                "MIRROR would remove {} of the {} members in scope ({:.1} %), above the {:.1} % threshold; {proceed}",
                checked.deletions.len(),
                checked.members_in_scope,
                ratio * 100.0,
                threshold * 100.0
            ));
        }
        let over = over_threshold(checked, threshold);
        if !over.is_empty() {
            return Some(format!(
                "MIRROR would remove too much of {} communit{} ({}), above the {:.1} % threshold per community or emptying it; {proceed}",
                over.len(),
                if over.len() == 1 { "y" } else { "ies" },
                over.join("; "),
                threshold * 100.0
            ));
        }
    }
    None
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
