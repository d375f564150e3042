//! The key layout of the single table (DESIGN.md §4): one function per kind of item, so no
//! repository spells a key by hand.

mod counters;
mod jobs;
mod paging;
mod tenant_log;

pub use counters::*;
pub use jobs::*;
pub use paging::*;
pub use tenant_log::*;

use super::Key;
use crate::ids::TenantId;

/// The partition holding a tenant's own items (record, tokens, users, groups, indexes).
pub fn tenant_pk(t: &TenantId) -> String {
    format!("T#{t}")
}

/// The partition listing every tenant, one item per tenant.
pub const TENANTS_PK: &str = "TENANTS";

/// A tenant's record.
pub fn tenant(t: &TenantId) -> Key {
    Key::new(tenant_pk(t), "TENANT")
}

/// A tenant's entry in the tenant list.
pub fn tenant_listing(t: &TenantId) -> Key {
    Key::new(TENANTS_PK, format!("T#{t}"))
}

/// A SCIM secret token of a tenant.
pub fn scim_token(t: &TenantId, token_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("TOKEN#{token_id}"))
}

/// Sort-key prefix of users.
pub const USER_PREFIX: &str = "USER#";
/// Sort-key prefix of groups.
pub const GROUP_PREFIX: &str = "GROUP#";

/// How many partitions each of a tenant's large collections (users, groups, unique-index
/// items, a community's or a group's members, the activity log) is spread over. DynamoDB
/// serves about 1,000 WCU/s and 3,000 RCU/s per partition key and splits a hot key range only
/// when writes do not climb in sort-key order (ours do: UUIDv7 ids); 32 keys put each at
/// about 3 % of its collection's load.
pub const SHARDS: u32 = 32;

/// The shard of `id` among [`SHARDS`] (FNV-1a: stable across processes and versions).
pub fn shard(id: &str) -> u32 {
    fnv(id) % SHARDS
}

/// The partitions of every shard of a collection, as `pk` names shard `s`.
pub fn shards(pk: impl Fn(u32) -> String) -> Vec<String> {
    (0..SHARDS).map(pk).collect()
}

/// The partition of shard `s` of a tenant's users (live ones and soft-deleted ones).
pub fn users_pk(t: &TenantId, s: u32) -> String {
    format!("T#{t}#US#{s:02}")
}

/// Every partition of a tenant's users.
pub fn users_shards(t: &TenantId) -> Vec<String> {
    shards(|s| users_pk(t, s))
}

/// The partition of shard `s` of a tenant's groups.
pub fn groups_pk(t: &TenantId, s: u32) -> String {
    format!("T#{t}#GS#{s:02}")
}

/// Every partition of a tenant's groups.
pub fn groups_shards(t: &TenantId) -> Vec<String> {
    shards(|s| groups_pk(t, s))
}

/// The partition of shard `s` of a tenant's unique-index items (every kind: the sort key
/// keeps the kind's prefix, so one prefix query per shard lists one index).
pub fn index_pk(t: &TenantId, s: u32) -> String {
    format!("T#{t}#IX#{s:02}")
}

/// Every partition of a tenant's unique-index items.
pub fn index_shards(t: &TenantId) -> Vec<String> {
    shards(|s| index_pk(t, s))
}

/// A unique-index item: its sort key (prefix and value), in the shard of that sort key.
fn index_key(t: &TenantId, sk: String) -> Key {
    Key::new(index_pk(t, shard(&sk)), sk)
}

/// A user.
pub fn user(t: &TenantId, id: &str) -> Key {
    Key::new(users_pk(t, shard(id)), format!("{USER_PREFIX}{id}"))
}

/// Sort-key prefix of the userName index.
pub const USER_NAME_PREFIX: &str = "UNAME#";

/// The unique index of a user's userName, under its [`crate::unicode::fold`] (userName is
/// not case-exact, and look-alike spellings are one name).
pub fn user_name(t: &TenantId, user_name: &str) -> Key {
    index_key(
        t,
        format!("{USER_NAME_PREFIX}{}", crate::unicode::fold(user_name)),
    )
}

/// The unique index of a user's externalId (case-exact, RFC 7643 §3.1).
pub fn user_external_id(t: &TenantId, external_id: &str) -> Key {
    index_key(t, format!("{}{external_id}", USER_INDEX_PREFIXES[1].0))
}

/// The unique index of a user's employeeNumber (the member's matricule).
pub fn employee_number(t: &TenantId, number: &str) -> Key {
    index_key(t, format!("{}{number}", USER_INDEX_PREFIXES[2].0))
}

/// A group.
pub fn group(t: &TenantId, id: &str) -> Key {
    Key::new(groups_pk(t, shard(id)), format!("{GROUP_PREFIX}{id}"))
}

/// Sort-key prefix of the group displayName index.
pub const GROUP_NAME_PREFIX: &str = "GNAME#";

/// The unique index of a group's displayName (lowercased).
pub fn group_name(t: &TenantId, name: &str) -> Key {
    index_key(
        t,
        format!("{GROUP_NAME_PREFIX}{}", crate::unicode::fold(name)),
    )
}

/// The unique index of a group's externalId.
pub fn group_external_id(t: &TenantId, external_id: &str) -> Key {
    index_key(t, format!("{}{external_id}", GROUP_INDEX_PREFIXES[1]))
}

/// The partition of shard `s` of a group's members.
pub fn group_members_pk(t: &TenantId, group: &str, s: u32) -> String {
    format!("T#{t}#G#{group}#{s:02}")
}

/// Every partition of a group's members.
pub fn group_members_shards(t: &TenantId, group: &str) -> Vec<String> {
    shards(|s| group_members_pk(t, group, s))
}

/// Sort-key prefix of members in a group's member partition.
pub const MEMBER_PREFIX: &str = "M#";

/// One member of a group.
pub fn group_member(t: &TenantId, group: &str, user: &str) -> Key {
    Key::new(
        group_members_pk(t, group, shard(user)),
        format!("{MEMBER_PREFIX}{user}"),
    )
}

/// The partition of a user's reverse memberships.
pub fn user_links_pk(t: &TenantId, user: &str) -> String {
    format!("T#{t}#U#{user}")
}

/// Sort-key prefix of a user's groups in its reverse-membership partition.
pub const USER_GROUP_PREFIX: &str = "G#";

/// The reverse item of a group membership.
pub fn user_group(t: &TenantId, user: &str, group: &str) -> Key {
    Key::new(
        user_links_pk(t, user),
        format!("{USER_GROUP_PREFIX}{group}"),
    )
}

/// Sort-key prefix of API clients in their tenant's partition.
pub const CLIENT_PREFIX: &str = "CLIENT#";

/// An OAuth API client's record, addressed by its globally unique id alone: the token
/// endpoint learns the client before it knows the tenant.
pub fn client(client_id: &str) -> Key {
    Key::new(format!("{CLIENT_PREFIX}{client_id}"), "CLIENT")
}

/// An API client's entry in its tenant's partition, for listing.
pub fn client_listing(t: &TenantId, client_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("{CLIENT_PREFIX}{client_id}"))
}

/// Sort-key prefix of soft-deleted users in the tenant partition.
pub const DELETED_USER_PREFIX: &str = "DUSER#";

/// A soft-deleted user: the document it had, kept until purged (absent from every read).
pub fn deleted_user(t: &TenantId, id: &str) -> Key {
    Key::new(users_pk(t, shard(id)), format!("{DELETED_USER_PREFIX}{id}"))
}

/// Sort-key prefix of the userName index of soft-deleted users.
pub const DELETED_USER_NAME_PREFIX: &str = "DUNAME#";

/// The userName of a soft-deleted user, so a POST with it restores the same id.
pub fn deleted_user_name(t: &TenantId, user_name: &str) -> Key {
    index_key(
        t,
        format!(
            "{DELETED_USER_NAME_PREFIX}{}",
            crate::unicode::fold(user_name)
        ),
    )
}

/// Sort-key prefix of the e-mail index of soft-deleted users.
pub const DELETED_EMAIL_PREFIX: &str = "DEMAIL#";

/// An e-mail address of a soft-deleted user, so a POST with it restores the same id.
pub fn deleted_email(t: &TenantId, email: &str) -> Key {
    index_key(
        t,
        format!("{DELETED_EMAIL_PREFIX}{}", crate::unicode::fold(email)),
    )
}

/// How many partitions a tenant's pending intents are spread over.
pub const INTENT_SHARDS: u32 = 16;

/// The partition of one shard of a tenant's pending intents.
pub fn intents_pk(t: &TenantId, shard: u32) -> String {
    format!("T#{t}#INTENT#{shard}")
}

/// Sort-key prefix of an intent about a user.
pub const USER_INTENT_PREFIX: &str = "U#";
/// Sort-key prefix of an intent about a group.
pub const GROUP_INTENT_PREFIX: &str = "G#";

/// FNV-1a: stable across processes and versions, unlike the std hasher.
fn fnv(id: &str) -> u32 {
    id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn shard_of(id: &str) -> u32 {
    fnv(id) % INTENT_SHARDS
}

/// The intent item saying that `user`'s derived state must be recomputed.
pub fn user_intent(t: &TenantId, user: &str) -> Key {
    Key::new(
        intents_pk(t, shard_of(user)),
        format!("{USER_INTENT_PREFIX}{user}"),
    )
}

/// The intent item saying that every member of `group` must be looked at again.
pub fn group_intent(t: &TenantId, group: &str) -> Key {
    Key::new(
        intents_pk(t, shard_of(group)),
        format!("{GROUP_INTENT_PREFIX}{group}"),
    )
}

/// The last set of (community, role) a group's members were derived with.
pub fn group_derivation(t: &TenantId, group: &str) -> Key {
    Key::new(tenant_pk(t), format!("GDERIV#{group}"))
}

/// Sort-key prefix of a user's community memberships in its reverse-membership partition.
pub const USER_COMMUNITY_PREFIX: &str = "C#";

/// A user's membership of a community (the authoritative item).
pub fn membership(t: &TenantId, user: &str, community: &str) -> Key {
    Key::new(
        user_links_pk(t, user),
        format!("{USER_COMMUNITY_PREFIX}{community}"),
    )
}

/// The partition of shard `s` of a community's members.
pub fn community_members_pk(t: &TenantId, community: &str, s: u32) -> String {
    format!("T#{t}#C#{community}#{s:02}")
}

/// Every partition of a community's members.
pub fn community_members_shards(t: &TenantId, community: &str) -> Vec<String> {
    shards(|s| community_members_pk(t, community, s))
}

/// A community's entry for one member (the reverse of [`membership`]).
pub fn community_member(t: &TenantId, community: &str, user: &str) -> Key {
    Key::new(
        community_members_pk(t, community, shard(user)),
        format!("{MEMBER_PREFIX}{user}"),
    )
}

/// Sort-key prefix of group mappings in the tenant partition.
pub const MAPPING_PREFIX: &str = "MAP#";

/// A mapping of a group (`selector`, already escaped) to a community.
pub fn mapping(t: &TenantId, selector: &str, community: &str) -> Key {
    Key::new(
        tenant_pk(t),
        format!("{MAPPING_PREFIX}{selector}#{community}"),
    )
}

/// Sort-key prefix of communities in the tenant partition.
pub const COMMUNITY_PREFIX: &str = "COMM#";
/// Sort-key prefix of the community name index.
pub const COMMUNITY_NAME_PREFIX: &str = "CNAME#";

/// A community.
pub fn community(t: &TenantId, id: &str) -> Key {
    Key::new(tenant_pk(t), format!("{COMMUNITY_PREFIX}{id}"))
}

/// The unique index of a community's name (lowercased).
pub fn community_name(t: &TenantId, name: &str) -> Key {
    Key::new(
        tenant_pk(t),
        format!("{COMMUNITY_NAME_PREFIX}{}", crate::unicode::fold(name)),
    )
}

/// Sort-key prefixes of the unique index items of users, with whether each points to a live
/// user (`true`) or to a soft-deleted one.
pub const USER_INDEX_PREFIXES: [(&str, bool); 5] = [
    (USER_NAME_PREFIX, true),
    ("EXTID#", true),
    ("EMPNO#", true),
    (DELETED_USER_NAME_PREFIX, false),
    (DELETED_EMAIL_PREFIX, false),
];

/// Sort-key prefixes of the unique index items of groups.
pub const GROUP_INDEX_PREFIXES: [&str; 2] = [GROUP_NAME_PREFIX, "GEXTID#"];

/// A tenant administrator's grant.
pub fn tenant_admin(t: &TenantId, user: &str) -> Key {
    Key::new(tenant_pk(t), format!("ADMIN#{user}"))
}
