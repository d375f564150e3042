//! Group commit: one thread owns the embedded store's writes. Requests that arrive while a
//! commit is under way are applied together in the next redb transaction and made durable by
//! one commit, so concurrent writers share the cost of a sync instead of queueing for one each.
//! Each request keeps its own all-or-nothing semantics: its conditions are all checked before
//! any of its writes is applied, against the state left by the requests before it.
//!
//! A file-backed store makes a durable group durable through its [journal](super::journal):
//! one small synced append instead of a sync of every B-tree page the group touched (about
//! twenty 4 KiB pages for four SCIM creates). The group goes to redb as a deferred commit. A
//! durable group is a redb durable commit instead (a checkpoint, after which the journal starts
//! over) when a deferred group was committed since the last checkpoint (its writes are in no
//! record, and a durable write takes every write before it to disk), or when the journal is
//! full. An idle writer checkpoints after [`IDLE_CHECKPOINT`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::oneshot;

use super::apply::Group;
use super::journal::{Effects, Journal, mark_applied};
use super::{ITEMS, backend};
use crate::store::{StoreError, Write};

/// The most requests folded into one commit.
const MAX_GROUP: usize = 512;

struct Job {
    writes: Vec<Write>,
    durable: bool,
    /// The outcome, with the writes handed back so that the requester frees them: the
    /// writer's thread is an import's bottleneck, the requesters' are not.
    reply: oneshot::Sender<(Result<(), StoreError>, Vec<Write>)>,
}

/// The handle of the writer thread; dropping the last one stops and joins it.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread of `db`, which adds 1 to `commits` after each group it
    /// applies (committed, or refused by a condition that a reader's snapshot may not show
    /// yet) and before answering the requests it holds. Durable groups go to `journal` when
    /// there is one (a file-backed store whose journal has been replayed).
    pub fn start(db: Arc<Database>, commits: Arc<AtomicU64>, journal: Option<Journal>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let mut state = Durably {
            journal,
            checkpoint_first: false,
        };
        let thread = std::thread::Builder::new()
            .name("muster-redb-writer".into())
            .spawn(move || run(&db, &rx, &commits, &mut state))
            .expect("the writer thread starts");
        Self {
            jobs: Some(tx),
            thread: Some(thread),
        }
    }

    /// Applies `writes` atomically, after the requests queued before them. When `durable`,
    /// they are on disk before the answer; otherwise they may reach the disk only with the next
    /// durable commit (redb's `Durability::None`), which takes every commit before it along, so
    /// a crash can lose the newest deferred writes but never one without those before it.
    pub async fn submit(&self, writes: Vec<Write>, durable: bool) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .expect("the writer runs until dropped")
            .send(Job {
                writes,
                durable,
                reply,
            })
            .map_err(|_| StoreError::Backend("the storage writer stopped".into()))?;
        let (outcome, writes) = answer
            .await
            .map_err(|_| StoreError::Backend("the storage writer stopped".into()))?;
        drop(writes);
        outcome
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How the writer makes groups durable.
struct Durably {
    /// The journal of a file-backed store.
    journal: Option<Journal>,
    /// Whether the next durable group must be a checkpoint: a deferred group was committed
    /// since the last one (its writes are in no record), or an append failed (its record may
    /// be in the file, and only a checkpoint marks its number applied).
    checkpoint_first: bool,
}

impl Durably {
    /// Whether something was committed without a sync since the last checkpoint.
    fn pending(&self) -> bool {
        self.checkpoint_first || self.journal.as_ref().is_some_and(|j| !j.is_empty())
    }
}

/// Applies one group of requests in one redb transaction and commits it: deferred groups
/// without a sync; durable ones through the journal when it can take them, else by a
/// checkpoint. Answers each request's outcome; fails as a whole (nothing committed) on a
/// storage error.
fn commit_group(
    db: &Database,
    jobs: &[Job],
    state: &mut Durably,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let durable = jobs.iter().any(|job| job.durable);
    let journal = state
        .journal
        .as_mut()
        .filter(|_| durable && !state.checkpoint_first);
    let mut txn = db.begin_write().map_err(backend)?;
    if !durable || journal.is_some() {
        txn.set_durability(Durability::None).map_err(backend)?;
    }
    let mut effects = journal.as_ref().map(|_| Effects::default());
    let mut results = Vec::with_capacity(jobs.len());
    {
        let mut table = txn.open_table(ITEMS).map_err(backend)?;
        let mut group = Group::new(&mut table, effects.as_mut());
        for job in jobs {
            results.push(group.apply(&job.writes));
        }
        group.finish()?;
    }
    if let Some(Err(e)) = results
        .iter()
        .find(|r| matches!(r, Err(StoreError::Backend(_))))
    {
        let e = StoreError::Backend(e.to_string());
        txn.abort().map_err(backend)?;
        return Err(e);
    }
    if results.iter().all(Result::is_err) {
        txn.abort().map_err(backend)?;
        return Ok(results);
    }
    if let (Some(journal), Some(effects)) = (journal, &effects) {
        if effects.is_empty() {
            txn.commit().map_err(backend)?;
            return Ok(results);
        }
        if journal.fits(effects) {
            mark_applied(&txn, journal.next())?;
            let appended = journal.append(effects, || txn.commit().map_err(backend));
            if appended.is_err() {
                state.checkpoint_first = true;
            }
            return appended.map(|()| results);
        }
        txn.set_durability(Durability::Immediate).map_err(backend)?;
    }
    if durable {
        checkpoint(txn, state)?;
    } else {
        txn.commit().map_err(backend)?;
        state.checkpoint_first = true;
    }
    Ok(results)
}

/// How long the writer waits, idle, before a checkpoint of what it committed without a sync
/// (journaled groups, an import's deferred ones): after a burst of writes the journal is empty
/// again within about this long, a restart has nothing to replay, and redb may reuse the pages
/// those commits freed.
pub const IDLE_CHECKPOINT: Duration = Duration::from_secs(1);

/// Commits `txn` durably, with everything committed before it, as a checkpoint: it records
/// that the items hold every journal record numbered so far (each was committed, or failed and
/// must never be replayed), and the journal starts over.
fn checkpoint(txn: WriteTransaction, state: &mut Durably) -> Result<(), StoreError> {
    if let Some(journal) = &state.journal {
        mark_applied(&txn, journal.next() - 1)?;
    }
    txn.commit().map_err(backend)?;
    state.checkpoint_first = false;
    if let Some(journal) = state.journal.as_mut() {
        journal.start_over();
    }
    Ok(())
}

/// The writer thread: takes the requests queued, a group at a time, commits each group and
/// answers its requests; checkpoints when idle; ends when every handle is dropped.
fn run(db: &Database, rx: &mpsc::Receiver<Job>, commits: &AtomicU64, state: &mut Durably) {
    loop {
        let first = match rx.recv_timeout(IDLE_CHECKPOINT) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if state.pending() {
                    let txn = db.begin_write().map_err(backend);
                    if let Err(e) = txn.and_then(|txn| checkpoint(txn, state)) {
                        tracing::error!(error = %e, "embedded store checkpoint failed");
                    }
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match commit_group(db, &jobs, state) {
            Ok(results) => {
                commits.fetch_add(1, Ordering::Release);
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send((result, job.writes));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "embedded store commit failed");
                for job in jobs {
                    let failed = Err(StoreError::Backend(e.to_string()));
                    let _ = job.reply.send((failed, job.writes));
                }
            }
        }
    }
}
