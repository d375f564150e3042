//! Group mappings: an IdP group, named by id or by displayName, gives a role in a community.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Role;
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Query, StoreError, Table, keys, query_all};

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
            GroupSelector::DisplayName(n) => format!("name:{}", escape(&n.to_lowercase())),
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
    Key::new(
        keys::tenant_pk(t),
        format!("MAP#{}#{community}", group.key_part()),
    )
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

    /// Creates or replaces the mapping of `group` to `community`.
    pub async fn set(&self, t: &TenantId, mapping: &Mapping) -> Result<(), StoreError> {
        let body = serde_json::to_vec(mapping).expect("a mapping serialises");
        let item = Item::new(key(t, &mapping.group, &mapping.community), 1, body);
        self.table.put(item, Condition::Always).await
    }

    /// Removes a mapping; true if it existed.
    pub async fn remove(
        &self,
        t: &TenantId,
        group: &GroupSelector,
        community: &str,
    ) -> Result<bool, StoreError> {
        match self
            .table
            .delete(&key(t, group, community), Condition::Exists)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every mapping of the tenant.
    pub async fn list(&self, t: &TenantId) -> Result<Vec<Mapping>, StoreError> {
        let items = query_all(&*self.table, Query::prefix(keys::tenant_pk(t), "MAP#")).await?;
        items
            .iter()
            .map(|i| serde_json::from_slice(&i.body).map_err(corrupt))
            .collect()
    }

    /// The (community, role) pairs a group gives, from mappings by id and by name; when both
    /// name one community the higher role wins.
    pub async fn for_group(
        &self,
        t: &TenantId,
        group_id: &str,
        display_name: &str,
    ) -> Result<BTreeMap<String, Role>, StoreError> {
        let mut out = BTreeMap::new();
        for selector in [
            GroupSelector::Id(group_id.to_owned()),
            GroupSelector::DisplayName(display_name.to_owned()),
        ] {
            let prefix = format!("MAP#{}#", selector.key_part());
            for item in query_all(&*self.table, Query::prefix(keys::tenant_pk(t), prefix)).await? {
                let m: Mapping = serde_json::from_slice(&item.body).map_err(corrupt)?;
                let role = out.entry(m.community).or_insert(m.role);
                *role = (*role).max(m.role);
            }
        }
        Ok(out)
    }
}
