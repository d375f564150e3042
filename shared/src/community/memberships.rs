//! Membership storage: one item per (user, community) under the user, and its reverse under the
//! community, written together. Each change adds or removes one source and recomputes the
//! effective role; the membership is deleted with its last source.

use std::sync::Arc;

use super::{Edit, Membership, Role, Source, Status};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{
    Condition, Item, Key, Query, SkRange, StoreError, Table, Write, keys, query_all,
};

/// How many times a membership change is retried when another writer interleaves.
const ATTEMPTS: usize = 16;

/// The key of a user's membership of a community.
pub(super) fn by_user(t: &TenantId, user: &str, community: &str) -> Key {
    keys::membership(t, user, community)
}

/// The reverse key, listing a community's members.
fn by_community(t: &TenantId, community: &str, user: &str) -> Key {
    keys::community_member(t, community, user)
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt membership: {e}"))
}

/// The membership stored in `item` (under its user), with its version.
pub fn decode(item: &Item) -> Result<(Membership, u64), StoreError> {
    Ok((
        serde_json::from_slice(&item.body).map_err(corrupt)?,
        item.version,
    ))
}

/// The body of a membership's entry under its community (the reverse item), which carries the
/// membership's version.
pub fn reverse_body(m: &Membership) -> serde_json::Value {
    let file = m.sources.iter().any(|s| matches!(s, Source::File { .. }));
    serde_json::json!({"user": m.user, "role": m.role, "status": m.status, "file": file})
}

/// Membership storage over the Table port.
#[derive(Clone)]
pub struct Memberships {
    pub(super) table: Arc<dyn Table>,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new membership.
    Created,
    /// The effective role changed.
    Updated,
    /// Only the sources changed; the effective role is the same.
    Resourced,
    /// The last source went away.
    Deleted,
    /// Nothing to do.
    Unchanged,
}

impl Memberships {
    /// Memberships over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Reads one membership.
    pub async fn get(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
    ) -> Result<Option<(Membership, u64)>, StoreError> {
        self.table
            .get(&by_user(t, user, community))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// The memberships of `users` in `community`, in their order (`None` where there is
    /// none), read in batches rather than one request per user.
    pub async fn many(
        &self,
        t: &TenantId,
        community: &str,
        users: &[String],
    ) -> Result<Vec<Option<Membership>>, StoreError> {
        let keys: Vec<Key> = users.iter().map(|u| by_user(t, u, community)).collect();
        let items = self.table.get_many(&keys).await?;
        items
            .iter()
            .map(|i| i.as_ref().map(|i| decode(i).map(|(m, _)| m)).transpose())
            .collect()
    }

    /// Adds `source` (replacing a source of the same origin) to the membership of `user` in
    /// `community`, creating it with a pending invitation if needed.
    pub async fn grant(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        source: Source,
    ) -> Result<Change, StoreError> {
        self.edit(t, user, community, &Edit::Grant(source)).await
    }

    /// Removes the source of `origin`'s origin; deletes the membership with its last source.
    pub async fn revoke(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        origin: &Source,
    ) -> Result<Change, StoreError> {
        self.edit(t, user, community, &Edit::Revoke(origin.clone()))
            .await
    }

    pub(super) async fn change(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        edit: impl Fn(&mut Vec<Source>),
    ) -> Result<Change, StoreError> {
        for _ in 0..ATTEMPTS {
            let current = self.get(t, user, community).await?;
            let Some((writes, change)) = self.plan(t, user, community, current, &edit) else {
                return Ok(Change::Unchanged);
            };
            match self.table.transact(writes).await {
                Ok(()) => return Ok(change),
                Err(StoreError::ConditionFailed { index: 0 }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The writes (conditional on `current` being still current) that apply `edit` to the
    /// membership of `user` in `community`, and what they change; `None` when nothing would.
    pub(crate) fn plan(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        current: Option<(Membership, u64)>,
        edit: impl Fn(&mut Vec<Source>),
    ) -> Option<(Vec<Write>, Change)> {
        let mut sources = current
            .as_ref()
            .map(|(m, _)| m.sources.clone())
            .unwrap_or_default();
        edit(&mut sources);
        match (current, Membership::derived_role(&sources)) {
            (None, None) => None,
            (Some((_, version)), None) => Some((
                self.delete_writes(t, user, community, version),
                Change::Deleted,
            )),
            (Some((m, _)), Some(_)) if m.sources == sources => None,
            (old, Some(role)) => {
                let now = now_rfc3339();
                let change = match &old {
                    None => Change::Created,
                    Some((m, _)) if m.role != role => Change::Updated,
                    Some(_) => Change::Resourced,
                };
                let (status, created, condition, version) = match old {
                    None => (Status::Invited, now.clone(), Condition::NotExists, 1),
                    Some((m, v)) => (m.status, m.created, Condition::VersionIs(v), v + 1),
                };
                let membership = Membership {
                    user: user.to_owned(),
                    community: community.to_owned(),
                    role,
                    status,
                    created,
                    updated: now,
                    sources,
                };
                Some((self.put_writes(t, &membership, version, condition), change))
            }
        }
    }

    fn put_writes(
        &self,
        t: &TenantId,
        m: &Membership,
        version: u64,
        condition: Condition,
    ) -> Vec<Write> {
        let body = serde_json::to_vec(m).expect("a membership serialises");
        let reverse = serde_json::to_vec(&reverse_body(m)).expect("json");
        vec![
            Write::Put {
                item: Item::new(by_user(t, &m.user, &m.community), version, body),
                condition,
            },
            Write::Put {
                item: Item::new(by_community(t, &m.community, &m.user), version, reverse),
                condition: Condition::Always,
            },
        ]
    }

    fn delete_writes(&self, t: &TenantId, user: &str, community: &str, version: u64) -> Vec<Write> {
        vec![
            Write::Delete {
                key: by_user(t, user, community),
                condition: Condition::VersionIs(version),
            },
            Write::Delete {
                key: by_community(t, community, user),
                condition: Condition::Always,
            },
        ]
    }

    /// Every membership of a user.
    pub async fn of_user(&self, t: &TenantId, user: &str) -> Result<Vec<Membership>, StoreError> {
        let items = query_all(
            &*self.table,
            Query::prefix(keys::user_links_pk(t, user), keys::USER_COMMUNITY_PREFIX),
        )
        .await?;
        items
            .iter()
            .map(|i| serde_json::from_slice(&i.body).map_err(corrupt))
            .collect()
    }

    /// One page of a community's members in user-id order: user id, and whether a file
    /// import is among the membership's sources.
    pub async fn of_community(
        &self,
        t: &TenantId,
        community: &str,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<(String, bool)>, Option<String>), StoreError> {
        let shards = keys::community_members_shards(t, community);
        let (items, next) = crate::store::page_after(
            &*self.table,
            &shards,
            keys::MEMBER_PREFIX,
            cursor.as_deref(),
            limit,
        )
        .await?;
        /// The one member of an entry a page answers (the others are skipped unread: a
        /// MIRROR's check reads every member of its scope).
        #[derive(serde::Deserialize)]
        struct Entry {
            file: Option<serde_json::Value>,
        }
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            let entry: Entry = serde_json::from_slice(&item.body).map_err(corrupt)?;
            out.push((
                item.key.sk[2..].to_owned(),
                entry.file == Some(serde_json::Value::Bool(true)),
            ));
        }
        Ok((out, next))
    }

    /// The members of `community` whose membership is in `status`, in user-id order.
    pub async fn with_status(
        &self,
        t: &TenantId,
        community: &str,
        status: Status,
    ) -> Result<Vec<String>, StoreError> {
        let shards = keys::community_members_shards(t, community);
        let members = SkRange::Prefix(keys::MEMBER_PREFIX.to_owned());
        let items = crate::store::query_all_merged(&*self.table, &shards, &members).await?;
        let mut out = Vec::new();
        for item in &items {
            let v: serde_json::Value = serde_json::from_slice(&item.body).map_err(corrupt)?;
            if serde_json::from_value::<Status>(v["status"].clone()).ok() == Some(status) {
                out.push(item.key.sk[2..].to_owned());
            }
        }
        Ok(out)
    }

    /// Sets the status of the memberships of `users` in `community` that are in status `from`
    /// to `to`; returns the users changed.
    pub async fn transition(
        &self,
        t: &TenantId,
        community: &str,
        users: &[String],
        from: Status,
        to: Status,
    ) -> Result<Vec<String>, StoreError> {
        let mut changed = Vec::new();
        for user in users {
            for _ in 0..ATTEMPTS {
                let Some((mut m, version)) = self.get(t, user, community).await? else {
                    break;
                };
                if m.status != from {
                    break;
                }
                m.status = to;
                m.updated = now_rfc3339();
                let writes = self.put_writes(t, &m, version + 1, Condition::VersionIs(version));
                match self.table.transact(writes).await {
                    Ok(()) => {
                        changed.push(user.clone());
                        break;
                    }
                    Err(StoreError::ConditionFailed { index: 0 }) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(changed)
    }

    /// Sets the role of a direct administrator grant (`Source::Admin`).
    pub async fn grant_admin(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        role: Role,
    ) -> Result<Change, StoreError> {
        self.grant(t, user, community, Source::Admin { role }).await
    }
}
