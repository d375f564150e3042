//! The layout version recorded in the table: a build refuses a table written in another
//! layout instead of misreading it, so a later change of keys can ship with a migration.

use super::{Condition, Item, Key, Query, StoreError, Table};

/// The key layout this build reads and writes (`docs/dynamodb-layout.md`). Version 1: large
/// collections spread over 32 partitions per tenant. Version 2: and counters of each tenant's
/// users and groups (a version-1 table is migrated, see [`super::migrate`]).
pub const SCHEMA_VERSION: u64 = 2;

/// The item that records the table's layout version.
pub fn schema_key() -> Key {
    Key::new("SCHEMA", "VERSION")
}

/// Records [`SCHEMA_VERSION`] in a table that has none, and accepts a table that has it;
/// a table of another version is `Invalid`, naming both, and so is a table that holds
/// tenants but no version (written before versions were recorded). One read when the version
/// is there. A process that may not write (the token function reads only) accepts a fresh
/// table without recording it: the next process that can, does.
pub async fn ensure_schema(table: &dyn Table) -> Result<(), StoreError> {
    let found = match table.get(&schema_key()).await? {
        Some(item) if version_of(&item) == Some(1) => migrate_from_v1(table, &item).await?,
        Some(item) => version_of(&item),
        None => {
            // A table with tenants but no version was written before versions were recorded,
            // in a layout this build would misread (users and members not found).
            let tenants = Query::prefix(super::keys::TENANTS_PK, "").limit(1);
            if !table.query(&tenants).await?.items.is_empty() {
                return Err(StoreError::Invalid(
                    "the table holds tenants but no key layout version: it was written by a \
                     muster from before layout versions (2026-12-03), whose keys this build \
                     would misread; start from an empty data directory or table"
                        .into(),
                ));
            }
            let body = serde_json::json!({"version": SCHEMA_VERSION}).to_string();
            let item = Item::new(schema_key(), 1, body.into_bytes());
            match table.put(item, Condition::NotExists).await {
                Ok(()) => Some(SCHEMA_VERSION),
                Err(StoreError::ConditionFailed { .. }) => {
                    table.get(&schema_key()).await?.and_then(|i| version_of(&i))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the table's layout version was not recorded");
                    Some(SCHEMA_VERSION)
                }
            }
        }
    };
    match found {
        Some(SCHEMA_VERSION) => Ok(()),
        other => Err(StoreError::Invalid(format!(
            "the table's key layout is version {}, this build reads version {SCHEMA_VERSION}: \
             migrate the table or run the build that wrote it",
            other.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
        ))),
    }
}

/// Migrates a version-1 table to this version; answers the version found afterwards. A
/// process that may not write leaves the table to one that may, and refuses it meanwhile.
async fn migrate_from_v1(table: &dyn Table, v1: &Item) -> Result<Option<u64>, StoreError> {
    tracing::info!("migrating the table's key layout from version 1 to {SCHEMA_VERSION}");
    if let Err(e) = super::migrate::counters_from_v1(table).await {
        tracing::warn!(error = %e, "the table's layout was not migrated");
        return Ok(Some(1));
    }
    let body = serde_json::json!({"version": SCHEMA_VERSION}).to_string();
    let item = Item::new(schema_key(), v1.version + 1, body.into_bytes());
    match table.put(item, Condition::VersionIs(v1.version)).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "the migrated layout version was not recorded"),
    }
    Ok(table.get(&schema_key()).await?.and_then(|i| version_of(&i)))
}

fn version_of(item: &Item) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(&item.body)
        .ok()
        .and_then(|v| v["version"].as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedTable;

    #[tokio::test]
    async fn a_new_table_takes_this_layout_and_a_table_of_another_is_refused() {
        let table = EmbeddedTable::in_memory();
        ensure_schema(&table).await.unwrap();
        ensure_schema(&table).await.unwrap();
        let other = Item::new(schema_key(), 2, br#"{"version": 999}"#.to_vec());
        table.put(other, Condition::Always).await.unwrap();
        let refused = ensure_schema(&table).await.unwrap_err().to_string();
        assert!(refused.contains("version 999"), "{refused}");
    }

    #[tokio::test]
    async fn a_version_1_table_gets_the_counters_of_its_users_and_groups() {
        use crate::store::{keys, sum_counters};
        let table = EmbeddedTable::in_memory();
        let t = crate::ids::TenantId::parse("acme").unwrap();
        let mut items = vec![Item::new(Key::new(keys::TENANTS_PK, "T#acme"), 1, vec![])];
        for i in 0..40 {
            items.push(Item::new(
                keys::user(&t, &format!("u{i}")),
                1,
                b"{}".to_vec(),
            ));
        }
        items.push(Item::new(keys::deleted_user(&t, "gone"), 1, b"{}".to_vec()));
        items.push(Item::new(keys::group(&t, "g"), 1, b"{}".to_vec()));
        items.push(Item::new(schema_key(), 1, br#"{"version": 1}"#.to_vec()));
        for item in items {
            table.put(item, Condition::Always).await.unwrap();
        }
        ensure_schema(&table).await.unwrap();
        assert_eq!(
            sum_counters(&table, &keys::user_counters(&t))
                .await
                .unwrap(),
            40
        );
        assert_eq!(
            sum_counters(&table, &keys::group_counters(&t))
                .await
                .unwrap(),
            1
        );
        let recorded = table.get(&schema_key()).await.unwrap().unwrap();
        assert_eq!(version_of(&recorded), Some(SCHEMA_VERSION));
    }

    #[tokio::test]
    async fn a_table_with_tenants_and_no_version_is_refused() {
        let table = EmbeddedTable::in_memory();
        let listing = Item::new(Key::new(crate::store::keys::TENANTS_PK, "T#old"), 1, vec![]);
        table.put(listing, Condition::Always).await.unwrap();
        let refused = ensure_schema(&table).await.unwrap_err().to_string();
        assert!(refused.contains("before layout versions"), "{refused}");
    }
}
