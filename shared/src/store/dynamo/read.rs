//! Reads of the DynamoDB adapter: point reads, partition pages and counts, all strongly
//! consistent.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::{DynamoTable, PK, SK, decode, key_attributes, sdk_failure, sort_key_of};
use crate::store::{Item, Key, Page, Query, SkRange, StoreError};

/// One item, or `None`.
pub async fn get(table: &DynamoTable, key: &Key) -> Result<Option<Item>, StoreError> {
    let out = table
        .client
        .get_item()
        .table_name(&*table.table)
        .set_key(Some(key_attributes(&key.pk, &key.sk)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_failure("GetItem", e))?;
    out.item.map(decode).transpose()
}

/// True when an item is stored at `pk`/`sk` (reading its key only).
async fn exists(table: &DynamoTable, pk: &str, sk: &str) -> Result<bool, StoreError> {
    let out = table
        .client
        .get_item()
        .table_name(&*table.table)
        .set_key(Some(key_attributes(pk, sk)))
        .projection_expression(PK)
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_failure("GetItem", e))?;
    Ok(out.item.is_some())
}

/// True when no item can match: keys are never empty, and a `Between` needs `from < to`.
fn is_empty(pk: &str, range: &SkRange) -> bool {
    pk.is_empty() || matches!(range, SkRange::Between { from, to } if from >= to)
}

/// A consistent query of `pk` restricted to `range` by its key condition.
///
/// `Between` is sent as `SK BETWEEN :from AND :to`, which includes `to`: callers drop an
/// item whose sort key equals `to`.
fn key_query(table: &DynamoTable, pk: &str, range: &SkRange) -> QueryFluentBuilder {
    let query = table
        .client
        .query()
        .table_name(&*table.table)
        .consistent_read(true)
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
    match range {
        SkRange::Prefix(prefix) if prefix.is_empty() => {
            query.key_condition_expression(format!("{PK} = :pk"))
        }
        SkRange::Prefix(prefix) => query
            .key_condition_expression(format!("{PK} = :pk AND begins_with({SK}, :p)"))
            .expression_attribute_values(":p", AttributeValue::S(prefix.clone())),
        SkRange::Between { from, to } => query
            .key_condition_expression(format!("{PK} = :pk AND {SK} BETWEEN :from AND :to"))
            .expression_attribute_values(":from", AttributeValue::S(from.clone()))
            .expression_attribute_values(":to", AttributeValue::S(to.clone())),
    }
}

/// True when `sk` is the exclusive upper bound of `range`, past every item it holds.
fn is_upper_bound(range: &SkRange, sk: &str) -> bool {
    matches!(range, SkRange::Between { to, .. } if to == sk)
}

/// One page of a partition in sort-key order.
///
/// DynamoDB stops a query at `Limit` items or 1 MB, whichever comes first; this fills the
/// page up to [`Query::effective_limit`] by following `LastEvaluatedKey`, and returns a cursor
/// whenever DynamoDB reported one after a full page (the next page may then be empty).
pub async fn page(table: &DynamoTable, query: &Query) -> Result<Page, StoreError> {
    let mut start = match &query.cursor {
        Some(cursor) => Some(table.cursors.open(cursor, &query.pk, &query.range)?),
        None => None,
    };
    if is_empty(&query.pk, &query.range) {
        return Ok(Page::default());
    }
    let limit = query.effective_limit();
    let mut items = Vec::new();
    loop {
        let remaining = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
        let out = key_query(table, &query.pk, &query.range)
            .limit(remaining)
            .set_exclusive_start_key(start.map(|sk| key_attributes(&query.pk, &sk)))
            .send()
            .await
            .map_err(|e| sdk_failure("Query", e))?;
        for raw in out.items.unwrap_or_default() {
            let item = decode(raw)?;
            if is_upper_bound(&query.range, &item.key.sk) {
                return Ok(Page {
                    items,
                    cursor: None,
                });
            }
            items.push(item);
        }
        match sort_key_of(out.last_evaluated_key) {
            None => {
                return Ok(Page {
                    items,
                    cursor: None,
                });
            }
            Some(last) if items.len() >= limit => {
                let cursor = table.cursors.seal(&query.pk, &query.range, &last);
                return Ok(Page {
                    items,
                    cursor: Some(cursor),
                });
            }
            Some(last) => start = Some(last),
        }
    }
}

/// How many items a range of a partition holds (`Select=COUNT`, following every page).
pub async fn count(table: &DynamoTable, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
    if is_empty(pk, range) {
        return Ok(0);
    }
    let mut total = 0u64;
    let mut start = None;
    loop {
        let out = key_query(table, pk, range)
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_failure("Query", e))?;
        total += u64::try_from(out.count).unwrap_or(0);
        match out.last_evaluated_key {
            Some(last) => start = Some(last),
            None => break,
        }
    }
    if let SkRange::Between { to, .. } = range
        && exists(table, pk, to).await?
    {
        total = total.saturating_sub(1);
    }
    Ok(total)
}
