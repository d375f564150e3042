//! The syncing pass: rows are applied in chunks, each chunk in a few batched steps (look its
//! members up, create the new ones, update the changed ones, then apply every membership edit
//! together). Each chunk's counts are forecast and recorded before its first write, and the
//! chunk is checkpointed after its last, so a redelivered message or a restarted worker
//! applies and counts nothing twice. Unchanged rows write nothing. A dry run goes through the
//! same chunks and checkpoints, plans each one the same way, and writes none of it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::{join, join_all};
use futures_util::stream::FuturesOrdered;

use super::Mode;
use super::check::Checked;
use super::jobs::Job;
use super::ledger::ChunkLedger;
use super::plan::{ChunkPlan, Grants, Unwritten, plan_chunk, plan_removal};
use super::reader::{Columns, Row};
use super::report::{Tally, merge};
use super::task::Spawned;
use super::worker::ImportContext;
use crate::community::{Edit, Source};
use crate::directory::{DirectoryError, NewUser, PreparedUsers, UserChange};
use crate::ids::TenantId;
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

/// Whether new member `k` gets its memberships in its own transaction.
fn attach(new: &[(NewUser, Grants)], k: usize) -> bool {
    new[k].1.len() <= GRANTS_WITH_CREATE
}

/// The writes that create new member `k`'s memberships as `id`, in its transaction (none
/// when it has too many: see [`GRANTS_WITH_CREATE`]).
fn grant_writes(
    ctx: &ImportContext,
    t: &TenantId,
    new: &[(NewUser, Grants)],
    k: usize,
    id: &str,
) -> Vec<Write> {
    if !attach(new, k) {
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
}

/// Prepares the creation of the users of `new` with their memberships (reads, no writes).
async fn prepare_new(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    new: &[(NewUser, Grants)],
) -> Result<PreparedUsers, DirectoryError> {
    let t = &job.tenant;
    let extra = |k: usize, id: &str| grant_writes(ctx, t, new, k, id);
    let wanted: Vec<&NewUser> = new.iter().map(|(user, _)| user).collect();
    let users = &ctx.users;
    users
        .prepare_many(t, &wanted, &checked.domains, &extra)
        .await
}

/// Creates the users of `new` as `prepared`, together with their memberships; answers each
/// one's id and whether its memberships were written with it. A member created meanwhile by
/// someone else (same matricule) is taken as is, its memberships left to the caller.
async fn create_new(
    ctx: &ImportContext,
    job: &Job,
    new: &[(NewUser, Grants)],
    prepared: PreparedUsers,
) -> Result<Vec<(String, bool)>, DirectoryError> {
    let t = &job.tenant;
    let extra = |k: usize, id: &str| grant_writes(ctx, t, new, k, id);
    let created = ctx.users.commit_many(t, prepared, &extra).await?;
    let mut ids = Vec::with_capacity(created.len());
    for (k, (created, (user, _))) in created.into_iter().zip(new).enumerate() {
        ids.push(match created {
            Ok(made) => (made.record.id, made.with_extra && attach(new, k)),
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

/// Writes a plan: the changed members, the new ones (as `prepared`) with their memberships,
/// then every membership edit together.
async fn carry_out(
    ctx: &ImportContext,
    job: &Job,
    plan: ChunkPlan,
    prepared: PreparedUsers,
) -> Result<(), DirectoryError> {
    change_users(ctx, job, &plan.changes).await?;
    let mut edits = plan.edits;
    if !plan.new.is_empty() {
        let created = create_new(ctx, job, &plan.new, prepared).await?;
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
/// earlier attempt's forecast wins, see [`ChunkLedger`]) while it prepares the new members
/// (reads only), then writes the plan; a dry run answers the forecast and writes nothing.
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
    let forecast = ledger.forecast(plan.planned.clone());
    let prepared = prepare_new(ctx, job, checked, &plan.new);
    let (tally, prepared) = join(forecast, prepared).await;
    let (tally, prepared) = (tally?, prepared?);
    carry_out(ctx, job, plan, prepared).await?;
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

/// Chunks of a real run under way at once. A chunk starts while the ones before it are still
/// writing (their waits on the store overlap, and concurrent commits share a sync), unless it
/// lists a member (matricule) one of them lists: then it waits for them, so each member's rows
/// still apply in file order. A dry run plans one chunk at a time (each plan builds on what the
/// chunks before it would have written). Eight, not four, since a chunk prepares its new
/// members while its forecast is written: a 200,000-row UPSERT was faster in 5 of 6 pairs of
/// runs (49,714 against 48,011 rows/s on average).
pub const CHUNKS_IN_FLIGHT: usize = 8;

/// One chunk's outcome: its rows and counts, or why the directory refused it.
type ChunkDone = Result<(u64, Tally), String>;

/// Applies (for a dry run, plans) the chunk `name`, unless an earlier run checkpointed it.
async fn run_chunk(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    chunk: Vec<Row>,
    name: String,
    unwritten: Option<&Unwritten>,
) -> Result<ChunkDone, StoreError> {
    let (t, id) = (&job.tenant, job.id);
    let count = chunk.len() as u64;
    if let Some((_, done)) = ctx.data.checkpoint(t, id, &name).await? {
        return Ok(Ok((count, done)));
    }
    let ledger = ChunkLedger::new(&ctx.data, t, id, &name);
    let plan = plan_chunk(ctx, job, checked, columns, &chunk, unwritten);
    let tally = match refused(step(ctx, job, checked, plan.await, &ledger).await)? {
        Ok(tally) => tally,
        Err(reason) => return Ok(Err(reason)),
    };
    ctx.data.put_checkpoint(t, id, &name, count, &tally).await?;
    Ok(Ok((count, tally)))
}

/// What the chunks done so far add up to, and whether to start no more.
struct Progress {
    total: Tally,
    chunks: usize,
    late: bool,
    refusal: Option<String>,
}

impl Progress {
    /// Counts a chunk done (in file order) into the job's counters, saved every tenth chunk
    /// and when the deadline has come.
    async fn account(
        &mut self,
        ctx: &ImportContext,
        job: &mut Job,
        done: ChunkDone,
        deadline: Option<Instant>,
    ) -> Result<(), StoreError> {
        let (count, tally) = match done {
            Ok(done) => done,
            Err(reason) => {
                self.refusal.get_or_insert(reason);
                return Ok(());
            }
        };
        merge(&mut self.total, &tally);
        job.counters.rows_read += count;
        if !job.dry_run {
            job.counters.rows_applied += count;
        }
        self.chunks += 1;
        self.late = deadline.is_some_and(|d| Instant::now() >= d);
        if self.chunks.is_multiple_of(10) || self.late {
            let counters = job.counters;
            ctx.jobs.update(job, |j| j.counters = counters).await?;
        }
        Ok(())
    }

    fn stopping(&self) -> bool {
        self.late || self.refusal.is_some()
    }
}

/// The members (matricules) a chunk lists.
fn members(columns: &Columns, chunk: &[Row]) -> HashSet<String> {
    chunk
        .iter()
        .map(|r| r.cell(columns, "matricule").to_owned())
        .collect()
}

/// Applies (for a dry run, plans) every chunk of `rows`, then the deletions `checked` holds,
/// skipping the chunks an earlier run checkpointed, until `deadline`; keeps `job`'s counters.
pub async fn sync(
    ctx: &ImportContext,
    job: &mut Job,
    checked: &Arc<Checked>,
    columns: &Columns,
    rows: impl Iterator<Item = Row>,
    deadline: Option<Instant>,
) -> Result<Synced, StoreError> {
    let (t, id) = (job.tenant.clone(), job.id);
    let planning = job.clone();
    let mut unwritten = (job.dry_run && job.mode != Mode::Delete).then(Unwritten::default);
    job.counters.rows_read = 0;
    job.counters.rows_applied = 0;
    let mut progress = Progress {
        total: Tally::new(),
        chunks: 0,
        late: false,
        refusal: None,
    };
    let mut rows = rows.peekable();
    let mut n = 0usize;
    let mut in_flight = FuturesOrdered::new();
    let mut listed: VecDeque<HashSet<String>> = VecDeque::new();
    let mut held: Option<Vec<Row>> = None;
    loop {
        while in_flight.len() < CHUNKS_IN_FLIGHT && !progress.stopping() {
            // Each run applies at least one chunk; past the deadline it starts no other.
            if n > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                progress.late = true;
                break;
            }
            let chunk = match held.take() {
                Some(chunk) => chunk,
                None if rows.peek().is_some() => rows.by_ref().take(CHUNK_ROWS).collect(),
                None => break,
            };
            let name = format!("R{n:08}");
            if let Some(unwritten) = unwritten.as_mut() {
                n += 1;
                let done = run_chunk(
                    ctx,
                    &planning,
                    checked,
                    columns,
                    chunk.clone(),
                    name,
                    Some(unwritten),
                );
                let done = done.await?;
                if rows.peek().is_some() {
                    unwritten.note(columns, &chunk);
                }
                progress.account(ctx, job, done, deadline).await?;
                continue;
            }
            let names = members(columns, &chunk);
            if listed.iter().any(|m| !m.is_disjoint(&names)) {
                held = Some(chunk);
                break;
            }
            n += 1;
            listed.push_back(names);
            let (ctx, job, checked) = (ctx.clone(), planning.clone(), checked.clone());
            let columns = columns.clone();
            in_flight.push_back(Spawned::new(async move {
                run_chunk(&ctx, &job, &checked, &columns, chunk, name, None).await
            }));
        }
        let Some(done) = in_flight.next().await else {
            break;
        };
        listed.pop_front();
        progress.account(ctx, job, done?, deadline).await?;
    }
    if let Some(reason) = progress.refusal {
        return Ok(Synced::Refused(reason));
    }
    if progress.late && (held.is_some() || rows.peek().is_some()) {
        return Ok(Synced::Continue);
    }
    let mut total = progress.total;
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
