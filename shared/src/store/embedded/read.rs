//! Reads of the embedded store: point reads, partition pages and counts, each on one snapshot
//! (see `snapshot`), run inline since they never wait on a writer.

use std::ops::Bound;
use std::sync::{Arc, LazyLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::snapshot::Items;
use super::{backend, decode};
use crate::store::{Item, Key, Page, Query, SkRange, StoreError, prefix_end};

pub(super) fn bounds(range: &SkRange) -> (String, Option<String>) {
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

/// One item, or `None`.
pub fn get(table: &Items, key: &Key) -> Result<Option<Item>, StoreError> {
    let found = table
        .get((key.pk.as_str(), key.sk.as_str()))
        .map_err(backend)?;
    match found {
        Some(guard) => Ok(Some(decode(key.clone(), guard.value())?)),
        None => Ok(None),
    }
}

/// Several items from one snapshot, in the order of `keys`.
pub fn get_many(table: &Items, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
    keys.iter()
        .map(|key| {
            let found = table
                .get((key.pk.as_str(), key.sk.as_str()))
                .map_err(backend)?;
            found
                .map(|guard| decode(key.clone(), guard.value()))
                .transpose()
        })
        .collect()
}

/// The fewest keys a batch read hands to another thread: below this, starting a thread costs
/// more than the B-tree walks it would take over.
const KEYS_PER_THREAD: usize = 256;

/// The threads one batch read may use: the machine's cores, up to 4. Read once, since asking
/// the system reads files under `/sys` (measured: most of a list page's CPU when asked per call).
static CORES: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)));

/// [`get_many`] of a large batch split over the machine's cores: an import's lookups of a
/// thousand members at once otherwise keep one core busy while the others wait. The parts run
/// on the same snapshot, so the answer is the one [`get_many`] gives.
pub async fn get_many_parallel(
    table: Arc<Items>,
    keys: &[Key],
) -> Result<Vec<Option<Item>>, StoreError> {
    let parts = (keys.len() / KEYS_PER_THREAD).clamp(1, *CORES);
    if parts == 1 {
        return get_many(&table, keys);
    }
    let size = keys.len().div_ceil(parts);
    let others: Vec<_> = keys[size..]
        .chunks(size)
        .map(|part| {
            let (table, part) = (table.clone(), part.to_vec());
            tokio::task::spawn_blocking(move || get_many(&table, &part))
        })
        .collect();
    let mut found = get_many(&table, &keys[..size])?;
    for other in others {
        let part = other
            .await
            .map_err(|e| StoreError::Backend(format!("a batch read failed: {e}")))??;
        found.extend(part);
    }
    Ok(found)
}

/// A walk over the items of one partition, in sort-key order.
pub(super) type Walk = redb::Range<'static, (&'static str, &'static str), &'static [u8]>;

/// The items of partition `pk` from the sort key `start` up to `to` (excluded; `None`: to the
/// partition's end), as a walk over the snapshot `table`.
pub(super) fn walk(
    table: &Items,
    pk: &str,
    start: Bound<&str>,
    to: Option<&str>,
) -> Result<Walk, StoreError> {
    let lower = start.map(|sk| (pk, sk));
    // Past every sort key of the partition: the next partition key up, from its empty sort key.
    let next_pk = format!("{pk}\0");
    let upper = match to {
        Some(to) => Bound::Excluded((pk, to)),
        None => Bound::Excluded((next_pk.as_str(), "")),
    };
    table.range::<(&str, &str)>((lower, upper)).map_err(backend)
}

/// One page of a partition in sort-key order; the cursor is the last sort key returned.
pub fn page(table: &Items, query: &Query) -> Result<Page, StoreError> {
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
    let start = start.as_ref().map(String::as_str);
    let limit = query.effective_limit();
    let mut items = Vec::new();
    let mut more = false;
    for entry in walk(table, &query.pk, start, to.as_deref())? {
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

/// How many items a range of a partition holds.
pub fn count(table: &Items, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
    let (from, to) = bounds(range);
    let mut n = 0u64;
    for entry in walk(table, pk, Bound::Included(&from), to.as_deref())? {
        entry.map_err(backend)?;
        n += 1;
    }
    Ok(n)
}
