//! The synchronization switch: while off, the identity provider's users and groups are
//! stored but their groups grant no community access; turning it on derives it all through
//! the reconciler. `preview` says what turning it on would grant.

use std::collections::{BTreeMap, BTreeSet};

use super::{Admin, AdminError};
use crate::auth::Tenant;
use crate::directory::{Drained, Lifecycle, Members};
use crate::ids::TenantId;

/// Members read per page while counting a group.
const PAGE: usize = 500;

/// What the mappings would grant in one community.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The community's id.
    pub community: String,
    /// Its name.
    pub name: String,
    /// Distinct active users who would get access.
    pub users: u64,
}

impl Admin {
    /// Turns the switch on or off (recording the tenant-wide intent with it), then drains the
    /// tenant's intents: every mapped group's members are derived again under the new
    /// setting. A drain cut short is finished by the reconciler's next pass.
    pub async fn set_sync(&self, t: &TenantId, on: bool) -> Result<(Tenant, Drained), AdminError> {
        let tenant = self
            .tenants
            .set_sync(t, on)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no tenant {t}")))?;
        let drained = self.reconciler.drain(t).await?;
        Ok((tenant, drained))
    }

    /// Drains the tenant's intents (a changed switch's first): what [`Admin::set_sync`] does
    /// after recording the change, for callers that record it and drain in the background.
    pub async fn drain(&self, t: &TenantId) -> Result<Drained, AdminError> {
        Ok(self.reconciler.drain(t).await?)
    }

    /// Per community, how many active users the mappings would grant access to with the
    /// switch on (whatever it is now).
    pub async fn sync_preview(&self, t: &TenantId) -> Result<Vec<Grant>, AdminError> {
        let members = Members::new(self.table.clone());
        let lifecycle = Lifecycle::new(self.table.clone());
        let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for mapping in self.mappings(t).await? {
            for group in self.groups_of(t, &mapping.group).await? {
                let mut cursor = None;
                loop {
                    let (page, next) = members.page_of_group(t, &group, cursor, PAGE).await?;
                    let entitled = lifecycle.entitled(t, &page).await?;
                    users
                        .entry(mapping.community.clone())
                        .or_default()
                        .extend(entitled);
                    match next {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (community, members) in users {
            let name = self
                .communities
                .name(t, &community)
                .await?
                .unwrap_or_else(|| community.clone());
            out.push(Grant {
                community,
                name,
                users: members.len() as u64,
            });
        }
        Ok(out)
    }
}
