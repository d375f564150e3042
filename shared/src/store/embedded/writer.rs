//! Group commit: one thread owns the embedded store's writes. Requests that arrive while a
//! commit is under way are applied together in the next redb transaction and made durable by
//! one commit, so concurrent writers share the cost of a sync instead of queueing for one each.
//! Each request keeps its own all-or-nothing semantics: its conditions are all checked before
//! any of its writes is applied, against the state left by the requests before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use redb::{Database, Durability, ReadableTable};
use tokio::sync::oneshot;

use super::{ITEMS, backend, decode, encode, split};
use crate::store::{Condition, StoreError, Write};

/// The most requests folded into one commit.
const MAX_GROUP: usize = 512;

struct Job {
    writes: Vec<Write>,
    durable: bool,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle of the writer thread; dropping the last one stops and joins it.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread of `db`, which adds 1 to `commits` after each group it
    /// applies (committed, or refused by a condition that a reader's snapshot may not show
    /// yet) and before answering the requests it holds.
    pub fn start(db: Arc<Database>, commits: Arc<AtomicU64>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("muster-redb-writer".into())
            .spawn(move || run(&db, &rx, &commits))
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
        answer
            .await
            .map_err(|_| StoreError::Backend("the storage writer stopped".into()))?
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

fn holds(condition: Condition, current: Option<u64>) -> bool {
    match condition {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current == Some(v),
    }
}

type ItemsTable<'t> = redb::Table<'t, (&'static str, &'static str), &'static [u8]>;

/// Checks every condition of one request, then applies its writes.
fn apply_one(table: &mut ItemsTable<'_>, writes: &[Write]) -> Result<(), StoreError> {
    for (index, write) in writes.iter().enumerate() {
        if write.condition() == Condition::Always {
            // Nothing to check: reading the item would cost a B-tree lookup for nothing
            // (measured: an eighth of the writer thread's time in an import).
            continue;
        }
        let key = write.key();
        let found = table
            .get((key.pk.as_str(), key.sk.as_str()))
            .map_err(backend)?;
        let current = match found {
            Some(guard) => Some(decode(key.clone(), guard.value())?.version),
            None => None,
        };
        if !holds(write.condition(), current) {
            return Err(StoreError::ConditionFailed { index });
        }
    }
    for write in writes {
        match write {
            Write::Put { item, .. } => {
                let value = encode(item.version, &item.body);
                table
                    .insert(
                        (item.key.pk.as_str(), item.key.sk.as_str()),
                        value.as_slice(),
                    )
                    .map_err(backend)?;
            }
            Write::Delete { key, .. } => {
                table
                    .remove((key.pk.as_str(), key.sk.as_str()))
                    .map_err(backend)?;
            }
            Write::Check { .. } => {}
            Write::Add { key, delta } => {
                let k = (key.pk.as_str(), key.sk.as_str());
                let (count, body) = match table.get(k).map_err(backend)? {
                    Some(guard) => {
                        let (count, body) = split(guard.value())?;
                        (count.cast_signed(), body.to_vec())
                    }
                    None => (0, Vec::new()),
                };
                let value = encode(count.wrapping_add(*delta).cast_unsigned(), &body);
                table.insert(k, value.as_slice()).map_err(backend)?;
            }
        }
    }
    Ok(())
}

fn commit_group(db: &Database, jobs: &[Job]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut txn = db.begin_write().map_err(backend)?;
    if !jobs.iter().any(|job| job.durable) {
        txn.set_durability(Durability::None).map_err(backend)?;
    }
    let mut results = Vec::with_capacity(jobs.len());
    {
        let mut table = txn.open_table(ITEMS).map_err(backend)?;
        for job in jobs {
            results.push(apply_one(&mut table, &job.writes));
        }
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
    } else {
        txn.commit().map_err(backend)?;
    }
    Ok(results)
}

fn run(db: &Database, rx: &mpsc::Receiver<Job>, commits: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match commit_group(db, &jobs) {
            Ok(results) => {
                commits.fetch_add(1, Ordering::Release);
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "embedded store commit failed");
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}
