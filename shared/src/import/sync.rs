//! The syncing pass: rows are applied in chunks, each chunk in a few batched steps (look its
//! members up, create the new ones, update the changed ones, then apply every membership edit
//! together). Each chunk's counts are forecast and recorded before its first write, and the
//! chunk is checkpointed after its last, so a redelivered message or a restarted worker
//! applies and counts nothing twice. Unchanged rows write nothing. A dry run goes through the
//! same chunks and checkpoints, plans each one the same way, and writes none of it.

use std::time::Instant;

use futures_util::future::join_all;

use super::Mode;
use super::check::Checked;
use super::jobs::Job;
use super::ledger::ChunkLedger;
use super::plan::{ChunkPlan, Grants, Unwritten, plan_chunk, plan_removal};
use super::reader::{Columns, Row};
use super::report::{Tally, merge};
use super::worker::ImportContext;
use crate::community::{Edit, Source};
use crate::directory::{DirectoryError, NewUser, UserChange};
use crate::store::{StoreError, Write};

/// Rows per checkpointed chunk.
pub const CHUNK_ROWS: usize = 1000;

/// Applies the changes of existing users (those not empty).
async fn change_users(
    ctx: &ImportContext,
    job: &Job,
    changes: &[(String, UserChange)],
) -> Result<(), DirectoryError> {
    let work = changes
        .iter()
        .filter(|(_, change)| !change.is_empty())
        .map(|(id, change)| ctx.users.apply(&job.tenant, id, change));
    for done in join_all(work).await {
        done?;
    }
    Ok(())
}

/// Memberships written in the transaction that creates their member, up to this many (a
/// member of more communities gets the rest through [`Memberships::apply_many`]).
///
/// [`Memberships::apply_many`]: crate::community::Memberships::apply_many
const GRANTS_WITH_CREATE: usize = 16;

/// Creates the users of `new` together with their memberships; answers each one's id and
/// whether its memberships were written with it. A member created meanwhile by someone else
/// (same matricule) is taken as is, its memberships left to the caller.
async fn create_new(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    new: &[(NewUser, Grants)],
) -> Result<Vec<(String, bool)>, DirectoryError> {
    let t = &job.tenant;
    let attach = |k: usize| new[k].1.len() <= GRANTS_WITH_CREATE;
    let extra = |k: usize, id: &str| -> Vec<Write> {
        if !attach(k) {
            return Vec::new();
        }
        new[k]
            .1
            .iter()
            .flat_map(|(community, role)| {
                let source = Source::File { role: *role };
                ctx.memberships.first_grant(t, id, community, source)
            })
            .collect()
    };
    let wanted: Vec<NewUser> = new.iter().map(|(user, _)| user.clone()).collect();
    let created = ctx
        .users
        .create_many(t, &wanted, &checked.domains, &extra)
        .await?;
    let mut ids = Vec::with_capacity(created.len());
    for (k, (created, user)) in created.into_iter().zip(&wanted).enumerate() {
        ids.push(match created {
            Ok(made) => (made.record.id, made.with_extra && attach(k)),
            Err(DirectoryError::Uniqueness(taken)) => {
                let number = [user.employee_number.as_deref().unwrap_or_default()];
                match ctx.users.by_employee_numbers(t, &number).await?.pop() {
                    Some(Some(id)) => (id, false),
                    _ => return Err(DirectoryError::Uniqueness(taken)),
                }
            }
            Err(e) => return Err(e),
        });
    }
    Ok(ids)
}

/// Writes a plan: the changed members, the new ones with their memberships, then every
/// membership edit together.
async fn carry_out(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    plan: ChunkPlan,
) -> Result<(), DirectoryError> {
    change_users(ctx, job, &plan.changes).await?;
    let mut edits = plan.edits;
    if !plan.new.is_empty() {
        let created = create_new(ctx, job, checked, &plan.new).await?;
        for ((id, granted), (_, grants)) in created.into_iter().zip(&plan.new) {
            if !granted {
                for (community, role) in grants {
                    let edit = Edit::Grant(Source::File { role: *role });
                    edits.push((id.clone(), community.clone(), edit));
                }
            }
        }
    }
    ctx.memberships.apply_many(&job.tenant, &edits).await?;
    Ok(())
}

/// A chunk's counts. A real run records the plan's forecast in the chunk's ledger (an
/// earlier attempt's forecast wins, see [`ChunkLedger`]), then writes the plan; a dry run
/// answers the forecast and writes nothing.
async fn step(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    plan: Result<ChunkPlan, DirectoryError>,
    ledger: &ChunkLedger<'_>,
) -> Result<Tally, DirectoryError> {
    let plan = plan?;
    if job.dry_run {
        return Ok(plan.planned);
    }
    let tally = ledger.forecast(plan.planned.clone()).await?;
    carry_out(ctx, job, checked, plan).await?;
    Ok(tally)
}

/// How the syncing pass ended.
pub enum Synced {
    /// Every chunk is done; the counts of the whole job.
    Done(Tally),
    /// The deadline came first.
    Continue,
    /// The directory refused a write the check did not foresee, for this reason.
    Refused(String),
}

/// Sorts a directory failure while applying rows: storage failures and contention (the state
/// moved under the chunk: a writer won, a user went away) are transient, so the message is
/// delivered again and the chunk applied anew; a refusal the check did not foresee stops
/// the job with its reason.
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

/// Applies (for a dry run, plans) every chunk of `rows`, then the deletions `checked` holds,
/// skipping the chunks an earlier run checkpointed, until `deadline`; keeps `job`'s counters.
pub async fn sync(
    ctx: &ImportContext,
    job: &mut Job,
    checked: &Checked,
    columns: &Columns,
    rows: impl Iterator<Item = Row>,
    deadline: Option<Instant>,
) -> Result<Synced, StoreError> {
    let (t, id) = (job.tenant.clone(), job.id);
    let mut unwritten = (job.dry_run && job.mode != Mode::Delete).then(Unwritten::default);
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
        let tally = match ctx.data.checkpoint(&t, id, &name).await? {
            Some((_, done)) => done,
            None => {
                let ledger = ChunkLedger::new(&ctx.data, &t, id, &name);
                let plan = plan_chunk(ctx, job, checked, columns, &chunk, unwritten.as_ref());
                let tally = match refused(step(ctx, job, checked, plan.await, &ledger).await)? {
                    Ok(tally) => tally,
                    Err(reason) => return Ok(Synced::Refused(reason)),
                };
                ctx.data
                    .put_checkpoint(&t, id, &name, count, &tally)
                    .await?;
                tally
            }
        };
        if let Some(unwritten) = unwritten.as_mut().filter(|_| rows.peek().is_some()) {
            unwritten.note(columns, &chunk);
        }
        merge(&mut total, &tally);
        job.counters.rows_read += count;
        if !job.dry_run {
            job.counters.rows_applied += count;
        }
        let late = deadline.is_some_and(|d| Instant::now() >= d);
        if n.is_multiple_of(10) || late {
            let counters = job.counters;
            ctx.jobs.update(job, |j| j.counters = counters).await?;
        }
        if late {
            return Ok(Synced::Continue);
        }
    }
    for (k, pairs) in checked.deletions.chunks(CHUNK_ROWS).enumerate() {
        let name = format!("D{k:08}");
        let tally = match ctx.data.checkpoint(&t, id, &name).await? {
            Some((_, done)) => done,
            None => {
                let ledger = ChunkLedger::new(&ctx.data, &t, id, &name);
                let plan = plan_removal(ctx, job, pairs).await;
                let tally = match refused(step(ctx, job, checked, plan, &ledger).await)? {
                    Ok(tally) => tally,
                    Err(reason) => return Ok(Synced::Refused(reason)),
                };
                let rows = pairs.len() as u64;
                ctx.data.put_checkpoint(&t, id, &name, rows, &tally).await?;
                tally
            }
        };
        merge(&mut total, &tally);
    }
    Ok(Synced::Done(total))
}
