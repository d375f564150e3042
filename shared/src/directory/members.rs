//! Group memberships: one item per (group, member) plus its reverse (user → group), so that
//! adding or removing one member of a 100,000-member group costs a constant number of writes
//! and never reads the whole group.
//!
//! Every change is one transaction per chunk that also records the member's intent
//! ([`Intents::mark`]); an add also checks, in that transaction, that the user is live, so a
//! delete of the user and its addition to a group can never both win.

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
        let query = Query::prefix(keys::group_members_pk(t, group), keys::MEMBER_PREFIX);
        self.ids(query, keys::MEMBER_PREFIX).await
    }

    /// One page of a group's member ids, for work that must not hold a whole large group.
    pub async fn page_of_group(
        &self,
        t: &TenantId,
        group: &str,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let query = Query::prefix(keys::group_members_pk(t, group), keys::MEMBER_PREFIX)
            .limit(limit)
            .after(cursor);
        let page = self.table.query(&query).await?;
        let ids = page
            .items
            .iter()
            .map(|i| i.key.sk[keys::MEMBER_PREFIX.len()..].to_owned())
            .collect();
        Ok((ids, page.cursor))
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
