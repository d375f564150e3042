//! The embedded Table adapter on redb: one file for `muster serve`, memory for tests.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redb::{
    ConcurrencyMode, Database, DatabaseError, ReadableDatabase, ReadableTable, TableDefinition,
};

use super::{
    Condition, Item, Key, MAX_TRANSACTION_ITEMS, Page, Query, SkRange, StoreError, Table, Write,
    prefix_end,
};

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// A [`Table`] stored in a redb database.
///
/// Writes are serialised by redb's single write transaction, so conditions are checked and
/// applied atomically. A file-backed database is opened in redb's multi-writer mode, so an
/// admin command can write to the data dir of a running `muster serve`.
#[derive(Clone)]
pub struct EmbeddedTable {
    db: Arc<Database>,
}

impl EmbeddedTable {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
                    StoreError::Backend(format!(
                        "{} is held by another program (an older muster?); stop it and retry",
                        path.display()
                    ))
                }
                other => StoreError::Backend(format!("cannot open {}: {other}", path.display())),
            })?;
        Self::init(db)
    }

    /// A fresh database kept in memory, for tests.
    pub fn in_memory() -> Self {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("an in-memory redb database always opens");
        Self::init(db).expect("an in-memory redb database always initialises")
    }

    fn init(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(ITEMS).map_err(backend)?;
        txn.commit().map_err(backend)?;
        Ok(Self { db: Arc::new(db) })
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| StoreError::Backend(format!("storage task failed: {e}")))?
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn encode(version: u64, body: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + body.len());
    value.extend_from_slice(&version.to_be_bytes());
    value.extend_from_slice(body);
    value
}

fn decode(key: Key, value: &[u8]) -> Result<Item, StoreError> {
    let (version, body) = value
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Backend("corrupt item value".into()))?;
    Ok(Item::new(key, u64::from_be_bytes(*version), body.to_vec()))
}

fn check_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("keys must not be empty".into()));
    }
    Ok(())
}

fn holds(condition: Condition, current: Option<u64>) -> bool {
    match condition {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current == Some(v),
    }
}

fn current_version(
    table: &redb::Table<(&str, &str), &[u8]>,
    key: &Key,
) -> Result<Option<u64>, StoreError> {
    let found = table
        .get((key.pk.as_str(), key.sk.as_str()))
        .map_err(backend)?;
    Ok(match found {
        Some(guard) => Some(decode(key.clone(), guard.value())?.version),
        None => None,
    })
}

/// Applies `writes` in one redb transaction; commits only if every condition holds.
fn apply(db: &Database, writes: &[Write]) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    {
        let mut table = txn.open_table(ITEMS).map_err(backend)?;
        for (index, write) in writes.iter().enumerate() {
            if !holds(write.condition(), current_version(&table, write.key())?) {
                return Err(StoreError::ConditionFailed { index });
            }
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
            }
        }
    }
    txn.commit().map_err(backend)
}

fn bounds(range: &SkRange) -> (String, Option<String>) {
    match range {
        SkRange::Prefix(p) => (p.clone(), (!p.is_empty()).then(|| prefix_end(p))),
        SkRange::Between { from, to } => (from.clone(), Some(to.clone())),
    }
}

fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| StoreError::Invalid("malformed page cursor".into()))
}

fn read_page(db: &Database, query: &Query) -> Result<Page, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(ITEMS).map_err(backend)?;
    let (from, to) = bounds(&query.range);
    let start = match &query.cursor {
        Some(c) => {
            let after = decode_cursor(c)?;
            if after < from {
                return Err(StoreError::Invalid("page cursor outside the query".into()));
            }
            Bound::Excluded(after)
        }
        None => Bound::Included(from),
    };
    let pk = query.pk.as_str();
    let lower = match &start {
        Bound::Included(s) => Bound::Included((pk, s.as_str())),
        Bound::Excluded(s) => Bound::Excluded((pk, s.as_str())),
        Bound::Unbounded => Bound::Unbounded,
    };
    let next_pk = format!("{pk}\0");
    let upper = match &to {
        Some(t) => Bound::Excluded((pk, t.as_str())),
        None => Bound::Excluded((next_pk.as_str(), "")),
    };
    let limit = query.effective_limit();
    let mut items = Vec::new();
    let mut more = false;
    for entry in table
        .range::<(&str, &str)>((lower, upper))
        .map_err(backend)?
    {
        let (k, v) = entry.map_err(backend)?;
        if items.len() == limit {
            more = true;
            break;
        }
        let (kpk, ksk) = k.value();
        items.push(decode(Key::new(kpk, ksk), v.value())?);
    }
    let cursor = match (more, items.last()) {
        (true, Some(last)) => Some(URL_SAFE_NO_PAD.encode(last.key.sk.as_bytes())),
        _ => None,
    };
    Ok(Page { items, cursor })
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            let found = table
                .get((key.pk.as_str(), key.sk.as_str()))
                .map_err(backend)?;
            match found {
                Some(guard) => Ok(Some(decode(key.clone(), guard.value())?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let query = query.clone();
        self.blocking(move |db| read_page(db, &query)).await
    }

    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        let pk = pk.to_owned();
        let (from, to) = bounds(range);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            let lower = (pk.as_str(), from.as_str());
            let iter = match &to {
                Some(t) => table.range::<(&str, &str)>(lower..(pk.as_str(), t.as_str())),
                None => table.range::<(&str, &str)>(lower..),
            }
            .map_err(backend)?;
            let mut n = 0u64;
            for entry in iter {
                let (k, _) = entry.map_err(backend)?;
                if k.value().0 != pk {
                    break;
                }
                n += 1;
            }
            Ok(n)
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        check_key(&item.key)?;
        self.blocking(move |db| apply(db, &[Write::Put { item, condition }]))
            .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        check_key(key)?;
        let key = key.clone();
        self.blocking(move |db| apply(db, &[Write::Delete { key, condition }]))
            .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Invalid(format!(
                "a transaction holds 1 to {MAX_TRANSACTION_ITEMS} writes, not {}",
                writes.len()
            )));
        }
        let mut seen = HashSet::new();
        for write in &writes {
            check_key(write.key())?;
            if !seen.insert(write.key().clone()) {
                return Err(StoreError::Invalid(
                    "a transaction may touch each key once".into(),
                ));
            }
        }
        self.blocking(move |db| apply(db, &writes)).await
    }

    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        for write in &writes {
            check_key(write.key())?;
            if !matches!(write, Write::Put { .. } | Write::Delete { .. })
                || write.condition() != Condition::Always
            {
                return Err(StoreError::Invalid(
                    "batch writes are unconditional puts and deletes".into(),
                ));
            }
        }
        self.blocking(move |db| apply(db, &writes)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_in_memory_table_passes_the_contract_suite() {
        super::super::contract::run_all(|| async { EmbeddedTable::in_memory() }).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_table_keeps_items_across_reopen() {
        let dir = std::env::temp_dir().join(format!("muster-redb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reopen.redb");
        let _ = std::fs::remove_file(&path);
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
}
