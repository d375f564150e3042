//! When a credential (a SCIM token, an API client) was last used, for the console's "last
//! used" columns. A use is written at most once a minute per credential and process, with no
//! read on the request path; a failed write is logged and never fails the request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::store::{Condition, Item, Key, StoreError, Table};

/// Uses closer together than this are written once.
pub const USAGE_RESOLUTION: Duration = Duration::from_secs(60);

/// Entries kept before the oldest are forgotten.
const REMEMBERED: usize = 10_000;

/// Records and reads last uses.
#[derive(Clone)]
pub struct Usage {
    table: Arc<dyn Table>,
    written: Arc<Mutex<HashMap<Key, Instant>>>,
}

impl Usage {
    /// Usage records in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            written: Arc::default(),
        }
    }

    /// Records a use of the credential whose usage item is `key`, now, unless this process
    /// wrote one less than [`USAGE_RESOLUTION`] ago.
    pub async fn touch(&self, key: Key) {
        {
            let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            if written
                .get(&key)
                .is_some_and(|at| at.elapsed() < USAGE_RESOLUTION)
            {
                return;
            }
            if written.len() >= REMEMBERED {
                written.retain(|_, at| at.elapsed() < USAGE_RESOLUTION);
            }
            written.insert(key.clone(), Instant::now());
        }
        let body =
            serde_json::to_vec(&json!({"at": chrono::Utc::now().timestamp()})).expect("json");
        if let Err(e) = self
            .table
            .put(Item::new(key, 1, body), Condition::Always)
            .await
        {
            tracing::warn!(error = %e, "a credential's last use could not be recorded");
        }
    }

    /// The last use (Unix seconds) recorded under each of `keys`.
    pub async fn read(&self, keys: &[Key]) -> Result<Vec<Option<i64>>, StoreError> {
        Ok(self
            .table
            .get_many(keys)
            .await?
            .into_iter()
            .map(|item| {
                let v: serde_json::Value = serde_json::from_slice(&item?.body).ok()?;
                v["at"].as_i64()
            })
            .collect())
    }

    /// Forgets the use recorded under `key` (the credential is gone).
    pub async fn forget(&self, key: &Key) -> Result<(), StoreError> {
        self.table.delete(key, Condition::Always).await
    }
}
