//! The key layout of the single table (DESIGN.md §4): one function per kind of item, so no
//! repository spells a key by hand.

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

/// A user.
pub fn user(t: &TenantId, id: &str) -> Key {
    Key::new(tenant_pk(t), format!("{USER_PREFIX}{id}"))
}

/// Sort-key prefix of the userName index.
pub const USER_NAME_PREFIX: &str = "UNAME#";

/// The unique index of a user's userName (lowercased: userName is not case-exact).
pub fn user_name(t: &TenantId, user_name: &str) -> Key {
    Key::new(
        tenant_pk(t),
        format!("{USER_NAME_PREFIX}{}", user_name.to_lowercase()),
    )
}

/// The unique index of a user's externalId (case-exact, RFC 7643 §3.1).
pub fn user_external_id(t: &TenantId, external_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("EXTID#{external_id}"))
}

/// The unique index of a user's employeeNumber (the member's matricule).
pub fn employee_number(t: &TenantId, number: &str) -> Key {
    Key::new(tenant_pk(t), format!("EMPNO#{number}"))
}

/// A group.
pub fn group(t: &TenantId, id: &str) -> Key {
    Key::new(tenant_pk(t), format!("{GROUP_PREFIX}{id}"))
}

/// Sort-key prefix of the group displayName index.
pub const GROUP_NAME_PREFIX: &str = "GNAME#";

/// The unique index of a group's displayName (lowercased).
pub fn group_name(t: &TenantId, name: &str) -> Key {
    Key::new(
        tenant_pk(t),
        format!("{GROUP_NAME_PREFIX}{}", name.to_lowercase()),
    )
}

/// The unique index of a group's externalId.
pub fn group_external_id(t: &TenantId, external_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("GEXTID#{external_id}"))
}

/// The partition of a group's members.
pub fn group_members_pk(t: &TenantId, group: &str) -> String {
    format!("T#{t}#G#{group}")
}

/// Sort-key prefix of members in a group's member partition.
pub const MEMBER_PREFIX: &str = "M#";

/// One member of a group.
pub fn group_member(t: &TenantId, group: &str, user: &str) -> Key {
    Key::new(group_members_pk(t, group), format!("{MEMBER_PREFIX}{user}"))
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
