//! Read snapshots shared between reads. Opening a redb read transaction cost a quarter of the
//! CPU of a `GET /Users/{id}` (measured when the file was shared between processes and each
//! opening took a lock on it); reads therefore share one snapshot until this process commits a
//! write (so every read sees the writes answered before it) or the snapshot is
//! [`SNAPSHOT_MAX_AGE`] old.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redb::{Database, ReadOnlyTable, ReadableDatabase};

use super::{ITEMS, backend};
use crate::store::StoreError;

/// The items table as one snapshot sees it.
pub(super) type Items = ReadOnlyTable<(&'static str, &'static str), &'static [u8]>;

/// How long one snapshot may serve reads while this process writes nothing.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(20);

/// The snapshot reads share, renewed after each commit of this process.
pub(super) struct Snapshots {
    db: Arc<Database>,
    commits: Arc<AtomicU64>,
    current: Mutex<Option<(Arc<Items>, Instant, u64)>>,
}

impl Snapshots {
    /// Snapshots of `db`, renewed when `commits` (counted by the writer) moves.
    pub(super) fn new(db: Arc<Database>, commits: Arc<AtomicU64>) -> Self {
        Self {
            db,
            commits,
            current: Mutex::new(None),
        }
    }

    /// How many groups the writer has applied so far.
    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// A snapshot holding every commit this process answered before the call.
    pub(super) fn current(&self) -> Result<Arc<Items>, StoreError> {
        let commits = self.commits.load(Ordering::Acquire);
        {
            let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((items, at, seen)) = current.as_ref()
                && *seen == commits
                && at.elapsed() < SNAPSHOT_MAX_AGE
            {
                return Ok(items.clone());
            }
        }
        let txn = self.db.begin_read().map_err(backend)?;
        let items = Arc::new(txn.open_table(ITEMS).map_err(backend)?);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((items.clone(), Instant::now(), commits));
        Ok(items)
    }
}
