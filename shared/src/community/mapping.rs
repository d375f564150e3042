//! Group mappings: an IdP group, named by id or by displayName, gives a role in a community.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Role;
use crate::directory::{Intents, Target};
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Query, StoreError, Table, Write, keys, query_all};

/// How many times a mapping change is tried when a group is created meanwhile.
const ATTEMPTS: usize = 8;

/// How a mapping names its group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "camelCase")]
pub enum GroupSelector {
    /// The SCIM id of the group.
    Id(String),
    /// The group's displayName (matched ignoring case), so a mapping can exist before the IdP
    /// pushes the group.
    DisplayName(String),
}

impl GroupSelector {
    fn key_part(&self) -> String {
        let escape = |s: &str| s.replace('%', "%25").replace('#', "%23");
        match self {
            GroupSelector::Id(id) => format!("id:{}", escape(id)),
            GroupSelector::DisplayName(n) => format!("name:{}", escape(&crate::unicode::fold(n))),
        }
    }
}

/// One mapping: members of `group` get `role` in `community`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The group.
    pub group: GroupSelector,
    /// The community's id.
    pub community: String,
    /// The role given.
    pub role: Role,
}

fn key(t: &TenantId, group: &GroupSelector, community: &str) -> Key {
    keys::mapping(t, &group.key_part(), community)
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt mapping: {e}"))
}

/// Mapping storage.
#[derive(Clone)]
pub struct Mappings {
    table: Arc<dyn Table>,
}

impl Mappings {
    /// Mappings over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates or replaces the mapping of `group` to `community`; in the same transaction,
    /// the group's intent, so its members are derived again.
    pub async fn set(&self, t: &TenantId, mapping: &Mapping) -> Result<(), StoreError> {
        let body = serde_json::to_vec(mapping).expect("a mapping serialises");
        let item = Item::new(key(t, &mapping.group, &mapping.community), 1, body);
        for _ in 0..ATTEMPTS {
            let mut writes = vec![Write::Put {
                item: item.clone(),
                condition: Condition::Always,
            }];
            writes.extend(self.reach(t, &mapping.group).await?);
            match self.table.transact(writes).await {
                Err(StoreError::ConditionFailed { .. }) => continue,
                done => return done,
            }
        }
        Err(StoreError::Conflict)
    }

    /// Removes a mapping (and records the group's intent); true if it existed.
    pub async fn remove(
        &self,
        t: &TenantId,
        group: &GroupSelector,
        community: &str,
    ) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let mut writes = vec![Write::Delete {
                key: key(t, group, community),
                condition: Condition::Exists,
            }];
            writes.extend(self.reach(t, group).await?);
            match self.table.transact(writes).await {
                Ok(()) => return Ok(true),
                Err(StoreError::ConditionFailed { index: 0 }) => return Ok(false),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The writes that make a change to the mappings of `group` reach its members: the
    /// group's intent when it exists; for a name no group has yet, a check that it still has
    /// none (a group created meanwhile fails the transaction, which is then tried again).
    /// A rename records its group's intent itself.
    async fn reach(&self, t: &TenantId, group: &GroupSelector) -> Result<Vec<Write>, StoreError> {
        let id = match group {
            GroupSelector::Id(id) => id.clone(),
            GroupSelector::DisplayName(name) => {
                let index = keys::group_name(t, name);
                let Some(item) = self.table.get(&index).await? else {
                    return Ok(vec![Write::Check {
                        key: index,
                        condition: Condition::NotExists,
                    }]);
                };
                let v: serde_json::Value = serde_json::from_slice(&item.body).map_err(corrupt)?;
                v["id"].as_str().unwrap_or_default().to_owned()
            }
        };
        Ok(vec![Intents::mark(t, &Target::Group(id))])
    }

    /// Every mapping of the tenant.
    pub async fn list(&self, t: &TenantId) -> Result<Vec<Mapping>, StoreError> {
        let items = query_all(
            &*self.table,
            Query::prefix(keys::tenant_pk(t), keys::MAPPING_PREFIX),
        )
        .await?;
        items
            .iter()
            .map(|i| serde_json::from_slice(&i.body).map_err(corrupt))
            .collect()
    }
}

impl Mappings {
    /// The mappings that grant access now: every mapping while the tenant's synchronization
    /// switch is on, none while it is off (or when the tenant is gone). Every derivation and
    /// `muster check` read mappings through here, so the switch is part of the invariant.
    pub async fn in_force(&self, t: &TenantId) -> Result<Vec<Mapping>, StoreError> {
        Ok(self.in_force_with_invites(t).await?.0)
    }

    /// [`in_force`](Self::in_force), and whether the tenant invites members it creates
    /// automatically, from the same read of the tenant's record.
    pub async fn in_force_with_invites(
        &self,
        t: &TenantId,
    ) -> Result<(Vec<Mapping>, bool), StoreError> {
        let Some(item) = self.table.get(&keys::tenant(t)).await? else {
            return Ok((Vec::new(), false));
        };
        let tenant: crate::auth::Tenant = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt tenant: {e}")))?;
        let mappings = if tenant.syncs() {
            self.list(t).await?
        } else {
            Vec::new()
        };
        Ok((mappings, tenant.auto_invites()))
    }
}

/// The (community, role) pairs `mappings` give the group `group_id` named `display_name`
/// (mappings by id, and by name ignoring case); when several name one community the highest
/// role wins.
pub fn given_by(
    mappings: &[Mapping],
    group_id: &str,
    display_name: &str,
) -> BTreeMap<String, Role> {
    let name = crate::unicode::fold(display_name);
    let mut out = BTreeMap::new();
    for m in mappings {
        let applies = match &m.group {
            GroupSelector::Id(id) => id == group_id,
            GroupSelector::DisplayName(n) => crate::unicode::fold(n) == name,
        };
        if applies {
            let role = out.entry(m.community.clone()).or_insert(m.role);
            *role = (*role).max(m.role);
        }
    }
    out
}
