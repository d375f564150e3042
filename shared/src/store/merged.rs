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

/// The sum of the counters at `keys` (see [`super::Write::Add`]), read in one batch; an
/// absent counter counts 0.
pub async fn sum_counters(table: &dyn Table, keys: &[super::Key]) -> Result<u64, StoreError> {
    Ok(counter_values(table, keys).await?.iter().sum())
}

/// The count each counter at `keys` holds, in their order, read in one batch; an absent
/// counter holds 0.
pub async fn counter_values(
    table: &dyn Table,
    keys: &[super::Key],
) -> Result<Vec<u64>, StoreError> {
    let found = table.get_many(keys).await?;
    Ok(found
        .iter()
        .map(|i| i.as_ref().map_or(0, |i| i.version))
        .collect())
}

/// The first `limit` items of `range` over the partitions `pks` in ascending sort-key order,
/// and whether more follow (see [`Table::first_across`]; `limit` 0 answers that more follow
/// when there are partitions).
pub async fn first_merged(
    table: &dyn Table,
    pks: &[String],
    range: &SkRange,
    limit: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    if limit == 0 || pks.is_empty() {
        return Ok((Vec::new(), limit == 0 && !pks.is_empty()));
    }
    table.first_across(pks, range, limit).await
}

/// [`first_merged`] with pages of [`Table::query`], for a backend whose partitions are only
/// read one query at a time (DynamoDB). `limit` and `pks` are not empty.
///
/// Each round asks every partition for a little more than its share (twice `limit / pks`, plus
/// four), so a page reads about twice its own items rather than `limit` from every
/// partition. Items are final up to the lowest last sort key of the partitions that had more
/// (the frontier): every item below it has been seen. The next round starts past the frontier.
pub(crate) async fn by_rounds<T: Table + ?Sized>(
    table: &T,
    pks: &[String],
    range: &SkRange,
    limit: usize,
) -> Result<(Vec<Item>, bool), StoreError> {
    let mut out: Vec<Item> = Vec::new();
    let mut frontier: Option<String> = None;
    loop {
        let want = limit + 1 - out.len();
        // One more where the frontier item itself comes back first.
        let per = (want.div_ceil(pks.len()) * 2 + 4).min(want) + usize::from(frontier.is_some());
        let from = past(range, frontier.as_deref());
        let reads = pks.iter().map(|pk| up_to(table, pk, &from, per));
        let pages = try_join_all(reads).await?;
        let bound = pages
            .iter()
            .filter(|(_, more)| *more)
            .filter_map(|(items, _)| items.last().map(|i| i.key.sk.clone()))
            .min();
        let mut batch: Vec<Item> = pages
            .into_iter()
            .flat_map(|(items, _)| items)
            .filter(|i| Some(&i.key.sk) != frontier.as_ref())
            .filter(|i| bound.as_ref().is_none_or(|b| i.key.sk <= *b))
            .collect();
        batch.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
        out.extend(batch);
        match bound {
            Some(b) if out.len() <= limit => frontier = Some(b),
            Some(_) => break,
            None => break,
        }
    }
    let more = out.len() > limit;
    out.truncate(limit);
    Ok((out, more))
}

/// `range` from the sort key `frontier` on (inclusive: the caller drops the frontier item).
fn past(range: &SkRange, frontier: Option<&str>) -> SkRange {
    let Some(f) = frontier else {
        return range.clone();
    };
    match range {
        SkRange::Prefix(p) => SkRange::Between {
            from: f.to_owned(),
            to: super::prefix_end(p),
        },
        SkRange::Between { from, to } => SkRange::Between {
            from: from.as_str().max(f).to_owned(),
            to: to.clone(),
        },
    }
}

/// The first `n` items of `range` in partition `pk` (following its pages), and whether more
/// follow.
async fn up_to<T: Table + ?Sized>(
    table: &T,
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

/// One page of up to `limit` items whose sort key starts with `prefix` and comes after the
/// sort key `after` (where a previous page ended; `None`: from the start), over the partitions
/// `pks` in ascending sort-key order; and the sort key to resume after when more follow.
pub async fn page_after(
    table: &dyn Table,
    pks: &[String],
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Item>, Option<String>), StoreError> {
    let range = match after {
        Some(sk) => SkRange::Between {
            from: sk.to_owned(),
            to: super::prefix_end(prefix),
        },
        None => SkRange::Prefix(prefix.to_owned()),
    };
    let (mut items, more) = first_merged(table, pks, &range, limit + 1).await?;
    items.retain(|i| Some(i.key.sk.as_str()) != after);
    let more = more || items.len() > limit;
    items.truncate(limit);
    let next = more
        .then(|| items.last().map(|i| i.key.sk.clone()))
        .flatten();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Condition, EmbeddedTable, Key, Write};

    /// 300 items over 7 partitions, unevenly (partition 0 holds most), with sort keys
    /// `M#000`..`M#299` and a few outside the prefix.
    async fn spread() -> (EmbeddedTable, Vec<String>, Vec<String>) {
        let table = EmbeddedTable::in_memory();
        let pks: Vec<String> = (0..7).map(|s| format!("P#{s}")).collect();
        let mut writes = Vec::new();
        let mut all = Vec::new();
        for i in 0..300u32 {
            let shard = if i % 3 == 0 { (i * 7919) % 7 } else { 0 };
            let sk = format!("M#{i:03}");
            all.push(sk.clone());
            let key = Key::new(pks[shard as usize].clone(), sk);
            let item = Item::new(key, 1, b"{}".to_vec());
            writes.push(Write::Put {
                item,
                condition: Condition::Always,
            });
        }
        for pk in &pks {
            let item = Item::new(Key::new(pk.clone(), "N#outside"), 1, b"{}".to_vec());
            writes.push(Write::Put {
                item,
                condition: Condition::Always,
            });
        }
        table.batch_write(writes).await.unwrap();
        (table, pks, all)
    }

    #[tokio::test]
    async fn the_first_items_over_every_partition_are_the_first_of_them_all() {
        let (table, pks, all) = spread().await;
        let range = SkRange::Prefix("M#".into());
        for limit in [1, 2, 5, 17, 50, 299, 300, 301, 1000] {
            let (items, more) = first_merged(&table, &pks, &range, limit).await.unwrap();
            let got: Vec<&str> = items.iter().map(|i| i.key.sk.as_str()).collect();
            let want: Vec<&str> = all.iter().take(limit).map(String::as_str).collect();
            assert_eq!(got, want, "limit {limit}");
            assert_eq!(more, limit < all.len(), "limit {limit}");
        }
        assert_eq!(count_merged(&table, &pks, &range).await.unwrap(), 300);
        assert_eq!(
            query_all_merged(&table, &pks, &range).await.unwrap().len(),
            300
        );
    }

    /// A small deterministic generator (xorshift), so every run checks the same cases.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[tokio::test]
    async fn the_embedded_walk_answers_what_rounds_of_queries_answer() {
        for seed in 1..=24u64 {
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let table = EmbeddedTable::in_memory();
            let parts = 1 + (next(&mut state) % 9) as usize;
            let pks: Vec<String> = (0..parts).map(|s| format!("Q#{s}")).collect();
            let mut writes = Vec::new();
            for _ in 0..next(&mut state) % 400 {
                let pk = pks[(next(&mut state) % parts as u64) as usize].clone();
                let prefix = ["A#", "B#", "C#"][(next(&mut state) % 3) as usize];
                let sk = format!("{prefix}{:04}", next(&mut state) % 2000);
                let key = Key::new(pk, sk);
                let item = Item::new(key, 1, b"{}".to_vec());
                let condition = Condition::Always;
                writes.push(Write::Put { item, condition });
            }
            table.batch_write(writes).await.unwrap();
            let ranges = [
                SkRange::Prefix("B#".into()),
                SkRange::Prefix(String::new()),
                SkRange::Between {
                    from: "A#0500".into(),
                    to: "C#0100".into(),
                },
            ];
            for range in &ranges {
                for limit in [1, 3, 10, 64, 101, 500] {
                    let walked = first_merged(&table, &pks, range, limit).await.unwrap();
                    let rounds = by_rounds(&table, &pks, range, limit).await.unwrap();
                    let keys = |(items, more): &(Vec<Item>, bool)| {
                        let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
                        (keys, *more)
                    };
                    assert_eq!(
                        keys(&walked),
                        keys(&rounds),
                        "seed {seed} {range:?} {limit}"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn pages_after_a_sort_key_visit_every_item_once_in_order() {
        let (table, pks, all) = spread().await;
        for limit in [1, 7, 64] {
            let (mut seen, mut after) = (Vec::new(), None::<String>);
            loop {
                let (items, next) = page_after(&table, &pks, "M#", after.as_deref(), limit)
                    .await
                    .unwrap();
                assert!(items.len() <= limit);
                seen.extend(items.into_iter().map(|i| i.key.sk));
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            assert_eq!(seen, all, "limit {limit}");
        }
    }
}
