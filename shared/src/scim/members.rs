//! Group memberships: one item per (group, member) plus its reverse (user → group), so that
//! adding or removing one member of a 100,000-member group costs a constant number of writes
//! and never reads the whole group.

use std::sync::Arc;

use serde_json::json;

use super::ScimError;
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Query, Table, Write, keys};

/// How many memberships (two items each) one transaction carries.
const PER_TRANSACTION: usize = crate::store::MAX_TRANSACTION_ITEMS / 2;

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

impl Members {
    /// Memberships over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Adds users to a group; adding a present member changes nothing.
    pub async fn add(&self, t: &TenantId, group: &str, users: &[String]) -> Result<(), ScimError> {
        for chunk in users.chunks(PER_TRANSACTION) {
            let mut writes = Vec::with_capacity(chunk.len() * 2);
            for user in chunk {
                let [m, r] = member_pair(t, group, user);
                let body = |v: &str| serde_json::to_vec(&json!({ "value": v })).expect("json");
                writes.push(Write::Put {
                    item: Item::new(m, 1, body(user)),
                    condition: Condition::Always,
                });
                writes.push(Write::Put {
                    item: Item::new(r, 1, body(group)),
                    condition: Condition::Always,
                });
            }
            self.table.transact(writes).await?;
        }
        Ok(())
    }

    /// Removes users from a group; removing an absent member changes nothing.
    pub async fn remove(
        &self,
        t: &TenantId,
        group: &str,
        users: &[String],
    ) -> Result<(), ScimError> {
        let writes: Vec<Write> = users
            .iter()
            .flat_map(|u| member_pair(t, group, u))
            .map(|key| Write::Delete {
                key,
                condition: Condition::Always,
            })
            .collect();
        if !writes.is_empty() {
            self.table.batch_write(writes).await?;
        }
        Ok(())
    }

    /// Ids of the group's members, in id order.
    pub async fn of_group(&self, t: &TenantId, group: &str) -> Result<Vec<String>, ScimError> {
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
    ) -> Result<(Vec<String>, Option<String>), ScimError> {
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
    pub async fn of_user(&self, t: &TenantId, user: &str) -> Result<Vec<String>, ScimError> {
        let query = Query::prefix(keys::user_links_pk(t, user), keys::USER_GROUP_PREFIX);
        self.ids(query, keys::USER_GROUP_PREFIX).await
    }

    async fn ids(&self, query: Query, prefix: &str) -> Result<Vec<String>, ScimError> {
        let items = crate::store::query_all(&*self.table, query).await?;
        Ok(items
            .into_iter()
            .map(|i| i.key.sk[prefix.len()..].to_owned())
            .collect())
    }

    /// Removes a user from every group.
    pub async fn clear_user(&self, t: &TenantId, user: &str) -> Result<(), ScimError> {
        for group in self.of_user(t, user).await? {
            self.remove(t, &group, std::slice::from_ref(&user.to_owned()))
                .await?;
        }
        Ok(())
    }
}
