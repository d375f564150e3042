//! Group memberships: one item per (group, member) plus its reverse (user → group), so that
//! adding or removing one member of a 100,000-member group costs a constant number of writes
//! and never reads the whole group.
//!
//! Every change is one transaction per chunk that also records the member's intent
//! ([`Intents::mark`]); an add also checks, in that transaction, that the user is live, so a
//! delete of the user and its addition to a group can never both win.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;

use super::DirectoryError;
use super::intent::{Intents, Target};
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Query, StoreError, Table, Write, keys};

/// Writes per added member: the user check, the member, its reverse and the intent.
const ADD_WRITES: usize = 4;
/// Writes per removed member: the member, its reverse and the intent.
const REMOVE_WRITES: usize = 3;

/// Membership storage.
#[derive(Clone)]
pub struct Members {
    table: Arc<dyn Table>,
}

fn member_pair(t: &TenantId, group: &str, user: &str) -> [Key; 2] {
    [
        keys::group_member(t, group, user),
        keys::user_group(t, user, group),
    ]
}

/// A group member item or its reverse: the item at `key` naming `value`.
pub(crate) fn link_item(key: Key, value: &str) -> Item {
    let body = serde_json::to_vec(&json!({ "value": value })).expect("json");
    Item::new(key, 1, body)
}

fn link(key: Key, value: &str) -> Write {
    Write::Put {
        item: link_item(key, value),
        condition: Condition::Always,
    }
}

/// The writes that take `user` out of `group`, with its intent (no condition: removing an
/// absent member changes nothing).
pub(crate) fn removal(t: &TenantId, group: &str, user: &str) -> [Write; 3] {
    let [m, r] = member_pair(t, group, user);
    let delete = |key| Write::Delete {
        key,
        condition: Condition::Always,
    };
    [
        delete(m),
        delete(r),
        Intents::mark(t, &Target::User(user.to_owned())),
    ]
}

impl Members {
    /// Memberships over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Adds users to a group; adding a present member changes nothing. The group must exist
    /// ([`DirectoryError::NotFound`]) and each user be live ([`DirectoryError::Invalid`] names
    /// it) when its chunk commits; earlier chunks stay.
    pub async fn add(
        &self,
        t: &TenantId,
        group: &str,
        users: &[String],
    ) -> Result<(), DirectoryError> {
        let per = (crate::store::MAX_TRANSACTION_ITEMS - 1) / ADD_WRITES;
        for chunk in users.chunks(per) {
            let mut writes = Vec::with_capacity(1 + chunk.len() * ADD_WRITES);
            writes.push(Write::Check {
                key: keys::group(t, group),
                condition: Condition::Exists,
            });
            for user in chunk {
                let [m, r] = member_pair(t, group, user);
                writes.push(Write::Check {
                    key: keys::user(t, user),
                    condition: Condition::Exists,
                });
                writes.push(link(m, user));
                writes.push(link(r, group));
                writes.push(Intents::mark(t, &Target::User(user.clone())));
            }
            match self.table.transact(writes).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { index: 0 }) => {
                    return Err(DirectoryError::NotFound(format!(
                        "no Group with id {group:?}"
                    )));
                }
                Err(StoreError::ConditionFailed { index }) => {
                    let user = &chunk[((index - 1) / ADD_WRITES).min(chunk.len() - 1)];
                    return Err(DirectoryError::Invalid(format!(
                        "member {user:?} is not a user of this tenant"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes users from a group; removing an absent member changes nothing.
    pub async fn remove(
        &self,
        t: &TenantId,
        group: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let per = crate::store::MAX_TRANSACTION_ITEMS / REMOVE_WRITES;
        for chunk in users.chunks(per) {
            let writes = chunk.iter().flat_map(|u| removal(t, group, u)).collect();
            self.table.transact(writes).await?;
        }
        Ok(())
    }

    /// Ids of the group's members, in id order.
    pub async fn of_group(&self, t: &TenantId, group: &str) -> Result<Vec<String>, StoreError> {
        let shards = keys::group_members_shards(t, group);
        let members = crate::store::SkRange::Prefix(keys::MEMBER_PREFIX.to_owned());
        let items = crate::store::query_all_merged(&*self.table, &shards, &members).await?;
        Ok(items
            .iter()
            .map(|i| i.key.sk[keys::MEMBER_PREFIX.len()..].to_owned())
            .collect())
    }

    /// One page of a group's member ids, for work that must not hold a whole large group.
    pub async fn page_of_group(
        &self,
        t: &TenantId,
        group: &str,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let shards = keys::group_members_shards(t, group);
        let prefix = keys::MEMBER_PREFIX;
        let (items, next) =
            crate::store::page_after(&*self.table, &shards, prefix, cursor.as_deref(), limit)
                .await?;
        let ids = items
            .iter()
            .map(|i| i.key.sk[prefix.len()..].to_owned())
            .collect();
        Ok((ids, next))
    }

    /// Ids of the groups a user belongs to.
    pub async fn of_user(&self, t: &TenantId, user: &str) -> Result<Vec<String>, StoreError> {
        let query = Query::prefix(keys::user_links_pk(t, user), keys::USER_GROUP_PREFIX);
        self.ids(query, keys::USER_GROUP_PREFIX).await
    }

    async fn ids(&self, query: Query, prefix: &str) -> Result<Vec<String>, StoreError> {
        let items = crate::store::query_all(&*self.table, query).await?;
        Ok(items
            .into_iter()
            .map(|i| i.key.sk[prefix.len()..].to_owned())
            .collect())
    }
}

/// A change of a group's member set: ids to add and to remove, or a reset to exactly the ids
/// added. Folded in order: the last word on an id wins.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemberDelta {
    reset: bool,
    add: BTreeSet<String>,
    remove: BTreeSet<String>,
}

impl MemberDelta {
    /// Adds users (an add after a remove of the same id cancels the remove).
    pub fn add(&mut self, ids: Vec<String>) {
        for id in ids {
            self.remove.remove(&id);
            self.add.insert(id);
        }
    }

    /// Removes users (a remove after an add of the same id cancels the add).
    pub fn remove(&mut self, ids: Vec<String>) {
        for id in ids {
            self.add.remove(&id);
            self.remove.insert(id);
        }
    }

    /// Makes the members exactly `ids`.
    pub fn replace(&mut self, ids: Vec<String>) {
        *self = Self {
            reset: true,
            ..Self::default()
        };
        self.add(ids);
    }

    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.reset && self.add.is_empty() && self.remove.is_empty()
    }
}

/// What a [`MemberDelta`] changes in a group as stored: the users to add (live, not members
/// yet) and the members to remove.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) add: Vec<String>,
    pub(crate) remove: Vec<String>,
}

impl Members {
    /// Plans `delta` against `group` as stored (`None`: a group being created, without
    /// members): an add of a present member and a remove of an absent one change nothing, so
    /// they write nothing and record no intent. [`DirectoryError::Invalid`] names the first id
    /// to add that is no live user (the add checks again in its transaction).
    pub(crate) async fn plan(
        &self,
        t: &TenantId,
        group: Option<&str>,
        delta: MemberDelta,
    ) -> Result<Planned, DirectoryError> {
        let MemberDelta { reset, add, remove } = delta;
        let mut keys: Vec<Key> = add.iter().map(|u| keys::user(t, u)).collect();
        let current: Option<BTreeSet<String>> = match group {
            Some(g) if reset => Some(self.of_group(t, g).await?.into_iter().collect()),
            Some(g) => {
                keys.extend(
                    add.iter()
                        .chain(&remove)
                        .map(|u| keys::group_member(t, g, u)),
                );
                None
            }
            None => Some(BTreeSet::new()),
        };
        let mut found = self.table.get_many(&keys).await?.into_iter();
        let live: Vec<bool> = found
            .by_ref()
            .take(add.len())
            .map(|i| i.is_some())
            .collect();
        if let Some((id, _)) = add.iter().zip(&live).find(|(_, live)| !**live) {
            return Err(DirectoryError::Invalid(format!(
                "member {id:?} is not a user of this tenant"
            )));
        }
        Ok(match current {
            Some(current) => Planned {
                add: add.difference(&current).cloned().collect(),
                remove: if reset {
                    current.difference(&add).cloned().collect()
                } else {
                    Vec::new()
                },
            },
            None => {
                let present: Vec<bool> = found.map(|i| i.is_some()).collect();
                let (was_in, was_out) = present.split_at(add.len());
                Planned {
                    add: add
                        .iter()
                        .zip(was_in)
                        .filter(|(_, p)| !**p)
                        .map(|(u, _)| u.clone())
                        .collect(),
                    remove: remove
                        .iter()
                        .zip(was_out)
                        .filter(|(_, p)| **p)
                        .map(|(u, _)| u.clone())
                        .collect(),
                }
            }
        })
    }
}
