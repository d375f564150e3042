//! Pages of a kind's records at any `startIndex` in about the page's own reads.
//!
//! A listing has no resume key on the wire: SCIM clients page by `startIndex` (RFC 7644
//! §3.4.2.4). Reaching row 50,001 by reading and skipping 50,000 rows makes a full walk
//! quadratic, so the last sort key of every full page served is remembered as where the page
//! after it resumes: in this process for [`CACHED_SECS`], and in the table for [`HINT_SECS`]
//! for the other processes (Lambda instances). A client walking the pages, as identity
//! providers do, then costs each page its own items. A `startIndex` nobody walked to falls
//! back to reading and skipping the rows before it.
//!
//! A hint resumes after a row, not at an offset: when rows before it were deleted meanwhile,
//! the walker gets the rows after the last one it saw, neither skipping nor repeating one.
//! RFC 7644 §3.4.2.4 makes index paging stateless and has clients expect inconsistent results
//! across pages when resources change; resuming after a row is the least surprising of those.

use std::sync::LazyLock;
use std::time::Duration;

use super::records::{Record, Records, decode};
use crate::ids::TenantId;
use crate::remembered::Remembered;
use crate::store::{Condition, Item, SkRange, StoreError, first_merged, keys, page_after};

/// How long a process trusts a hint it wrote or read.
pub const CACHED_SECS: u64 = 600;
/// How long a hint stays in the table.
pub const HINT_SECS: i64 = 3600;
/// The most hints a process keeps (the oldest go first).
const CACHED_MAX: usize = 10_000;

type HintKey = (TenantId, &'static str, usize);

/// The hints this process wrote or read.
fn hints() -> &'static Remembered<HintKey, String> {
    static HINTS: LazyLock<Remembered<HintKey, String>> =
        LazyLock::new(|| Remembered::new(Duration::from_secs(CACHED_SECS), CACHED_MAX));
    &HINTS
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Records {
    /// Up to `count` resources starting at the 1-based `start_index`, in id order, resuming
    /// after the row a hint names when one is known (see the module's notes).
    pub async fn page(
        &self,
        t: &TenantId,
        start_index: usize,
        count: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let prefix = self.kind.prefix;
        let shards = (self.kind.shards)(t);
        let resume = match start_index {
            0 | 1 => None,
            _ => self.hint(t, start_index).await?,
        };
        let items: Vec<Item> = match resume {
            Some(after) => {
                page_after(&*self.table, &shards, prefix, Some(&after), count)
                    .await?
                    .0
            }
            None => {
                let skip = start_index.saturating_sub(1);
                let range = SkRange::Prefix(prefix.into());
                let (items, _) = first_merged(&*self.table, &shards, &range, skip + count).await?;
                items.into_iter().skip(skip).collect()
            }
        };
        if count > 0
            && items.len() == count
            && let Some(last) = items.last()
        {
            self.remember(t, start_index.max(1) + count, &last.key.sk)
                .await;
        }
        items.iter().map(decode).collect()
    }

    /// The sort key the page at `start_index` resumes after, if a page before it left one.
    async fn hint(&self, t: &TenantId, start_index: usize) -> Result<Option<String>, StoreError> {
        let key = (t.clone(), self.kind.prefix, start_index);
        if let Some(sk) = hints().get(&key) {
            return Ok(Some(sk));
        }
        let stored = self
            .table
            .get(&keys::page_hint(t, self.kind.prefix, start_index))
            .await?;
        let sk = stored
            .filter(|i| i.expires.is_none_or(|at| at > unix_now()))
            .and_then(|i| String::from_utf8(i.body).ok())
            .filter(|sk| sk.starts_with(self.kind.prefix));
        if let Some(sk) = &sk {
            hints().insert(key, sk.clone());
        }
        Ok(sk)
    }

    /// Remembers that the page at `start_index` resumes after `sk`. A hint that cannot be
    /// stored costs the next process a skip, not an error.
    async fn remember(&self, t: &TenantId, start_index: usize, sk: &str) {
        let key = (t.clone(), self.kind.prefix, start_index);
        if hints().get(&key).as_deref() == Some(sk) {
            return;
        }
        hints().insert(key, sk.to_owned());
        let hint = Item::new(
            keys::page_hint(t, self.kind.prefix, start_index),
            1,
            sk.as_bytes().to_vec(),
        )
        .expiring_at(unix_now() + HINT_SECS);
        if let Err(e) = self.table.put(hint, Condition::Always).await {
            tracing::warn!(error = %e, "a page hint was not stored");
        }
    }
}
