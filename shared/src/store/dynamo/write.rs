//! Conditional writes of the DynamoDB adapter: single puts and deletes (PutItem, DeleteItem)
//! and all-or-nothing transactions (TransactWriteItems), with their conditions as condition
//! expressions.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

use super::{
    DynamoTable, PK, VERSION, backoff, build_failure, encode, key_attributes, sdk_failure,
};
use crate::store::{Condition, Item, Key, StoreError, Write};

/// Retries after a write lost to a concurrent transaction, before giving up with
/// [`StoreError::Conflict`].
const CONFLICT_RETRIES: u32 = 4;

/// A condition as a DynamoDB condition expression and its values.
#[derive(Debug, Default, PartialEq)]
struct Expression {
    text: Option<String>,
    values: Option<HashMap<String, AttributeValue>>,
}

/// The condition expression checking `condition` (none for [`Condition::Always`]).
fn expression(condition: Condition) -> Expression {
    match condition {
        Condition::Always => Expression::default(),
        Condition::NotExists => Expression {
            text: Some(format!("attribute_not_exists({PK})")),
            values: None,
        },
        Condition::Exists => Expression {
            text: Some(format!("attribute_exists({PK})")),
            values: None,
        },
        Condition::VersionIs(version) => Expression {
            text: Some(format!("{VERSION} = :v")),
            values: Some(HashMap::from([(
                ":v".to_owned(),
                AttributeValue::N(version.to_string()),
            )])),
        },
    }
}

/// The expression of a condition check, which DynamoDB requires even for
/// [`Condition::Always`] (then a tautology: the check only takes part in the transaction).
fn check_expression(condition: Condition) -> Expression {
    match condition {
        Condition::Always => Expression {
            text: Some(format!(
                "attribute_exists({PK}) OR attribute_not_exists({PK})"
            )),
            values: None,
        },
        other => expression(other),
    }
}

/// Sends a single-item write (`send` builds and sends it afresh each attempt): a failed
/// condition is [`StoreError::ConditionFailed`]; losing to a concurrent transaction is retried
/// with backoff, then [`StoreError::Conflict`].
async fn single_write<O, E, F, Fut>(operation: &str, mut send: F) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
{
    let mut attempt = 0;
    loop {
        let Err(err) = send().await else {
            return Ok(());
        };
        let code = err
            .as_service_error()
            .and_then(|e| e.code())
            .unwrap_or_default()
            .to_owned();
        match code.as_str() {
            "ConditionalCheckFailedException" => {
                return Err(StoreError::ConditionFailed { index: 0 });
            }
            "TransactionConflictException" | "ReplicatedWriteConflictException" => {
                if attempt == CONFLICT_RETRIES {
                    return Err(StoreError::Conflict);
                }
                backoff(attempt).await;
                attempt += 1;
            }
            _ => return Err(sdk_failure(operation, err)),
        }
    }
}

/// Stores one item if `condition` holds.
pub async fn put(table: &DynamoTable, item: Item, condition: Condition) -> Result<(), StoreError> {
    let condition = expression(condition);
    let attributes = encode(&item);
    single_write("PutItem", || {
        table
            .client
            .put_item()
            .table_name(&*table.table)
            .set_item(Some(attributes.clone()))
            .set_condition_expression(condition.text.clone())
            .set_expression_attribute_values(condition.values.clone())
            .send()
    })
    .await
}

/// Removes one item if `condition` holds (a no-op when absent and the condition allows it).
pub async fn delete(
    table: &DynamoTable,
    key: &Key,
    condition: Condition,
) -> Result<(), StoreError> {
    let condition = expression(condition);
    single_write("DeleteItem", || {
        table
            .client
            .delete_item()
            .table_name(&*table.table)
            .set_key(Some(key_attributes(&key.pk, &key.sk)))
            .set_condition_expression(condition.text.clone())
            .set_expression_attribute_values(condition.values.clone())
            .send()
    })
    .await
}

/// One write of a transaction as a TransactWriteItems element.
fn transact_item(table: &str, write: &Write) -> Result<TransactWriteItem, StoreError> {
    let item = match write {
        Write::Put { item, condition } => {
            let condition = expression(*condition);
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(encode(item)))
                .set_condition_expression(condition.text)
                .set_expression_attribute_values(condition.values)
                .build()
                .map_err(build_failure)?;
            TransactWriteItem::builder().put(put)
        }
        Write::Delete { key, condition } => {
            let condition = expression(*condition);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key_attributes(&key.pk, &key.sk)))
                .set_condition_expression(condition.text)
                .set_expression_attribute_values(condition.values)
                .build()
                .map_err(build_failure)?;
            TransactWriteItem::builder().delete(delete)
        }
        Write::Check { key, condition } => {
            let condition = check_expression(*condition);
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_attributes(&key.pk, &key.sk)))
                .set_condition_expression(condition.text)
                .set_expression_attribute_values(condition.values)
                .build()
                .map_err(build_failure)?;
            TransactWriteItem::builder().condition_check(check)
        }
        Write::Add { key, delta } => {
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(key_attributes(&key.pk, &key.sk)))
                .update_expression(format!("ADD {VERSION} :d"))
                .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
                .build()
                .map_err(build_failure)?;
            TransactWriteItem::builder().update(update)
        }
    };
    Ok(item.build())
}

/// Why DynamoDB cancelled a transaction, from its cancellation reasons.
#[derive(Debug, PartialEq, Eq)]
enum Cancelled {
    /// The condition of the write at this index failed (the first one that did).
    Condition(usize),
    /// A concurrent transaction touched one of the items: worth retrying.
    Conflict,
    /// Capacity ran out for one of the items: worth retrying.
    Throttled,
    /// Anything else (validation, item too large): not worth retrying.
    Other,
}

fn cancelled(reasons: &[CancellationReason]) -> Cancelled {
    let has = |code: &str| reasons.iter().any(|r| r.code() == Some(code));
    if let Some(index) = reasons
        .iter()
        .position(|r| r.code() == Some("ConditionalCheckFailed"))
    {
        Cancelled::Condition(index)
    } else if has("TransactionConflict") {
        Cancelled::Conflict
    } else if has("ThrottlingError") || has("ProvisionedThroughputExceeded") {
        Cancelled::Throttled
    } else {
        Cancelled::Other
    }
}

/// Applies `writes` (already validated: 1 to 100, distinct keys) all or nothing.
pub async fn transact(table: &DynamoTable, writes: &[Write]) -> Result<(), StoreError> {
    let items = writes
        .iter()
        .map(|w| transact_item(&table.table, w))
        .collect::<Result<Vec<_>, _>>()?;
    let mut attempt = 0;
    loop {
        let result = table
            .client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        let why = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                cancelled(e.cancellation_reasons())
            }
            _ => Cancelled::Other,
        };
        match why {
            Cancelled::Condition(index) => return Err(StoreError::ConditionFailed { index }),
            Cancelled::Conflict | Cancelled::Throttled if attempt < CONFLICT_RETRIES => {
                backoff(attempt).await;
                attempt += 1;
            }
            Cancelled::Conflict => return Err(StoreError::Conflict),
            Cancelled::Throttled | Cancelled::Other => {
                return Err(sdk_failure("TransactWriteItems", err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    #[test]
    fn the_first_failed_condition_names_the_failing_write() {
        let r = reasons(&["None", "TransactionConflict", "ConditionalCheckFailed"]);
        assert_eq!(cancelled(&r), Cancelled::Condition(2));
        let r = reasons(&["ConditionalCheckFailed", "ConditionalCheckFailed"]);
        assert_eq!(cancelled(&r), Cancelled::Condition(0));
    }

    #[test]
    fn conflicts_and_throttling_are_retried_and_the_rest_is_not() {
        assert_eq!(
            cancelled(&reasons(&["None", "TransactionConflict"])),
            Cancelled::Conflict
        );
        assert_eq!(
            cancelled(&reasons(&["ThrottlingError", "None"])),
            Cancelled::Throttled
        );
        assert_eq!(cancelled(&reasons(&["ValidationError"])), Cancelled::Other);
        assert_eq!(cancelled(&[]), Cancelled::Other);
    }

    #[test]
    fn conditions_become_condition_expressions() {
        assert_eq!(expression(Condition::Always), Expression::default());
        assert_eq!(
            expression(Condition::NotExists).text.as_deref(),
            Some("attribute_not_exists(PK)")
        );
        assert_eq!(
            expression(Condition::Exists).text.as_deref(),
            Some("attribute_exists(PK)")
        );
        let version = expression(Condition::VersionIs(7));
        assert_eq!(version.text.as_deref(), Some("v = :v"));
        assert_eq!(version.values.unwrap()[":v"], AttributeValue::N("7".into()));
        assert!(check_expression(Condition::Always).text.is_some());
    }
}
