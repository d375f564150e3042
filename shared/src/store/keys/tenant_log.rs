//! The keys of what a tenant's administrators see happen: invitations due and sent, console
//! links and sessions, last-use marks, and the activity log.

use super::{Key, shard, shards, tenant_pk};
use crate::ids::TenantId;

/// The partition of a tenant's invitations due (members created while automatic
/// invitations are on, not sent yet).
pub fn invitations_due_pk(t: &TenantId) -> String {
    format!("T#{t}#DUE")
}

/// One member's invitation due.
pub fn invitation_due(t: &TenantId, community: &str, user: &str) -> Key {
    Key::new(invitations_due_pk(t), format!("I#{community}#{user}"))
}

/// A sent invitation, as the local notifier records it.
pub fn invitation(t: &TenantId, community: &str, user: &str) -> Key {
    Key::new(tenant_pk(t), format!("INVITE#{community}#{user}"))
}

/// A console sign-in link, by the SHA-256 of its one-time code (the code itself is never
/// stored).
pub fn console_link(t: &TenantId, code_sha256: &str) -> Key {
    Key::new(tenant_pk(t), format!("CLINK#{code_sha256}"))
}

/// A console session, by the SHA-256 of its secret (the cookie's secret is never stored).
pub fn console_session(t: &TenantId, secret_sha256: &str) -> Key {
    Key::new(tenant_pk(t), format!("CSESS#{secret_sha256}"))
}

/// When a SCIM token was last used (written at most once a minute per process).
pub fn scim_token_usage(t: &TenantId, token_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("LASTUSE#TOKEN#{token_id}"))
}

/// When an API client last obtained an access token.
pub fn client_usage(t: &TenantId, client_id: &str) -> Key {
    Key::new(tenant_pk(t), format!("LASTUSE#CLIENT#{client_id}"))
}

/// The partition of shard `s` of a tenant's activity log (see `crate::activity`).
pub fn activity_pk(t: &TenantId, s: u32) -> String {
    format!("T#{t}#ACT#{s:02}")
}

/// Every partition of a tenant's activity log.
pub fn activity_shards(t: &TenantId) -> Vec<String> {
    shards(|s| activity_pk(t, s))
}

/// An activity entry at sort key `sk`, in the shard of that sort key (its random part spreads
/// entries of one instant too).
pub fn activity_entry(t: &TenantId, sk: String) -> Key {
    Key::new(activity_pk(t, shard(&sk)), sk)
}
