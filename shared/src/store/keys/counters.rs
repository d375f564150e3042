//! Keys of the maintained counters. A count is spread over [`SHARDS`] counter items, one per
//! shard of the collection it counts, each in a partition of its own: a create adds 1 to the
//! counter of its record's shard in the create's transaction, so no counter key takes more
//! than its shard's share of the writes, and a total is one batch read of [`SHARDS`] items.

use super::{SHARDS, shard};
use crate::ids::TenantId;
use crate::store::Key;

/// The partition of shard `s` of a tenant's counters.
pub fn counters_pk(t: &TenantId, s: u32) -> String {
    format!("T#{t}#N#{s:02}")
}

/// Sort key of the live-user counters.
pub const USERS_COUNTED: &str = "USERS";
/// Sort key of the group counters.
pub const GROUPS_COUNTED: &str = "GROUPS";

/// The counter, among a collection's, that counts the record `id` (the one of its shard).
pub fn counter_of(t: &TenantId, counted: &str, id: &str) -> Key {
    counter_at(t, counted, shard(id))
}

/// The counter of shard `s` of a collection.
pub fn counter_at(t: &TenantId, counted: &str, s: u32) -> Key {
    Key::new(counters_pk(t, s), counted)
}

/// Every counter of a collection, shard by shard.
pub fn counters(t: &TenantId, counted: &str) -> Vec<Key> {
    (0..SHARDS).map(|s| counter_at(t, counted, s)).collect()
}

/// The counter of a tenant's live users that counts user `id`.
pub fn user_counter(t: &TenantId, id: &str) -> Key {
    counter_of(t, USERS_COUNTED, id)
}

/// Every counter of a tenant's live users.
pub fn user_counters(t: &TenantId) -> Vec<Key> {
    counters(t, USERS_COUNTED)
}

/// The counter of a tenant's groups that counts group `id`.
pub fn group_counter(t: &TenantId, id: &str) -> Key {
    counter_of(t, GROUPS_COUNTED, id)
}

/// Every counter of a tenant's groups.
pub fn group_counters(t: &TenantId) -> Vec<Key> {
    counters(t, GROUPS_COUNTED)
}
