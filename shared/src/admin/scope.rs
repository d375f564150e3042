//! Who may administer what: a tenant administrator manages every community of the tenant, a
//! community administrator the communities where their role is administrator. The console
//! and the `/v1` acting user follow the same rule.

use super::{Admin, AdminError};
use crate::console::{ConsoleLinks, IssuedLink};
use crate::ids::TenantId;
use crate::store::StoreError;

/// What an administrator may manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    /// A tenant administrator: every community (ids).
    Tenant(Vec<String>),
    /// A community administrator: these communities (ids).
    Communities(Vec<String>),
}

impl AdminScope {
    /// The ids of the communities in scope.
    pub fn communities(&self) -> &[String] {
        match self {
            AdminScope::Tenant(c) | AdminScope::Communities(c) => c,
        }
    }

    /// Whether community `id` is in scope.
    pub fn covers(&self, id: &str) -> bool {
        self.communities().iter().any(|c| c == id)
    }

    /// Whether this is a tenant administrator.
    pub fn is_tenant(&self) -> bool {
        matches!(self, AdminScope::Tenant(_))
    }
}

impl Admin {
    /// The scope of user `user` (an id) of `t`, or `None` when the user administers nothing,
    /// no longer exists or is inactive: access follows the directory on every request.
    pub async fn scope_of(
        &self,
        t: &TenantId,
        user: &str,
    ) -> Result<Option<AdminScope>, StoreError> {
        let Some(record) = self.users.records().get(t, user).await? else {
            return Ok(None);
        };
        if record.doc.get("active") == Some(&serde_json::Value::Bool(false)) {
            return Ok(None);
        }
        if self.is_tenant_admin(t, user).await? {
            let all = self.communities.list(t).await?;
            return Ok(Some(AdminScope::Tenant(
                all.into_iter().map(|c| c.id).collect(),
            )));
        }
        let mine = self.administered_communities(t, user).await?;
        Ok((!mine.is_empty()).then_some(AdminScope::Communities(mine)))
    }

    /// Issues a one-time console sign-in link for `user` (an id or userName) of `t`, at
    /// `now`; answers the user's id and the link. Refused unless the user administers the
    /// tenant or a community.
    pub async fn console_link(
        &self,
        t: &TenantId,
        user: &str,
        now: i64,
    ) -> Result<(String, IssuedLink), AdminError> {
        self.tenant(t).await?;
        let id = self.user_id(t, user).await?;
        if self.scope_of(t, &id).await?.is_none() {
            return Err(AdminError::Invalid(format!(
                "{user} administers neither the tenant nor a community (or is inactive)"
            )));
        }
        let link = ConsoleLinks::new(self.table.clone())
            .issue(t, &id, now)
            .await?;
        Ok((id, link))
    }
}
