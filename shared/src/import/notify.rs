//! Sending invitations: the port that tells members their invitation is out. On AWS it emits
//! one message per invitation to a notifications queue; locally it records them.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Condition, Item, Query, StoreError, Table, Write, keys, query_all};

/// Where sent invitations go.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// `users` were invited to `community`.
    async fn invitations_sent(
        &self,
        t: &TenantId,
        community: &str,
        users: &[String],
    ) -> Result<(), StoreError>;
}

/// Records invitations in the table (`muster serve`).
#[derive(Clone)]
pub struct LocalNotifier {
    table: Arc<dyn Table>,
}

impl LocalNotifier {
    /// A notifier recording into `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Every recorded invitation of a tenant: (community, user, time).
    pub async fn recorded(
        &self,
        t: &TenantId,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let items = query_all(&*self.table, Query::prefix(keys::tenant_pk(t), "INVITE#")).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let v: serde_json::Value = serde_json::from_slice(&i.body).ok()?;
                Some((
                    v["community"].as_str()?.to_owned(),
                    v["user"].as_str()?.to_owned(),
                    v["at"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }
}

#[async_trait]
impl Notifier for LocalNotifier {
    async fn invitations_sent(
        &self,
        t: &TenantId,
        community: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let at = now_rfc3339();
        let writes = users
            .iter()
            .map(|u| {
                let body =
                    serde_json::to_vec(&json!({"community": community, "user": u, "at": at}))
                        .expect("json");
                let key = keys::invitation(t, community, u);
                Write::Put {
                    item: Item::new(key, 1, body),
                    condition: Condition::Always,
                }
            })
            .collect();
        self.table.batch_write(writes).await
    }
}

/// Sends the pending invitations of `community` (all of them, or only those of `only`) and
/// marks them sent; answers the users invited. Suspended (inactive) and soft-deleted members
/// are never invited. The `/v1` API and the console both invite through here.
///
/// Notified first, then marked: a failure in between sends an invitation twice at worst
/// (messages carry an id to deduplicate on), never loses one.
pub async fn invite_pending(
    table: &Arc<dyn Table>,
    notifier: &dyn Notifier,
    t: &TenantId,
    community: &str,
    only: Option<&[String]>,
) -> Result<Vec<String>, StoreError> {
    use crate::community::{Memberships, Status};
    let memberships = Memberships::new(table.clone());
    let mut pending = memberships
        .with_status(t, community, Status::Invited)
        .await?;
    if let Some(only) = only {
        pending.retain(|u| only.contains(u));
    }
    let pending = crate::directory::Lifecycle::new(table.clone())
        .entitled(t, &pending)
        .await?;
    notifier.invitations_sent(t, community, &pending).await?;
    memberships
        .transition(
            t,
            community,
            &pending,
            Status::Invited,
            Status::InvitationSent,
        )
        .await
}
