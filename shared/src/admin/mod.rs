//! Tenant administration: the operations behind the `muster` admin commands and the operator's
//! `/admin` HTTP routes, written once so both behave the same.

mod scope;
mod sync;
mod tenant_setup;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::auth::{
    ApiClients, ClientError, IssuedClient, NewClient, ScimTokens, TenantError, Tenants,
};
use crate::community::{
    Communities, Community, GroupSelector, Mapping, Mappings, Memberships, Role,
};
use crate::directory::{DirectoryError, GroupDirectory, Reconciler, Target, UserDirectory};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Condition, Item, StoreError, Table, keys};

pub use scope::AdminScope;
pub use sync::Grant;
pub use tenant_setup::TenantCreated;

/// Why an administrative operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is invalid.
    #[error("{0}")]
    Invalid(String),
    /// It conflicts with what exists (a name taken).
    #[error("{0}")]
    Conflict(String),
    /// Storage failed (details logged, not shown).
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<DirectoryError> for AdminError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound(m) => AdminError::NotFound(m),
            DirectoryError::Invalid(m) | DirectoryError::Refused(m) => AdminError::Invalid(m),
            DirectoryError::Precondition(m) => AdminError::Conflict(m),
            DirectoryError::Uniqueness(m) => AdminError::Conflict(m),
            e @ (DirectoryError::Stale | DirectoryError::Busy) => {
                AdminError::Conflict(e.to_string())
            }
            DirectoryError::Store(s) => AdminError::Store(s),
        }
    }
}

impl From<TenantError> for AdminError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Invalid(m) => AdminError::Invalid(m),
            TenantError::Store(s) => AdminError::Store(s),
        }
    }
}

impl From<ClientError> for AdminError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(m) => AdminError::Invalid(m),
            ClientError::Store(s) => AdminError::Store(s),
        }
    }
}

/// The administrative operations over one table.
#[derive(Clone)]
pub struct Admin {
    table: Arc<dyn Table>,
    /// Tenants.
    pub tenants: Tenants,
    /// SCIM tokens.
    pub tokens: ScimTokens,
    /// API clients.
    pub clients: ApiClients,
    communities: Arc<Communities>,
    mappings: Mappings,
    memberships: Memberships,
    reconciler: Reconciler,
    users: Arc<UserDirectory>,
    groups: Arc<GroupDirectory>,
}

impl Admin {
    /// Administration over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            tenants: Tenants::new(table.clone()),
            tokens: ScimTokens::new(table.clone()),
            clients: ApiClients::new(table.clone()),
            communities: Arc::new(Communities::new(table.clone())),
            mappings: Mappings::new(table.clone()),
            memberships: Memberships::new(table.clone()),
            reconciler: Reconciler::new(table.clone()),
            users: Arc::new(UserDirectory::new(table.clone())),
            groups: Arc::new(GroupDirectory::new(table.clone())),
            table,
        }
    }

    /// The tenant, or `NotFound`.
    pub async fn tenant(&self, t: &TenantId) -> Result<crate::auth::Tenant, AdminError> {
        self.tenants
            .get(t)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no tenant {t}")))
    }

    /// Creates an API client of an existing tenant.
    pub async fn create_client(
        &self,
        t: &TenantId,
        new: NewClient,
    ) -> Result<IssuedClient, AdminError> {
        self.tenant(t).await?;
        Ok(self.clients.create(t, new).await?)
    }

    /// Creates a community (name unique in the tenant).
    pub async fn create_community(&self, t: &TenantId, name: &str) -> Result<Value, AdminError> {
        self.tenant(t).await?;
        let c = self.communities.create(t, name).await?;
        Ok(community_json(&c))
    }

    /// Every community of the tenant.
    pub async fn communities(&self, t: &TenantId) -> Result<Vec<Value>, AdminError> {
        self.tenant(t).await?;
        Ok(self
            .communities
            .list(t)
            .await?
            .iter()
            .map(community_json)
            .collect())
    }

    async fn community_id(&self, t: &TenantId, id_or_name: &str) -> Result<String, AdminError> {
        match self.communities.resolve(t, id_or_name).await? {
            Some(c) => Ok(c.id),
            None => Err(AdminError::NotFound(format!(
                "no community {id_or_name:?} in tenant {t}"
            ))),
        }
    }

    /// Whether a group of this displayName (ignoring case) has been pushed.
    pub async fn group_named(&self, t: &TenantId, name: &str) -> Result<bool, AdminError> {
        Ok(self.groups.by_display_name(t, name).await?.is_some())
    }

    /// The groups a selector names today (none when a name-mapped group was not pushed yet).
    async fn groups_of(
        &self,
        t: &TenantId,
        selector: &GroupSelector,
    ) -> Result<Vec<String>, AdminError> {
        let found = match selector {
            GroupSelector::Id(id) => self.groups.records().get(t, id).await?.map(|g| g.id),
            GroupSelector::DisplayName(name) => self.groups.by_display_name(t, name).await?,
        };
        Ok(found.into_iter().collect())
    }

    /// Creates or changes a mapping; returns it with the ids of the groups to re-derive.
    pub async fn set_mapping(
        &self,
        t: &TenantId,
        group: GroupSelector,
        community: &str,
        role: Role,
    ) -> Result<(Mapping, Vec<String>), AdminError> {
        self.tenant(t).await?;
        let community = self.community_id(t, community).await?;
        let mapping = Mapping {
            group,
            community,
            role,
        };
        self.mappings.set(t, &mapping).await?;
        let groups = self.groups_of(t, &mapping.group).await?;
        Ok((mapping, groups))
    }

    /// Removes a mapping; returns the ids of the groups to re-derive.
    pub async fn remove_mapping(
        &self,
        t: &TenantId,
        group: GroupSelector,
        community: &str,
    ) -> Result<Vec<String>, AdminError> {
        self.tenant(t).await?;
        let community = self.community_id(t, community).await?;
        if !self.mappings.remove(t, &group, &community).await? {
            return Err(AdminError::NotFound("no such mapping".into()));
        }
        self.groups_of(t, &group).await
    }

    /// Every mapping of the tenant.
    pub async fn mappings(&self, t: &TenantId) -> Result<Vec<Mapping>, AdminError> {
        self.tenant(t).await?;
        Ok(self.mappings.list(t).await?)
    }

    /// Settles the intent a mapping change recorded for group `id`: its members are derived
    /// again when its mappings give something new. Returns how many users changed. Meant for
    /// background tasks and the CLI, not a request; the reconciler would do it anyway.
    pub async fn rederive(&self, t: &TenantId, group: &str) -> Result<u64, AdminError> {
        let target = [Target::Group(group.to_owned())];
        Ok(self.reconciler.settle(t, &target).await?.changed)
    }

    /// The id of the user `id_or_name` names (an id, else a userName), or `NotFound`.
    pub async fn user_id(&self, t: &TenantId, id_or_name: &str) -> Result<String, AdminError> {
        if let Some(user) = self.users.records().get(t, id_or_name).await? {
            return Ok(user.id);
        }
        self.users
            .by_user_names(t, &[id_or_name])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| AdminError::NotFound(format!("no user {id_or_name:?} in tenant {t}")))
    }

    /// Makes a user (id or userName) administrator of a community, or of the tenant when no
    /// community is given.
    pub async fn add_admin(
        &self,
        t: &TenantId,
        user: &str,
        community: Option<&str>,
    ) -> Result<Value, AdminError> {
        self.tenant(t).await?;
        let user = self.user_id(t, user).await?;
        match community {
            Some(c) => {
                let community = self.community_id(t, c).await?;
                self.memberships
                    .grant_admin(t, &user, &community, Role::Administrator)
                    .await?;
                Ok(json!({"user_id": user, "community_id": community, "role": "administrator"}))
            }
            None => {
                let body = serde_json::to_vec(&json!({"user": user, "created": now_rfc3339()}))
                    .expect("json");
                self.table
                    .put(
                        Item::new(keys::tenant_admin(t, &user), 1, body),
                        Condition::Always,
                    )
                    .await?;
                Ok(
                    json!({"user_id": user, "tenant_id": t.as_str(), "role": "tenant_administrator"}),
                )
            }
        }
    }

    /// Whether `user` administers the tenant.
    pub async fn is_tenant_admin(&self, t: &TenantId, user: &str) -> Result<bool, StoreError> {
        Ok(self
            .table
            .get(&keys::tenant_admin(t, user))
            .await?
            .is_some())
    }

    /// Ids of the communities `user` administers (directly or through a mapped group).
    pub async fn administered_communities(
        &self,
        t: &TenantId,
        user: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .memberships
            .of_user(t, user)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::Administrator)
            .map(|m| m.community)
            .collect())
    }
}

fn community_json(c: &Community) -> Value {
    json!({"id": c.id, "name": c.name, "created": c.created})
}
