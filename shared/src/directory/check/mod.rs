//! The full check of a tenant's directory (`muster check`): every kind of drift from the
//! invariant stated in [`crate::directory`], with counts and first examples, and its repair.
//!
//! A finding about a user or group that still has a pending intent is counted as `pending`,
//! not as drift: the reconciler has yet to settle it. Repairing fixes what intents cannot
//! (items without their reverse, dangling index items), records an intent for every user and
//! group involved, drains them, and checks again.

mod counts;
mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::derive::{display_name, links_many};
use super::intent::{Intents, Target};
use super::reconciler::{Drained, Reconciler};
use super::records::pointed_id;
use crate::community::{Mappings, Membership, reverse_body};
use crate::ids::TenantId;
use crate::store::{Query, SkRange, StoreError, Table, keys, query_all, query_all_merged};
use counts::Counts;
use rules::{Findings, State, entry, group_members, ids, user_links};

/// How many examples a finding keeps.
const EXAMPLES: usize = 5;

/// One kind of drift: how often it was found, and the first places.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// How many places drift this way.
    pub count: u64,
    /// The first few, as `key=value` words.
    pub examples: Vec<String>,
}

/// How much the check read.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Scanned {
    /// Live users.
    pub users: u64,
    /// Soft-deleted users.
    pub deleted_users: u64,
    /// Groups.
    pub groups: u64,
    /// Group member items.
    pub group_members: u64,
    /// Community memberships.
    pub memberships: u64,
}

/// What a check found.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    /// The tenant checked.
    pub tenant: String,
    /// What was read.
    pub scanned: Scanned,
    /// Intents not drained yet.
    pub pending_intents: u64,
    /// Findings about users or groups with a pending intent (not drift).
    pub pending: u64,
    /// Drift by kind; empty when the invariant holds.
    pub drift: BTreeMap<String, Finding>,
}

impl Report {
    /// How many places drift, all kinds together.
    pub fn drift_total(&self) -> u64 {
        self.drift.values().map(|f| f.count).sum()
    }
}

/// What a repair did: the check before, the intents it drained, and the check after.
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    /// The check that found the drift.
    pub before: Report,
    /// The items rewritten or removed directly.
    pub fixed_items: u64,
    /// The intents drained.
    pub drained: Drained,
    /// The check after the repair.
    pub after: Report,
}

/// Checks and repairs tenants over one table.
#[derive(Clone)]
pub struct Checker {
    table: Arc<dyn Table>,
}

impl Checker {
    /// A checker over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Checks a tenant; writes nothing.
    pub async fn check(&self, t: &TenantId) -> Result<Report, StoreError> {
        Ok(self.scan(t).await?.report)
    }

    /// Checks a tenant, repairs every drift found, and checks again.
    pub async fn repair(&self, t: &TenantId) -> Result<Repaired, StoreError> {
        let found = self.scan(t).await?;
        let fixed_items = (found.writes.len() + found.adds.len()) as u64;
        self.table.batch_write(found.writes).await?;
        for adds in found.adds.chunks(crate::store::MAX_TRANSACTION_ITEMS) {
            self.table.transact(adds.to_vec()).await?;
        }
        let targets: Vec<Target> = found.intents.into_iter().collect();
        Intents::new(self.table.clone())
            .mark_all(t, &targets)
            .await?;
        let drained = Reconciler::new(self.table.clone()).drain(t).await?;
        Ok(Repaired {
            before: found.report,
            fixed_items,
            drained,
            after: self.check(t).await?,
        })
    }

    async fn read(&self, t: &TenantId) -> Result<State, StoreError> {
        let table = &*self.table;
        let users = |prefix: &str| {
            let range = SkRange::Prefix(prefix.to_owned());
            async move { query_all_merged(table, &keys::users_shards(t), &range).await }
        };
        let live: HashSet<String> =
            ids(&users(keys::USER_PREFIX).await?, keys::USER_PREFIX).collect();
        let deleted: HashSet<String> = ids(
            &users(keys::DELETED_USER_PREFIX).await?,
            keys::DELETED_USER_PREFIX,
        )
        .collect();
        let mut groups = HashMap::new();
        let all_groups = SkRange::Prefix(keys::GROUP_PREFIX.to_owned());
        for item in query_all_merged(table, &keys::groups_shards(t), &all_groups).await? {
            groups.insert(
                item.key.sk[keys::GROUP_PREFIX.len()..].to_owned(),
                display_name(&item),
            );
        }
        let mut members = HashSet::new();
        for g in groups.keys() {
            let shards = keys::group_members_shards(t, g);
            let all = SkRange::Prefix(keys::MEMBER_PREFIX.to_owned());
            for u in ids(
                &query_all_merged(table, &shards, &all).await?,
                keys::MEMBER_PREFIX,
            ) {
                members.insert((g.clone(), u));
            }
        }
        let mut users: BTreeSet<String> = live.union(&deleted).cloned().collect();
        users.extend(members.iter().map(|(_, u)| u.clone()));
        let users: Vec<String> = users.into_iter().collect();
        let mut all_links = BTreeMap::new();
        for chunk in users.chunks(64) {
            let read = links_many(table, t, chunk).await?;
            for (u, l) in chunk.iter().zip(read) {
                all_links.insert(u.clone(), l);
            }
        }
        let (mut pending_users, mut pending_groups) = (HashSet::new(), HashSet::new());
        let pending = Intents::new(self.table.clone()).pending(t).await?;
        for p in &pending {
            match &p.target {
                Target::User(u) => pending_users.insert(u.clone()),
                Target::Group(g) => pending_groups.insert(g.clone()),
            };
        }
        Ok(State {
            live,
            deleted,
            groups,
            members,
            links: all_links,
            mappings: Mappings::new(self.table.clone()).in_force(t).await?,
            pending_users,
            pending_groups,
            pending_intents: pending.len() as u64,
        })
    }

    async fn scan(&self, t: &TenantId) -> Result<Findings, StoreError> {
        let before = Counts::read(&*self.table, t).await?;
        let state = self.read(t).await?;
        let after = Counts::read(&*self.table, t).await?;
        let mut f = Findings::default();
        f.report.tenant = t.to_string();
        f.report.pending_intents = state.pending_intents;
        f.report.scanned = Scanned {
            users: state.live.len() as u64,
            deleted_users: state.deleted.len() as u64,
            groups: state.groups.len() as u64,
            group_members: state.members.len() as u64,
            memberships: state
                .links
                .values()
                .map(|l| l.memberships.len() as u64)
                .sum(),
        };
        group_members(&state, t, &mut f);
        let mut reverse = HashMap::new();
        for (user, links) in &state.links {
            user_links(&state, t, user, links, &mut f);
            for (m, version) in &links.memberships {
                reverse.insert((m.community.clone(), user.clone()), (m, *version));
            }
        }
        self.community_entries(t, &state, &reverse, &mut f).await?;
        self.indexes(t, &state, &mut f).await?;
        counts::counters(&state, t, &before, &after, &mut f);
        Ok(f)
    }

    /// Every community entry must mirror its membership, version included.
    async fn community_entries(
        &self,
        t: &TenantId,
        state: &State,
        memberships: &HashMap<(String, String), (&Membership, u64)>,
        f: &mut Findings,
    ) -> Result<(), StoreError> {
        let mut communities: BTreeSet<String> =
            memberships.keys().map(|(c, _)| c.clone()).collect();
        let listed = query_all(
            &*self.table,
            Query::prefix(keys::tenant_pk(t), keys::COMMUNITY_PREFIX),
        )
        .await?;
        communities.extend(ids(&listed, keys::COMMUNITY_PREFIX));
        let mut seen = HashSet::new();
        for c in &communities {
            let shards = keys::community_members_shards(t, c);
            let all = SkRange::Prefix(keys::MEMBER_PREFIX.to_owned());
            for item in query_all_merged(&*self.table, &shards, &all).await? {
                let u = item.key.sk[keys::MEMBER_PREFIX.len()..].to_owned();
                let stored: Option<Value> = serde_json::from_slice(&item.body).ok();
                let ex = format!("community={c} user={u}");
                match memberships.get(&(c.clone(), u.clone())) {
                    None => {
                        f.note(state, "community_entry_without_membership", &u, None, ex);
                        f.delete(item.key.clone());
                    }
                    Some((m, v)) if stored != Some(reverse_body(m)) || item.version != *v => {
                        f.note(state, "community_entry_out_of_date", &u, None, ex);
                        f.put(entry(t, m, *v));
                    }
                    Some(_) => {}
                }
                seen.insert((c.clone(), u));
            }
        }
        for ((c, u), (m, v)) in memberships {
            if !seen.contains(&(c.clone(), u.clone())) {
                let ex = format!("community={c} user={u}");
                f.note(state, "membership_without_community_entry", u, None, ex);
                f.put(entry(t, m, *v));
            }
        }
        Ok(())
    }

    /// Every unique index item must point to a resource of its kind that exists.
    async fn indexes(
        &self,
        t: &TenantId,
        state: &State,
        f: &mut Findings,
    ) -> Result<(), StoreError> {
        let mut prefixes: Vec<(&str, &HashSet<String>)> = Vec::new();
        for (prefix, live) in keys::USER_INDEX_PREFIXES {
            prefixes.push((prefix, if live { &state.live } else { &state.deleted }));
        }
        let groups: HashSet<String> = state.groups.keys().cloned().collect();
        for prefix in keys::GROUP_INDEX_PREFIXES {
            prefixes.push((prefix, &groups));
        }
        for (prefix, targets) in prefixes {
            let range = SkRange::Prefix(prefix.to_owned());
            let shards = keys::index_shards(t);
            for item in query_all_merged(&*self.table, &shards, &range).await? {
                let id = pointed_id(&item);
                if id.as_ref().is_none_or(|id| !targets.contains(id)) {
                    let ex = format!("index={}", item.key.sk);
                    let subject = id.unwrap_or_default();
                    f.note(state, "dangling_index", &subject, None, ex);
                    f.intents.remove(&Target::User(subject));
                    f.delete(item.key);
                }
            }
        }
        Ok(())
    }
}
