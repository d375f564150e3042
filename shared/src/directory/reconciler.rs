//! The reconciler: drains pending intents, recomputing derived state from current state.
//!
//! It runs inline after each request that recorded intents (so a client reads its own
//! writes), in `muster serve` at start and continuously, and on AWS on a schedule: a request
//! cut short by a crash leaves its intents behind, and the next pass heals what it left.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::derivation::UserDerivation;
use super::derive::display_name;
use super::groups::GroupDirectory;
use super::intent::{Intents, Target};
use super::members::Members;
use crate::auth::{TenantError, Tenants};
use crate::community::{GroupSelector, Mappings, Role, given_by};
use crate::ids::TenantId;
use crate::store::{Condition, Item, StoreError, Table, Write, keys};

/// Members handled per page when a group is looked at again.
const PAGE: usize = 500;
/// How many times a group is looked at when its intent keeps being renewed.
const ATTEMPTS: usize = 8;

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Drained {
    /// Group intents ended.
    pub groups: u64,
    /// User intents looked at.
    pub users: u64,
    /// Users whose derived state had to change.
    pub changed: u64,
}

/// Drains intents over one table.
#[derive(Clone)]
pub struct Reconciler {
    table: Arc<dyn Table>,
    intents: Intents,
    users: UserDerivation,
    members: Members,
    mappings: Mappings,
}

impl Reconciler {
    /// A reconciler over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            intents: Intents::new(table.clone()),
            users: UserDerivation::new(table.clone()),
            members: Members::new(table.clone()),
            mappings: Mappings::new(table.clone()),
            table,
        }
    }

    /// Settles the intents a request just recorded: groups first (their members' intents
    /// follow), then users.
    pub async fn settle(&self, t: &TenantId, targets: &[Target]) -> Result<Drained, StoreError> {
        let mut done = Drained::default();
        let mut users = Vec::new();
        for target in targets {
            match target {
                Target::Group(g) => {
                    done.changed += self.group(t, g).await?;
                    done.groups += 1;
                }
                Target::User(u) => users.push(u.clone()),
            }
        }
        done.users += users.len() as u64;
        done.changed += self.users.reconcile(t, &users).await?;
        Ok(done)
    }

    /// Settles as [`settle`](Self::settle) does after a request whose primary change is
    /// committed: a failure is logged and the intents stay for the background passes.
    pub async fn settle_or_defer(&self, t: &TenantId, targets: &[Target]) {
        if let Err(e) = self.settle(t, targets).await {
            tracing::warn!(tenant = %t, error = %e, "derivation left to the reconciler");
        }
    }

    /// Drains every pending intent of a tenant, a changed synchronization switch first.
    pub async fn drain(&self, t: &TenantId) -> Result<Drained, StoreError> {
        self.expand_switch(t).await?;
        let pending = self.intents.pending(t).await?;
        let mut targets: Vec<Target> = pending.into_iter().map(|p| p.target).collect();
        targets.sort_by_key(|x| matches!(x, Target::User(_)));
        self.settle(t, &targets).await
    }

    /// The tenant-wide intent of a changed synchronization switch: an intent for every group
    /// a mapping names (by id, or by name once pushed), then the tenant-wide one is cleared.
    /// Stopped midway, it starts over at the next pass; marking twice is harmless.
    async fn expand_switch(&self, t: &TenantId) -> Result<(), StoreError> {
        let tenants = Tenants::new(self.table.clone());
        let tenant = match tenants.get(t).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => return Ok(()),
            Err(TenantError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Backend(e.to_string())),
        };
        let Some(nonce) = tenant.sync_pending else {
            return Ok(());
        };
        let groups = GroupDirectory::new(self.table.clone());
        let mut targets = Vec::new();
        for mapping in self.mappings.list(t).await? {
            let group = match mapping.group {
                GroupSelector::Id(id) => Some(id),
                GroupSelector::DisplayName(name) => groups.by_display_name(t, &name).await?,
            };
            if let Some(g) = group.map(Target::Group)
                && !targets.contains(&g)
            {
                targets.push(g);
            }
        }
        self.intents.mark_all(t, &targets).await?;
        match tenants.clear_sync_pending(t, nonce).await {
            Ok(()) => Ok(()),
            Err(TenantError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::Backend(e.to_string())),
        }
    }

    /// Ends a group's intent: a deleted group loses every member; a live one whose mappings
    /// give something else than when its members were last derived has each member derived
    /// again. Answers how many users changed.
    async fn group(&self, t: &TenantId, g: &str) -> Result<u64, StoreError> {
        let target = Target::Group(g.to_owned());
        for _ in 0..ATTEMPTS {
            let Some(nonce) = self.intents.nonce(t, &target).await? else {
                return Ok(0);
            };
            let record = keys::group_derivation(t, g);
            let (changed, last) = match self.table.get(&keys::group(t, g)).await? {
                None => (self.empty_group(t, g).await?, None),
                Some(item) => {
                    let given =
                        given_by(&self.mappings.in_force(t).await?, g, &display_name(&item));
                    let last = self.table.get(&record).await?;
                    let changed = if last.as_ref().map(given_of) == Some(given.clone()) {
                        0
                    } else {
                        self.rederive(t, g).await?
                    };
                    (changed, Some(given))
                }
            };
            let mut writes = vec![Intents::consume(t, &target, nonce)];
            writes.push(match last {
                None => Write::Delete {
                    key: record,
                    condition: Condition::Always,
                },
                Some(given) => Write::Put {
                    item: Item::new(record, 1, serde_json::to_vec(&given).expect("json")),
                    condition: Condition::Always,
                },
            });
            match self.table.transact(writes).await {
                Ok(()) => return Ok(changed),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Takes every member out of a deleted group, page by page, and derives them again.
    async fn empty_group(&self, t: &TenantId, g: &str) -> Result<u64, StoreError> {
        let mut changed = 0;
        loop {
            let (page, _) = self.members.page_of_group(t, g, None, PAGE).await?;
            if page.is_empty() {
                return Ok(changed);
            }
            self.members.remove(t, g, &page).await?;
            changed += self.users.reconcile(t, &page).await?;
        }
    }

    /// Records an intent for every member of a live group and derives them, page by page.
    async fn rederive(&self, t: &TenantId, g: &str) -> Result<u64, StoreError> {
        let (mut cursor, mut changed) = (None, 0);
        loop {
            let (page, next) = self.members.page_of_group(t, g, cursor, PAGE).await?;
            let targets: Vec<Target> = page.iter().map(|u| Target::User(u.clone())).collect();
            self.intents.mark_all(t, &targets).await?;
            changed += self.users.reconcile(t, &page).await?;
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(changed),
            }
        }
    }
}

fn given_of(item: &Item) -> BTreeMap<String, Role> {
    serde_json::from_slice(&item.body).unwrap_or_default()
}
