//! The Table port: the single-table model every repository is written on, and its adapters.
//!
//! The port mirrors what DynamoDB offers (items addressed by a partition key and a sort key,
//! conditional writes, transactions of up to [`MAX_TRANSACTION_ITEMS`] items, queries of one
//! partition in sort-key order) so that the embedded adapter and the DynamoDB adapter behave
//! the same. [`contract`] holds the test suite every adapter must pass.

pub mod contract;
#[cfg(feature = "aws")]
mod dynamo;
mod embedded;
mod error;
pub mod keys;
mod merged;
mod migrate;
mod pack;
mod schema;
mod socket;

use async_trait::async_trait;

#[cfg(feature = "aws")]
pub use dynamo::{DynamoTable, client_from_env as dynamo_client_from_env, create_table_if_missing};
pub use embedded::EmbeddedTable;
pub use error::StoreError;
pub use merged::{
    count_merged, counter_values, first_merged, page_after, query_all_merged, sum_counters,
};
pub use pack::Transactions;
pub use schema::{SCHEMA_VERSION, ensure_schema, schema_key};
pub use socket::{Lent, SocketTable, lend};

/// The most items one [`Table::transact`] call may write, as in DynamoDB's TransactWriteItems.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The largest page a [`Table::query`] returns, whatever the caller asks.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The address of an item: partition key and sort key, both non-empty strings.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Key {
    /// Partition key (`PK`).
    pub pk: String,
    /// Sort key (`SK`); items of one partition are ordered by its bytes.
    pub sk: String,
}

impl Key {
    /// Builds a key from anything string-like.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// One stored item: its key, a version used for optimistic concurrency, and an opaque body
/// (JSON in every repository of muster).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    /// Where the item lives.
    pub key: Key,
    /// Caller-managed version; [`Condition::VersionIs`] compares against it.
    pub version: u64,
    /// The payload, stored and returned byte for byte.
    #[serde(with = "socket::base64_bytes")]
    pub body: Vec<u8>,
    /// Unix seconds after which the backend may remove the item by itself (DynamoDB's TTL
    /// attribute `ttl`, which acts within days, not at once). Readers must still treat an
    /// item past its time as absent; the embedded store neither keeps nor acts on it.
    pub expires: Option<i64>,
}

impl Item {
    /// Builds an item.
    pub fn new(key: Key, version: u64, body: Vec<u8>) -> Self {
        Self {
            key,
            version,
            body,
            expires: None,
        }
    }

    /// The same item, which the backend may remove after `at` (Unix seconds).
    pub fn expiring_at(mut self, at: i64) -> Self {
        self.expires = Some(at);
        self
    }
}

/// A precondition on the item currently stored at a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Condition {
    /// No precondition.
    Always,
    /// No item may exist at the key (a create).
    NotExists,
    /// An item must exist at the key.
    Exists,
    /// An item must exist with exactly this version.
    VersionIs(u64),
}

/// One write inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Write {
    /// Store `item`, replacing any item at its key, if `condition` holds.
    Put {
        /// The item to store.
        item: Item,
        /// Checked against the item currently at the key.
        condition: Condition,
    },
    /// Remove the item at `key` (a no-op when absent and `condition` allows it).
    Delete {
        /// The item to remove.
        key: Key,
        /// Checked against the item currently at the key.
        condition: Condition,
    },
    /// Write nothing, but fail the transaction unless `condition` holds at `key`.
    Check {
        /// The item to check.
        key: Key,
        /// The condition that must hold.
        condition: Condition,
    },
    /// Add `delta` to the counter at `key`: an item whose version is the count (its body is
    /// kept, empty when the add creates it). The count is the sum of every add committed (an
    /// absent counter holds 0), read as 0 while that sum is below zero. Unconditional; only
    /// inside [`Table::transact`].
    Add {
        /// The counter.
        key: Key,
        /// What to add (negative to subtract).
        delta: i64,
    },
}

impl Write {
    /// The key this write touches.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } | Write::Add { key, .. } => key,
        }
    }

    /// The precondition of this write.
    pub fn condition(&self) -> Condition {
        match self {
            Write::Put { condition, .. }
            | Write::Delete { condition, .. }
            | Write::Check { condition, .. } => *condition,
            Write::Add { .. } => Condition::Always,
        }
    }
}

/// Which sort keys of a partition a query visits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SkRange {
    /// Sort keys starting with this prefix (the empty prefix visits the whole partition).
    Prefix(String),
    /// Sort keys `from <= sk < to`.
    Between {
        /// Inclusive lower bound.
        from: String,
        /// Exclusive upper bound.
        to: String,
    },
}

/// A query of one partition, in ascending sort-key order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Query {
    /// The partition to read.
    pub pk: String,
    /// The sort keys to visit.
    pub range: SkRange,
    /// Resume after this cursor (returned by a previous page of the same query).
    pub cursor: Option<String>,
    /// At most this many items (clamped to [`MAX_PAGE_SIZE`]; 0 means the maximum).
    pub limit: usize,
}

impl Query {
    /// A query of the sort keys of `pk` starting with `prefix`, first page, maximum size.
    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            range: SkRange::Prefix(prefix.into()),
            cursor: None,
            limit: 0,
        }
    }

    /// The same query limited to `limit` items.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The same query resumed after `cursor`.
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The page size actually used.
    pub fn effective_limit(&self) -> usize {
        if self.limit == 0 {
            MAX_PAGE_SIZE
        } else {
            self.limit.min(MAX_PAGE_SIZE)
        }
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Page {
    /// Items in ascending sort-key order.
    pub items: Vec<Item>,
    /// Present when more items may follow; pass it to [`Query::after`].
    pub cursor: Option<String>,
}

/// The single-table storage port.
///
/// Guarantees every adapter keeps (checked by [`contract`]):
/// - `get` of a missing key is `Ok(None)`, never an error.
/// - A conditional write whose condition fails writes nothing and returns
///   [`StoreError::ConditionFailed`].
/// - `transact` is all or nothing: when any condition fails, nothing is written and the error
///   names the index of the first failing write. Two concurrent transactions that both require
///   `NotExists` at one key never both succeed.
/// - `query` returns items of one partition in ascending byte order of the sort key; following
///   the cursors visits each matching item exactly once.
/// - `batch_write` applies unconditional puts and deletes; it is not atomic as a whole.
#[async_trait]
pub trait Table: Send + Sync + 'static {
    /// Reads one item.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Reads several items at once (as strongly consistent as [`Table::get`]): the answer
    /// holds one entry per key, in the order of `keys`, `None` where nothing is stored. Keys
    /// may repeat; adapters chunk as their backend requires.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// Reads one page of a partition.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Counts the items a query would visit over all its pages.
    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError>;

    /// Stores one item if `condition` holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;

    /// Removes one item if `condition` holds.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    /// Applies up to [`MAX_TRANSACTION_ITEMS`] writes on distinct keys atomically.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Applies unconditional puts and deletes (any number; adapters chunk them).
    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// The first `limit` (at least 1) items of `range` over the partitions `pks` (at least
    /// one) in ascending sort-key order, and whether more follow. Callers go through
    /// [`first_merged`]. The default reads every partition in rounds of [`Table::query`]; an
    /// adapter that can walk its partitions side by side answers the same items more cheaply.
    async fn first_across(
        &self,
        pks: &[String],
        range: &SkRange,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        merged::by_rounds(self, pks, range, limit).await
    }

    /// The first page of each query, in their order, as [`Table::query`] answers each. The
    /// default sends them all at once; an adapter with snapshots answers them from one.
    async fn query_each(&self, queries: &[Query]) -> Result<Vec<Page>, StoreError> {
        futures_util::future::try_join_all(queries.iter().map(|q| self.query(q))).await
    }

    /// This table for bulk work that records its progress durably on its own (an import's
    /// checkpoints): a write through it may reach the disk only with the next durable write of
    /// the same store, which takes every earlier write along in commit order, so a crash can
    /// lose the newest deferred writes, never one without those before it. `None` when the
    /// adapter makes every write durable anyway (DynamoDB).
    fn deferred(&self) -> Option<std::sync::Arc<dyn Table>> {
        None
    }
}

/// Checks a transaction's shape before any adapter sends it: 1 to [`MAX_TRANSACTION_ITEMS`]
/// writes, each key once, each key acceptable to the adapter (`check_key`).
pub(crate) fn validate_transaction(
    writes: &[Write],
    check_key: impl Fn(&Key) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACTION_ITEMS} writes, not {}",
            writes.len()
        )));
    }
    // Sorted rather than hashed: cheaper for the hundred keys at most, which share long
    // prefixes (measured: the hashing was a fifteenth of an import's planning CPU).
    let mut keys = Vec::with_capacity(writes.len());
    for write in writes {
        check_key(write.key())?;
        keys.push(write.key());
    }
    keys.sort_unstable();
    if keys.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(StoreError::Invalid(
            "a transaction may touch each key once".into(),
        ));
    }
    Ok(())
}

/// Checks a batch: only unconditional puts and deletes, on keys acceptable to the adapter.
pub(crate) fn validate_batch(
    writes: &[Write],
    check_key: impl Fn(&Key) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for write in writes {
        check_key(write.key())?;
        if !matches!(write, Write::Put { .. } | Write::Delete { .. })
            || write.condition() != Condition::Always
        {
            return Err(StoreError::Invalid(
                "batch writes are unconditional puts and deletes".into(),
            ));
        }
    }
    Ok(())
}

/// The smallest string greater than every string that starts with `prefix` (non-empty).
pub fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = if last == '\u{D7FF}' {
            Some('\u{E000}')
        } else {
            char::from_u32(last as u32 + 1)
        };
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\u{10FFFF}".repeat(prefix.chars().count() + 1)
}

/// Reads every item of a query, following cursors. Meant for bounded partitions only.
pub async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut query = query;
    let mut items = Vec::new();
    loop {
        let page = table.query(&query).await?;
        items.extend(page.items);
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_string_after_every_key_with_the_prefix() {
        assert_eq!(prefix_end("USER#"), "USER$");
        assert!(prefix_end("A\u{10FFFF}").as_str() > "A\u{10FFFF}\u{10FFFF}");
    }
}
