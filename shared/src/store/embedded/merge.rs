//! Reading the first items of several partitions as one, on one snapshot: each partition's
//! range is walked from its start and the walks are merged as they go, so a page costs its own
//! items plus one look ahead per partition (the rounds of queries a DynamoDB table needs read
//! about twice the page).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Bound;

use redb::AccessGuard;

use super::read::{Walk, bounds, walk};
use super::snapshot::Items;
use super::{backend, decode};
use crate::store::{Item, Key, SkRange, StoreError};

/// The partitions' next items: their sort keys in a min-heap (ties go to the partition listed
/// first), their values kept aside until taken.
struct Heads {
    order: BinaryHeap<Reverse<(String, usize)>>,
    values: Vec<Option<AccessGuard<'static, &'static [u8]>>>,
}

impl Heads {
    /// Moves walk `w` one item on, if it has one.
    fn pull(&mut self, walk: &mut Walk, w: usize) -> Result<(), StoreError> {
        if let Some(entry) = walk.next() {
            let (key, value) = entry.map_err(backend)?;
            self.order.push(Reverse((key.value().1.to_owned(), w)));
            self.values[w] = Some(value);
        }
        Ok(())
    }
}

/// The first `limit` items of `range` over the partitions `pks` in ascending sort-key order,
/// and whether more follow (the contract of `Table::first_across`).
pub fn first_across(
    table: &Items,
    pks: &[String],
    range: &SkRange,
    limit: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    let (from, to) = bounds(range);
    let mut walks = pks
        .iter()
        .map(|pk| walk(table, pk, Bound::Included(&from), to.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut heads = Heads {
        order: BinaryHeap::with_capacity(pks.len()),
        values: (0..pks.len()).map(|_| None).collect(),
    };
    for (w, walk) in walks.iter_mut().enumerate() {
        heads.pull(walk, w)?;
    }
    let mut out = Vec::with_capacity(limit.min(1024));
    while out.len() < limit {
        let Some(Reverse((sk, w))) = heads.order.pop() else {
            break;
        };
        let value = heads.values[w].take().expect("a head has its value");
        out.push(decode(Key::new(pks[w].clone(), sk), value.value())?);
        heads.pull(&mut walks[w], w)?;
    }
    Ok((out, !heads.order.is_empty()))
}
