//! Migrations between key layouts, run by [`super::ensure_schema`] in a process that may
//! write, before it serves anything.
//!
//! Version 1 → 2: version 2 keeps counters of each tenant's live users and groups
//! ([`keys::USERS_COUNTED`], [`keys::GROUPS_COUNTED`]), which version 1 did not write. The
//! migration counts each shard once and stores its counter, then records version 2. A build of
//! version 1 still writing meanwhile would leave counts that `muster check --repair` corrects.

use futures_util::future::try_join_all;

use super::{Condition, Item, Query, SkRange, StoreError, Table, keys, query_all};
use crate::ids::TenantId;

/// Writes the counters version 2 keeps, for every tenant of a version-1 table.
pub(super) async fn counters_from_v1(table: &dyn Table) -> Result<(), StoreError> {
    let listing = query_all(table, Query::prefix(keys::TENANTS_PK, "T#")).await?;
    for entry in listing {
        let Ok(t) = TenantId::parse(&entry.key.sk[2..]) else {
            continue;
        };
        let collections = [
            (
                keys::USERS_COUNTED,
                keys::USER_PREFIX,
                keys::users_pk as fn(&TenantId, u32) -> String,
            ),
            (keys::GROUPS_COUNTED, keys::GROUP_PREFIX, keys::groups_pk),
        ];
        for (counted, prefix, pk) in collections {
            let writes = (0..keys::SHARDS).map(|s| {
                let t = &t;
                async move {
                    let n = table
                        .count(&pk(t, s), &SkRange::Prefix(prefix.into()))
                        .await?;
                    let counter = Item::new(keys::counter_at(t, counted, s), n, Vec::new());
                    table.put(counter, Condition::Always).await
                }
            });
            try_join_all(writes).await?;
        }
    }
    Ok(())
}
