//! Deriving community memberships from IdP groups: joining a mapped group grants the mapped
//! role, leaving it takes that source away, and a mapping change re-derives the group's
//! members page by page (never holding a whole large group).

use std::sync::Arc;

use super::{Mappings, Memberships, Source};
use crate::ids::TenantId;
use crate::scim::ScimError;
use crate::scim::members::Members;
use crate::store::{StoreError, Table};

/// Members handled per page when re-deriving a group.
const PAGE: usize = 500;

/// The derivation rules over memberships, mappings and group members.
#[derive(Clone)]
pub struct Derivation {
    memberships: Memberships,
    mappings: Mappings,
    members: Members,
}

impl Derivation {
    /// Derivation over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            memberships: Memberships::new(table.clone()),
            mappings: Mappings::new(table.clone()),
            members: Members::new(table),
        }
    }

    /// `users` joined group `group` (named `name`): grant what its mappings give.
    pub async fn joined(
        &self,
        t: &TenantId,
        group: &str,
        name: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let given = self.mappings.for_group(t, group, name).await?;
        for user in users {
            for (community, role) in &given {
                let source = Source::Group {
                    group: group.to_owned(),
                    role: *role,
                };
                self.memberships.grant(t, user, community, source).await?;
            }
        }
        Ok(())
    }

    /// `users` left group `group`: take its source away wherever it gave one.
    pub async fn left(
        &self,
        t: &TenantId,
        group: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let origin = Source::Group {
            group: group.to_owned(),
            role: super::Role::Member,
        };
        for user in users {
            for m in self.memberships.of_user(t, user).await? {
                if m.sources.iter().any(|s| s.same_origin(&origin)) {
                    self.memberships
                        .revoke(t, user, &m.community, &origin)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Brings every member of `group` in line with the group's current mappings (after a
    /// mapping change or a rename). Returns how many members were visited.
    pub async fn rederive(&self, t: &TenantId, group: &str, name: &str) -> Result<u64, ScimError> {
        let given = self.mappings.for_group(t, group, name).await?;
        let origin = Source::Group {
            group: group.to_owned(),
            role: super::Role::Member,
        };
        let mut cursor = None;
        let mut visited = 0;
        loop {
            let (users, next) = self.members.page_of_group(t, group, cursor, PAGE).await?;
            for user in &users {
                for m in self.memberships.of_user(t, user).await? {
                    if !given.contains_key(&m.community)
                        && m.sources.iter().any(|s| s.same_origin(&origin))
                    {
                        self.memberships
                            .revoke(t, user, &m.community, &origin)
                            .await?;
                    }
                }
                for (community, role) in &given {
                    let source = Source::Group {
                        group: group.to_owned(),
                        role: *role,
                    };
                    self.memberships.grant(t, user, community, source).await?;
                }
            }
            visited += users.len() as u64;
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(visited),
            }
        }
    }
}
