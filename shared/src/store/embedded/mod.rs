//! The embedded Table adapter on redb: one file for `muster serve`, memory for tests.

mod apply;
mod journal;
mod merge;
mod read;
mod snapshot;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{ConcurrencyMode, Database, DatabaseError, TableDefinition};

use super::{Condition, Item, Key, Page, Query, SkRange, StoreError, Table, Write};
use snapshot::Snapshots;
use writer::Writer;

/// The page cache of a file-backed store: bounded so `muster serve`'s memory stays predictable
/// (redb's default is 1 GiB). Measured with `scripts/bench-import`: 64 MiB held twice the
/// peak RSS of 16 MiB (223 against 88 MiB for a 100,000-row MIRROR) for no speed gained.
const CACHE_BYTES: usize = 16 << 20;

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// A [`Table`] stored in a redb database.
///
/// Reads run inline on a snapshot; writes go to one writer thread that checks conditions and
/// applies them serially, committing concurrent requests together ([`writer`]). A file-backed
/// database belongs to one process at a time (redb's exclusive mode), with its commit
/// [`journal`] beside it; `muster serve` lends its store to admin commands over a socket (see
/// `store::socket`).
#[derive(Clone)]
pub struct EmbeddedTable {
    snapshots: Arc<Snapshots>,
    writer: Arc<Writer>,
    /// Whether writes are on disk before their answer (false for [`Table::deferred`]).
    durable: bool,
}

impl EmbeddedTable {
    /// Opens (creating if needed) the database file at `path`; fails when another process
    /// holds it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_unless_held(path)?.ok_or_else(|| {
            StoreError::Backend(format!(
                "{} is held by another program (a running muster serve?); stop it and retry",
                path.display()
            ))
        })
    }

    /// Opens (creating if needed) the database file at `path`, or `None` when another process
    /// holds it.
    pub fn open_unless_held(path: &Path) -> Result<Option<Self>, StoreError> {
        Self::open_with_journal_bytes(path, journal::JOURNAL_BYTES)
    }

    /// [`open_unless_held`](Self::open_unless_held) with a journal of `bytes` (tests use small
    /// ones, to reach the checkpoint a full journal makes). The journal is the file beside
    /// `path` with the extension `journal`.
    #[doc(hidden)]
    pub fn open_with_journal_bytes(path: &Path, bytes: u64) -> Result<Option<Self>, StoreError> {
        let journal = path.with_extension("journal");
        if journal == path {
            return Err(StoreError::Invalid(format!(
                "{} is named like a journal: name the store's file otherwise",
                path.display()
            )));
        }
        let opened = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .set_concurrency_mode(ConcurrencyMode::ExclusiveWriter)
            .create(path);
        match opened {
            Ok(db) => Self::init(db, Some((&journal, bytes))).map(Some),
            Err(DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch) => {
                Ok(None)
            }
            Err(other) => Err(StoreError::Backend(format!(
                "cannot open {}: {other}",
                path.display()
            ))),
        }
    }

    /// A fresh database kept in memory, for tests.
    pub fn in_memory() -> Self {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("an in-memory redb database always opens");
        Self::init(db, None).expect("an in-memory redb database always initialises")
    }

    /// Sets up `db`: replays the records of the journal at `journal` (if any) that its items
    /// lack, in one durable commit, then starts the writer.
    fn init(db: Database, journal: Option<(&Path, u64)>) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(ITEMS).map_err(backend)?;
        let journal = match journal {
            None => None,
            Some((path, capacity)) => Some(journal::recover(&txn, path, capacity)?),
        };
        txn.commit().map_err(backend)?;
        let db = Arc::new(db);
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        Ok(Self {
            writer: Arc::new(Writer::start(db.clone(), commits.clone(), journal)),
            snapshots: Arc::new(Snapshots::new(db, commits)),
            durable: true,
        })
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Sets `value` to the stored form of an item: its version, then its body.
fn encode_into(value: &mut Vec<u8>, version: u64, body: &[u8]) {
    value.clear();
    value.extend_from_slice(&version.to_be_bytes());
    value.extend_from_slice(body);
}

/// The stored version (a counter's count as two's complement) and body of a value.
fn split(value: &[u8]) -> Result<(u64, &[u8]), StoreError> {
    let (version, body) = value
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Backend("corrupt item value".into()))?;
    Ok((u64::from_be_bytes(*version), body))
}

/// The version of a stored value as readers and conditions see it: a counter whose adds sum
/// below zero reads as 0 (see `Write::Add`).
fn seen_version(value: &[u8]) -> Result<u64, StoreError> {
    Ok(readable(split(value)?.0))
}

/// A stored version as it is seen: 0 for a count below zero.
fn readable(version: u64) -> u64 {
    if i64::try_from(version).is_ok() {
        version
    } else {
        0
    }
}

fn decode(key: Key, value: &[u8]) -> Result<Item, StoreError> {
    let (version, body) = split(value)?;
    Ok(Item::new(key, readable(version), body.to_vec()))
}

fn check_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("keys must not be empty".into()));
    }
    Ok(())
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        read::get(&*self.snapshots.current()?, key)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        keys.iter().try_for_each(check_key)?;
        read::get_many_parallel(self.snapshots.current()?, keys).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        read::page(&*self.snapshots.current()?, query)
    }

    async fn query_each(&self, queries: &[Query]) -> Result<Vec<Page>, StoreError> {
        let snapshot = self.snapshots.current()?;
        queries.iter().map(|q| read::page(&snapshot, q)).collect()
    }

    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        read::count(&*self.snapshots.current()?, pk, range)
    }

    async fn first_across(
        &self,
        pks: &[String],
        range: &SkRange,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        merge::first_across(&*self.snapshots.current()?, pks, range, limit)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        check_key(&item.key)?;
        self.writer
            .submit(vec![Write::Put { item, condition }], self.durable)
            .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        check_key(key)?;
        self.writer
            .submit(
                vec![Write::Delete {
                    key: key.clone(),
                    condition,
                }],
                self.durable,
            )
            .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::validate_transaction(&writes, check_key)?;
        self.writer.submit(writes, self.durable).await
    }

    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::validate_batch(&writes, check_key)?;
        if writes.is_empty() {
            return Ok(());
        }
        self.writer.submit(writes, self.durable).await
    }

    fn deferred(&self) -> Option<Arc<dyn Table>> {
        Some(Arc::new(Self {
            durable: false,
            ..self.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of this test process and the path of a data file in it, not there yet.
    fn scratch(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("muster-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.redb"));
        let _ = std::fs::remove_file(&path);
        (dir, path)
    }

    #[tokio::test]
    async fn the_in_memory_table_passes_the_contract_suite() {
        super::super::contract::run_all(|| async { EmbeddedTable::in_memory() }).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_table_keeps_items_across_reopen() {
        let (dir, path) = scratch("reopen");
        {
            let table = EmbeddedTable::open(&path).unwrap();
            let item = Item::new(Key::new("P", "S"), 3, b"x".to_vec());
            table.put(item, Condition::NotExists).await.unwrap();
        }
        let table = EmbeddedTable::open(&path).unwrap();
        let got = table.get(&Key::new("P", "S")).await.unwrap().unwrap();
        assert_eq!((got.version, got.body), (3, b"x".to_vec()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deferred_writes_show_at_once_and_reach_the_file_with_the_next_durable_one() {
        let (dir, path) = scratch("deferred");
        {
            let table = EmbeddedTable::open(&path).unwrap();
            let bulk = table.deferred().expect("the embedded store defers");
            let item = Item::new(Key::new("P", "bulk"), 1, b"b".to_vec());
            bulk.put(item, Condition::NotExists).await.unwrap();
            let seen = table.get(&Key::new("P", "bulk")).await.unwrap();
            assert!(
                seen.is_some(),
                "readers see a deferred write once it is answered"
            );
            let refused = bulk
                .put(
                    Item::new(Key::new("P", "bulk"), 2, vec![]),
                    Condition::NotExists,
                )
                .await;
            assert!(
                refused.unwrap_err().is_condition_failed_at(0),
                "conditions still hold"
            );
            let item = Item::new(Key::new("P", "durable"), 1, b"d".to_vec());
            table.put(item, Condition::NotExists).await.unwrap();
            // As a kill -9 would leave the file: without the close, which commits everything.
            let copy = dir.join("crashed.redb");
            std::fs::copy(&path, &copy).unwrap();
            let crashed = EmbeddedTable::open(&copy).unwrap();
            for sk in ["bulk", "durable"] {
                let found = crashed.get(&Key::new("P", sk)).await.unwrap();
                assert!(found.is_some(), "{sk} is in the file before the close");
            }
        }
        assert!(
            EmbeddedTable::open_unless_held(&path).unwrap().is_some(),
            "the file is free once its table is dropped"
        );
        let table = EmbeddedTable::open(&path).unwrap();
        for sk in ["bulk", "durable"] {
            assert!(
                table.get(&Key::new("P", sk)).await.unwrap().is_some(),
                "{sk}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_writer_checkpoints_so_the_file_alone_holds_every_durable_write() {
        let (dir, path) = scratch("idle");
        let table = EmbeddedTable::open(&path).unwrap();
        let item = Item::new(Key::new("P", "S"), 1, b"x".to_vec());
        table.put(item, Condition::NotExists).await.unwrap();
        let copy = dir.join("copy.redb");
        let mut waited = std::time::Duration::ZERO;
        loop {
            tokio::time::sleep(writer::IDLE_CHECKPOINT).await;
            waited += writer::IDLE_CHECKPOINT;
            std::fs::copy(&path, &copy).unwrap();
            let alone = EmbeddedTable::open(&copy).unwrap();
            if alone.get(&Key::new("P", "S")).await.unwrap().is_some() {
                break;
            }
            assert!(waited < writer::IDLE_CHECKPOINT * 20, "no checkpoint");
        }
        drop(table);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_queued_together_share_commits() {
        let table = EmbeddedTable::in_memory();
        let before = table.snapshots.commits();
        let puts = (0..200).map(|i| {
            let item = Item::new(Key::new("P", format!("{i:03}")), 1, vec![]);
            table.put(item, Condition::NotExists)
        });
        for done in futures_util::future::join_all(puts).await {
            done.unwrap();
        }
        let commits = table.snapshots.commits() - before;
        assert!(
            commits < 100,
            "{commits} commits for 200 requests queued together"
        );
    }

    #[tokio::test]
    async fn a_file_held_by_a_table_is_not_opened_twice() {
        let (dir, path) = scratch("held");
        let held = EmbeddedTable::open(&path).unwrap();
        assert!(EmbeddedTable::open_unless_held(&path).unwrap().is_none());
        let refused = EmbeddedTable::open(&path).err().unwrap().to_string();
        assert!(refused.contains("held by another program"), "{refused}");
        drop(held);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
