//! Batches of the DynamoDB adapter: unconditional puts and deletes sent as BatchWriteItem
//! requests of 25, reads as consistent BatchGetItem requests of 100, each retrying what
//! DynamoDB leaves unprocessed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};

use super::{DynamoTable, backoff, build_failure, decode, encode, key_attributes, sdk_failure};
use crate::store::{Item, Key, StoreError, Write};

/// The most keys one BatchGetItem request may carry.
const GET_CHUNK: usize = 100;

/// The most writes one BatchWriteItem request may carry.
const CHUNK: usize = 25;

/// Requests sent for one chunk (the first and the retries of unprocessed items) before the
/// batch fails.
const MAX_ATTEMPTS: u32 = 10;

/// Applies validated unconditional puts and deletes, chunk after chunk.
///
/// When a key appears more than once, only its last write is sent (BatchWriteItem refuses a
/// request naming a key twice), which is what applying them in order would leave.
pub async fn write_all(table: &DynamoTable, writes: Vec<Write>) -> Result<(), StoreError> {
    let requests = last_write_per_key(writes)
        .into_iter()
        .map(request)
        .collect::<Result<Vec<_>, _>>()?;
    for chunk in requests.chunks(CHUNK) {
        write_chunk(table, chunk.to_vec()).await?;
    }
    Ok(())
}

/// The writes that are the last one to their key, in their original order.
fn last_write_per_key(writes: Vec<Write>) -> Vec<Write> {
    let mut last: HashMap<Key, usize> = HashMap::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        last.insert(write.key().clone(), index);
    }
    writes
        .into_iter()
        .enumerate()
        .filter(|(index, write)| last.get(write.key()) == Some(index))
        .map(|(_, write)| write)
        .collect()
}

fn request(write: Write) -> Result<WriteRequest, StoreError> {
    let request = match write {
        Write::Put { item, .. } => {
            let put = PutRequest::builder()
                .set_item(Some(encode(&item)))
                .build()
                .map_err(build_failure)?;
            WriteRequest::builder().put_request(put)
        }
        Write::Delete { key, .. } => {
            let delete = DeleteRequest::builder()
                .set_key(Some(key_attributes(&key.pk, &key.sk)))
                .build()
                .map_err(build_failure)?;
            WriteRequest::builder().delete_request(delete)
        }
        Write::Check { .. } | Write::Add { .. } => {
            return Err(StoreError::Invalid(
                "batch writes are unconditional puts and deletes".into(),
            ));
        }
    };
    Ok(request.build())
}

/// Sends one chunk, then what DynamoDB left unprocessed with exponential backoff and jitter.
async fn write_chunk(table: &DynamoTable, chunk: Vec<WriteRequest>) -> Result<(), StoreError> {
    let mut pending = chunk;
    for attempt in 0..MAX_ATTEMPTS {
        let out = table
            .client
            .batch_write_item()
            .request_items(table.table.to_string(), pending)
            .send()
            .await
            .map_err(|e| sdk_failure("BatchWriteItem", e))?;
        pending = out
            .unprocessed_items
            .and_then(|mut left| left.remove(&*table.table))
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(());
        }
        if attempt + 1 < MAX_ATTEMPTS {
            backoff(attempt).await;
        }
    }
    tracing::error!(
        unprocessed = pending.len(),
        "DynamoDB kept leaving batch writes unprocessed"
    );
    Err(StoreError::Backend(format!(
        "DynamoDB BatchWriteItem left {} writes unprocessed",
        pending.len()
    )))
}

/// Reads `keys` (repeats allowed) with consistent BatchGetItem requests of distinct keys.
pub async fn get_all(table: &DynamoTable, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
    let mut distinct: Vec<&Key> = keys.iter().collect();
    distinct.sort();
    distinct.dedup();
    let mut found: HashMap<Key, Item> = HashMap::with_capacity(distinct.len());
    for chunk in distinct.chunks(GET_CHUNK) {
        for item in get_chunk(table, chunk).await? {
            found.insert(item.key.clone(), item);
        }
    }
    Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
}

/// Sends one BatchGetItem, then the keys DynamoDB left unprocessed with backoff.
async fn get_chunk(table: &DynamoTable, keys: &[&Key]) -> Result<Vec<Item>, StoreError> {
    let attributes: Vec<HashMap<String, AttributeValue>> =
        keys.iter().map(|k| key_attributes(&k.pk, &k.sk)).collect();
    let mut pending = KeysAndAttributes::builder()
        .set_keys(Some(attributes))
        .consistent_read(true)
        .build()
        .map_err(build_failure)?;
    let mut items = Vec::with_capacity(keys.len());
    for attempt in 0..MAX_ATTEMPTS {
        let out = table
            .client
            .batch_get_item()
            .request_items(table.table.to_string(), pending)
            .send()
            .await
            .map_err(|e| sdk_failure("BatchGetItem", e))?;
        for attributes in out
            .responses
            .and_then(|mut r| r.remove(&*table.table))
            .unwrap_or_default()
        {
            items.push(decode(attributes)?);
        }
        match out
            .unprocessed_keys
            .and_then(|mut left| left.remove(&*table.table))
        {
            Some(left) if !left.keys.is_empty() => pending = left,
            _ => return Ok(items),
        }
        if attempt + 1 < MAX_ATTEMPTS {
            backoff(attempt).await;
        }
    }
    tracing::error!("DynamoDB kept leaving batch reads unprocessed");
    Err(StoreError::Backend(
        "DynamoDB BatchGetItem left keys unprocessed".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Condition, Item};

    fn put(sk: &str, version: u64) -> Write {
        Write::Put {
            item: Item::new(Key::new("P", sk), version, Vec::new()),
            condition: Condition::Always,
        }
    }

    #[test]
    fn only_the_last_write_to_a_key_is_sent() {
        let delete_a = Write::Delete {
            key: Key::new("P", "A"),
            condition: Condition::Always,
        };
        let writes = vec![put("A", 1), put("B", 1), delete_a.clone(), put("B", 2)];
        assert_eq!(last_write_per_key(writes), [delete_a, put("B", 2)]);
    }
}
