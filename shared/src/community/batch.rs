//! Membership changes in bulk, for file imports: every current membership is read in one
//! batch, the changes are planned in memory, and the writes go out packed in transactions
//! ([`Transactions`]). Unchanged memberships cost no write; a transaction that loses a race
//! falls back to the one-by-one path, which retries.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use futures_util::future::join_all;

use super::memberships::{by_user, decode};
use super::{Change, Membership, Memberships, Source, Status};
use crate::ids::TenantId;
use crate::store::{Item, Key, StoreError, Transactions, Write};

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
        let (keys, current) = self.read_all(t, edits).await?;
        let mut changes = vec![Change::Unchanged; edits.len()];
        let mut transactions = Transactions::default();
        let mut repeated = Vec::new();
        let mut seen = std::collections::HashSet::with_capacity(edits.len());
        for (index, ((user, community, edit), item)) in edits.iter().zip(current).enumerate() {
            if !seen.insert(&keys[index]) {
                repeated.push(index);
                continue;
            }
            let current = item.as_ref().map(decode).transpose()?;
            let Some((writes, change)) = self.plan(t, user, community, current, |s| edit.apply(s))
            else {
                continue;
            };
            transactions.push(writes, (index, change));
        }
        let sent = transactions.into_groups().into_iter();
        let outcomes =
            join_all(sent.map(|(writes, members)| self.commit(t, edits, writes, members))).await;
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

    /// The keys of the edited memberships and their items now, from one batched read.
    async fn read_all(
        &self,
        t: &TenantId,
        edits: &[MembershipEdit],
    ) -> Result<(Vec<Key>, Vec<Option<Item>>), StoreError> {
        let keys: Vec<_> = edits.iter().map(|(u, c, _)| by_user(t, u, c)).collect();
        let current = self.table.get_many(&keys).await?;
        Ok((keys, current))
    }

    /// What [`apply_many`](Self::apply_many) would answer for each edit if no one else wrote
    /// meanwhile, from one batched read; writes nothing. An import records this forecast
    /// before writing, so a chunk cut short and applied again reports what the first attempt
    /// changed, not what was left to change.
    pub async fn preview_many(
        &self,
        t: &TenantId,
        edits: &[MembershipEdit],
    ) -> Result<Vec<Change>, StoreError> {
        let (keys, current) = self.read_all(t, edits).await?;
        let mut states = HashMap::with_capacity(keys.len());
        let mut changes = Vec::with_capacity(edits.len());
        for (((user, community, edit), item), key) in edits.iter().zip(current).zip(&keys) {
            let state = match states.entry(key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(item.as_ref().map(decode).transpose()?),
            };
            let planned = self.plan(t, user, community, state.clone(), |s| edit.apply(s));
            changes.push(planned.map_or(Change::Unchanged, |(_, change)| change));
            *state = after(state.take(), user, community, edit);
        }
        Ok(changes)
    }

    /// Sends one transaction; when another writer got there first, applies its edits one by
    /// one.
    async fn commit(
        &self,
        t: &TenantId,
        edits: &[MembershipEdit],
        writes: Vec<Write>,
        members: Vec<(usize, Change)>,
    ) -> Result<Vec<(usize, Change)>, StoreError> {
        match self.table.transact(writes).await {
            Ok(()) => Ok(members),
            Err(StoreError::ConditionFailed { .. }) => {
                let mut done = Vec::with_capacity(members.len());
                for (index, _) in members {
                    let (user, community, edit) = &edits[index];
                    done.push((index, self.edit(t, user, community, edit).await?));
                }
                Ok(done)
            }
            Err(e) => Err(e),
        }
    }
}

/// The membership (as far as a forecast needs: sources and role) once `edit` is applied.
fn after(
    state: Option<(Membership, u64)>,
    user: &str,
    community: &str,
    edit: &Edit,
) -> Option<(Membership, u64)> {
    let (mut m, version) = state.unwrap_or_else(|| {
        let m = Membership {
            user: user.to_owned(),
            community: community.to_owned(),
            role: super::Role::Member,
            status: Status::Invited,
            sources: Vec::new(),
            created: String::new(),
            updated: String::new(),
        };
        (m, 0)
    });
    edit.apply(&mut m.sources);
    m.role = Membership::derived_role(&m.sources)?;
    Some((m, version + 1))
}
