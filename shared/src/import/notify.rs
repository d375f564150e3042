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
/// are never invited. The `/v1` API, the console and automatic invitations all invite
/// through here. With `only`, just those members' memberships are read (in batches), never
/// the whole community.
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
    let pending = match only {
        None => {
            memberships
                .with_status(t, community, Status::Invited)
                .await?
        }
        Some(only) => {
            let found = memberships.many(t, community, only).await?;
            only.iter()
                .zip(found)
                .filter(|(_, m)| m.as_ref().is_some_and(|m| m.status == Status::Invited))
                .map(|(u, _)| u.clone())
                .collect()
        }
    };
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

/// Marks due the members of `community` whose invitation is pending and whose membership
/// was created at or after `since` (RFC 3339): the members an import created.
pub async fn mark_created_since(
    table: &Arc<dyn Table>,
    t: &TenantId,
    community: &str,
    since: &str,
) -> Result<(), StoreError> {
    use crate::community::{InvitationsDue, Memberships, Status};
    let memberships = Memberships::new(table.clone());
    let pending = memberships
        .with_status(t, community, Status::Invited)
        .await?;
    for users in pending.chunks(500) {
        let found = memberships.many(t, community, users).await?;
        let new: Vec<(String, String)> = found
            .into_iter()
            .flatten()
            .filter(|m| m.status == Status::Invited && m.created.as_str() >= since)
            .map(|m| (community.to_owned(), m.user))
            .collect();
        InvitationsDue::new(table.clone()).mark(t, &new).await?;
    }
    Ok(())
}

/// Sends a tenant's invitations due (see [`crate::community::InvitationsDue`]) and clears
/// their marks; answers how many invitations went out. A mark whose member is no longer
/// pending (invited meanwhile, suspended, removed) is cleared without sending; one whose
/// membership does not exist yet is kept until it is stale, as its write may still land.
pub async fn send_due(
    table: &Arc<dyn Table>,
    notifier: &dyn Notifier,
    t: &TenantId,
) -> Result<usize, StoreError> {
    use crate::community::{InvitationsDue, Memberships};
    let due = InvitationsDue::new(table.clone());
    let marks = due.list(t).await?;
    let now = chrono::Utc::now();
    let mut sent = 0;
    for batch in marks.chunk_by(|a, b| a.community == b.community) {
        for batch in batch.chunks(500) {
            let community = &batch[0].community;
            let users: Vec<String> = batch.iter().map(|d| d.user.clone()).collect();
            let found = Memberships::new(table.clone())
                .many(t, community, &users)
                .await?;
            sent += invite_pending(table, notifier, t, community, Some(&users))
                .await?
                .len();
            let settled: Vec<_> = batch
                .iter()
                .zip(&found)
                .filter(|(d, m)| m.is_some() || d.is_stale(now))
                .map(|(d, _)| d.clone())
                .collect();
            due.clear(t, &settled).await?;
        }
    }
    Ok(sent)
}
