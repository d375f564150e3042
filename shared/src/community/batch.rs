//! Membership changes in bulk, for file imports: every current membership is read in one
//! batch, the changes are planned in memory, and the writes go out in transactions of up to
//! [`MAX_TRANSACTION_ITEMS`] items. Unchanged memberships cost no write; a transaction that
//! loses a race falls back to the one-by-one path, which retries.

use futures_util::future::join_all;

use super::memberships::{by_user, corrupt};
use super::{Change, Membership, Memberships, Source};
use crate::ids::TenantId;
use crate::store::{MAX_TRANSACTION_ITEMS, StoreError, Write};

/// One change to one membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Adds the source, replacing a source of the same origin.
    Grant(Source),
    /// Removes the source of this origin; the membership ends with its last source.
    Revoke(Source),
}

impl Edit {
    fn apply(&self, sources: &mut Vec<Source>) {
        match self {
            Edit::Grant(source) => {
                sources.retain(|s| !s.same_origin(source));
                sources.push(source.clone());
            }
            Edit::Revoke(origin) => sources.retain(|s| !s.same_origin(origin)),
        }
    }
}

/// A membership edit: user id, community id, and the change.
pub type MembershipEdit = (String, String, Edit);

/// Planned writes of several memberships that go out as one transaction.
#[derive(Default)]
struct Group {
    writes: Vec<Write>,
    members: Vec<(usize, Change)>,
}

impl Memberships {
    /// Applies one edit.
    pub async fn edit(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        edit: &Edit,
    ) -> Result<Change, StoreError> {
        self.change(t, user, community, |s| edit.apply(s)).await
    }

    /// The writes that create the membership of a user being created (so it has none yet),
    /// to go in the user's own transaction; each holds only if the membership is still absent.
    pub fn first_grant(
        &self,
        t: &TenantId,
        user: &str,
        community: &str,
        source: Source,
    ) -> Vec<Write> {
        let edit = Edit::Grant(source);
        self.plan(t, user, community, None, |s| edit.apply(s))
            .map(|(writes, _)| writes)
            .unwrap_or_default()
    }

    /// Applies many edits; the answer holds what each did, in order. Each edit is applied
    /// exactly once whatever the interleaving with other writers; edits of one membership
    /// that repeat are applied in order.
    pub async fn apply_many(
        &self,
        t: &TenantId,
        edits: &[MembershipEdit],
    ) -> Result<Vec<Change>, StoreError> {
        let keys: Vec<_> = edits.iter().map(|(u, c, _)| by_user(t, u, c)).collect();
        let current = self.table.get_many(&keys).await?;
        let mut changes = vec![Change::Unchanged; edits.len()];
        let mut groups = vec![Group::default()];
        let mut repeated = Vec::new();
        let mut seen = std::collections::HashSet::with_capacity(edits.len());
        for (index, ((user, community, edit), item)) in edits.iter().zip(current).enumerate() {
            if !seen.insert(&keys[index]) {
                repeated.push(index);
                continue;
            }
            let current = match item {
                Some(item) => Some((
                    serde_json::from_slice::<Membership>(&item.body).map_err(corrupt)?,
                    item.version,
                )),
                None => None,
            };
            let Some((writes, change)) = self.plan(t, user, community, current, |s| edit.apply(s))
            else {
                continue;
            };
            let group = groups.last_mut().expect("one group at least");
            if group.writes.len() + writes.len() > MAX_TRANSACTION_ITEMS {
                groups.push(Group::default());
            }
            let group = groups.last_mut().expect("one group at least");
            group.writes.extend(writes);
            group.members.push((index, change));
        }
        let sent = groups.into_iter().filter(|g| !g.writes.is_empty());
        let outcomes = join_all(sent.map(|g| self.commit(t, edits, g))).await;
        for outcome in outcomes {
            for (index, change) in outcome? {
                changes[index] = change;
            }
        }
        for index in repeated {
            let (user, community, edit) = &edits[index];
            changes[index] = self.edit(t, user, community, edit).await?;
        }
        Ok(changes)
    }

    /// Sends one group; when another writer got there first, applies its edits one by one.
    async fn commit(
        &self,
        t: &TenantId,
        edits: &[MembershipEdit],
        group: Group,
    ) -> Result<Vec<(usize, Change)>, StoreError> {
        match self.table.transact(group.writes).await {
            Ok(()) => Ok(group.members),
            Err(StoreError::ConditionFailed { .. }) => {
                let mut done = Vec::with_capacity(group.members.len());
                for (index, _) in group.members {
                    let (user, community, edit) = &edits[index];
                    done.push((index, self.edit(t, user, community, edit).await?));
                }
                Ok(done)
            }
            Err(e) => Err(e),
        }
    }
}
