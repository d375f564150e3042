//! Reading a collection spread over several partitions (see `keys::SHARDS`) as one: every item
//! in sort-key order, how many there are, or the first page of a range. The partitions are
//! read at once, not one after another.

use futures_util::future::try_join_all;

use super::{Item, Query, SkRange, StoreError, Table, query_all};

/// Every item of `range` in the partitions `pks`, in ascending sort-key order.
pub async fn query_all_merged(
    table: &dyn Table,
    pks: &[String],
    range: &SkRange,
) -> Result<Vec<Item>, StoreError> {
    let reads = pks.iter().map(|pk| {
        let query = Query {
            pk: pk.clone(),
            range: range.clone(),
            cursor: None,
            limit: 0,
        };
        query_all(table, query)
    });
    let mut items: Vec<Item> = try_join_all(reads).await?.into_iter().flatten().collect();
    items.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
    Ok(items)
}

/// How many items of `range` the partitions `pks` hold together.
pub async fn count_merged(
    table: &dyn Table,
    pks: &[String],
    range: &SkRange,
) -> Result<u64, StoreError> {
    let counts = pks.iter().map(|pk| table.count(pk, range));
    Ok(try_join_all(counts).await?.into_iter().sum())
}

/// The first `limit` items of `range` over the partitions `pks` in ascending sort-key order,
/// and whether more follow. Each partition is asked for `limit + 1` items: any item among the
/// first `limit` overall is among the first `limit` of its own partition.
pub async fn first_merged(
    table: &dyn Table,
    pks: &[String],
    range: &SkRange,
    limit: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    if limit == 0 {
        return Ok((Vec::new(), true));
    }
    let reads = pks.iter().map(|pk| up_to(table, pk, range, limit + 1));
    let pages = try_join_all(reads).await?;
    let mut more = pages.iter().any(|(_, more)| *more);
    let mut items: Vec<Item> = pages.into_iter().flat_map(|(items, _)| items).collect();
    items.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
    if items.len() > limit {
        items.truncate(limit);
        more = true;
    }
    Ok((items, more))
}

/// The first `n` items of `range` in partition `pk` (following its pages), and whether more
/// follow.
async fn up_to(
    table: &dyn Table,
    pk: &str,
    range: &SkRange,
    n: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    let mut query = Query {
        pk: pk.to_owned(),
        range: range.clone(),
        cursor: None,
        limit: n,
    };
    let mut items = Vec::new();
    loop {
        query.limit = n - items.len();
        let page = table.query(&query).await?;
        items.extend(page.items);
        match page.cursor {
            Some(c) if items.len() < n => query.cursor = Some(c),
            Some(_) => return Ok((items, true)),
            None => return Ok((items, false)),
        }
    }
}
