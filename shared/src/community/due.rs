//! Invitations due: members created while their tenant sends invitations automatically.
//!
//! A member is marked due *before* the write that creates its membership, so a crash in
//! between leaves a mark and never a member who silently misses its invitation. The
//! maintenance drain sends what is due (`import::send_due`) and clears the marks; a mark whose
//! membership never came to be is cleared once it is older than [`STALE_AFTER_S`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Condition, Item, Query, StoreError, Table, Write, keys, query_all};

/// Seconds after which a mark whose membership does not exist is dropped (the write that
/// would have created it has long failed or been abandoned).
pub const STALE_AFTER_S: i64 = 600;

/// One member's invitation due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    /// The community the member was created in.
    pub community: String,
    /// The member's user id.
    pub user: String,
    /// When the mark was written (RFC 3339).
    pub at: String,
}

impl Due {
    /// Whether the mark is old enough that a missing membership will not come any more.
    pub fn is_stale(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        chrono::DateTime::parse_from_rfc3339(&self.at)
            .map(|at| (now - at.with_timezone(&chrono::Utc)).num_seconds() > STALE_AFTER_S)
            .unwrap_or(true)
    }
}

/// The marks of a tenant's invitations due, over the Table port.
#[derive(Clone)]
pub struct InvitationsDue {
    table: Arc<dyn Table>,
}

impl InvitationsDue {
    /// Marks over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Marks each (community, user) of `members` due. Marking twice is harmless.
    pub async fn mark(&self, t: &TenantId, members: &[(String, String)]) -> Result<(), StoreError> {
        let at = now_rfc3339();
        let writes = members
            .iter()
            .map(|(community, user)| {
                let due = Due {
                    community: community.clone(),
                    user: user.clone(),
                    at: at.clone(),
                };
                let body = serde_json::to_vec(&due).expect("a mark serialises");
                Write::Put {
                    item: Item::new(keys::invitation_due(t, community, user), 1, body),
                    condition: Condition::Always,
                }
            })
            .collect();
        self.table.batch_write(writes).await
    }

    /// Every mark of a tenant, by community.
    pub async fn list(&self, t: &TenantId) -> Result<Vec<Due>, StoreError> {
        let items = query_all(
            &*self.table,
            Query::prefix(keys::invitations_due_pk(t), "I#"),
        )
        .await?;
        items
            .iter()
            .map(|i| {
                serde_json::from_slice(&i.body)
                    .map_err(|e| StoreError::Backend(format!("corrupt invitation mark: {e}")))
            })
            .collect()
    }

    /// Removes the marks of `done`.
    pub async fn clear(&self, t: &TenantId, done: &[Due]) -> Result<(), StoreError> {
        let writes = done
            .iter()
            .map(|d| Write::Delete {
                key: keys::invitation_due(t, &d.community, &d.user),
                condition: Condition::Always,
            })
            .collect();
        self.table.batch_write(writes).await
    }
}
