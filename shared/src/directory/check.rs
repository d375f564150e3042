//! The full check of a tenant's directory (`muster check`): every kind of drift from the
//! invariant stated in [`crate::directory`], with counts and first examples, and its repair.
//!
//! A finding about a user or group that still has a pending intent is counted as `pending`,
//! not as drift: the reconciler has yet to settle it. Repairing fixes what intents cannot
//! (items without their reverse, dangling index items), records an intent for every user and
//! group involved, drains them, and checks again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::{Value, json};

use super::derive::{UserLinks, display_name, expected_sources, links};
use super::intent::{Intents, Target};
use super::reconciler::{Drained, Reconciler};
use crate::community::{Mapping, Mappings, Membership, Source, reverse_body};
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Query, StoreError, Table, Write, keys, query_all};

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

/// Everything one check read.
struct State {
    live: HashSet<String>,
    deleted: HashSet<String>,
    groups: HashMap<String, String>,
    members: HashSet<(String, String)>,
    links: BTreeMap<String, UserLinks>,
    mappings: Vec<Mapping>,
    pending_users: HashSet<String>,
    pending_groups: HashSet<String>,
    pending_intents: u64,
}

/// The findings of one check, and what would repair them.
#[derive(Default)]
struct Findings {
    report: Report,
    writes: Vec<Write>,
    intents: BTreeSet<Target>,
}

impl Findings {
    fn note(&mut self, state: &State, kind: &str, user: &str, group: Option<&str>, ex: String) {
        if state.pending_users.contains(user)
            || group.is_some_and(|g| state.pending_groups.contains(g))
        {
            self.report.pending += 1;
            return;
        }
        let finding = self.report.drift.entry(kind.to_owned()).or_default();
        finding.count += 1;
        if finding.examples.len() < EXAMPLES {
            finding.examples.push(ex);
        }
        self.intents.insert(Target::User(user.to_owned()));
    }

    fn delete(&mut self, key: Key) {
        self.writes.push(Write::Delete {
            key,
            condition: Condition::Always,
        });
    }

    fn put(&mut self, item: Item) {
        self.writes.push(Write::Put {
            item,
            condition: Condition::Always,
        });
    }
}

fn ids(items: &[Item], prefix: &str) -> impl Iterator<Item = String> {
    items
        .iter()
        .map(move |i| i.key.sk[prefix.len()..].to_owned())
}

fn link_body(value: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "value": value })).expect("json")
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
        let fixed_items = found.writes.len() as u64;
        self.table.batch_write(found.writes).await?;
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
        let tenant = |prefix: &str| query_all(table, Query::prefix(keys::tenant_pk(t), prefix));
        let live: HashSet<String> =
            ids(&tenant(keys::USER_PREFIX).await?, keys::USER_PREFIX).collect();
        let deleted: HashSet<String> = ids(
            &tenant(keys::DELETED_USER_PREFIX).await?,
            keys::DELETED_USER_PREFIX,
        )
        .collect();
        let mut groups = HashMap::new();
        for item in tenant(keys::GROUP_PREFIX).await? {
            groups.insert(
                item.key.sk[keys::GROUP_PREFIX.len()..].to_owned(),
                display_name(&item),
            );
        }
        let mut members = HashSet::new();
        for g in groups.keys() {
            let q = Query::prefix(keys::group_members_pk(t, g), keys::MEMBER_PREFIX);
            for u in ids(&query_all(table, q).await?, keys::MEMBER_PREFIX) {
                members.insert((g.clone(), u));
            }
        }
        let mut users: BTreeSet<String> = live.union(&deleted).cloned().collect();
        users.extend(members.iter().map(|(_, u)| u.clone()));
        let users: Vec<String> = users.into_iter().collect();
        let mut all_links = BTreeMap::new();
        for chunk in users.chunks(64) {
            let read = join_all(chunk.iter().map(|u| links(table, t, u))).await;
            for (u, l) in chunk.iter().zip(read) {
                all_links.insert(u.clone(), l?);
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
            mappings: Mappings::new(self.table.clone()).list(t).await?,
            pending_users,
            pending_groups,
            pending_intents: pending.len() as u64,
        })
    }

    async fn scan(&self, t: &TenantId) -> Result<Findings, StoreError> {
        let state = self.read(t).await?;
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
            let q = Query::prefix(keys::community_members_pk(t, c), keys::MEMBER_PREFIX);
            for item in query_all(&*self.table, q).await? {
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
            let q = Query::prefix(keys::tenant_pk(t), prefix);
            for item in query_all(&*self.table, q).await? {
                let id: Option<String> = serde_json::from_slice::<Value>(&item.body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned));
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

fn entry(t: &TenantId, m: &Membership, version: u64) -> Item {
    let body = serde_json::to_vec(&reverse_body(m)).expect("json");
    Item::new(
        keys::community_member(t, &m.community, &m.user),
        version,
        body,
    )
}

/// Member items: the user must be live and hold the reverse item.
fn group_members(state: &State, t: &TenantId, f: &mut Findings) {
    for (g, u) in &state.members {
        let ex = format!("group={g} user={u}");
        let reversed = state.links.get(u).is_some_and(|l| l.groups.contains(g));
        if !state.live.contains(u) {
            f.note(state, "member_not_live", u, Some(g), ex);
            f.delete(keys::group_member(t, g, u));
            f.delete(keys::user_group(t, u, g));
        } else if !reversed {
            f.note(state, "member_without_reverse", u, Some(g), ex);
            f.put(Item::new(keys::user_group(t, u, g), 1, link_body(g)));
        }
    }
}

/// A user's reverse items and memberships against the groups and mappings.
fn user_links(state: &State, t: &TenantId, user: &str, links: &UserLinks, f: &mut Findings) {
    let live = state.live.contains(user);
    let mut in_groups = Vec::new();
    for g in &links.groups {
        let ex = format!("user={user} group={g}");
        match state.groups.get(g) {
            None => {
                f.note(state, "member_of_deleted_group", user, Some(g), ex);
                f.delete(keys::user_group(t, user, g));
                f.delete(keys::group_member(t, g, user));
            }
            Some(_) if !state.members.contains(&(g.clone(), user.to_owned())) => {
                f.note(state, "reverse_without_member", user, Some(g), ex);
                f.delete(keys::user_group(t, user, g));
            }
            Some(name) if live => in_groups.push((g.clone(), name.clone())),
            Some(_) => {}
        }
    }
    let mut expected = expected_sources(&in_groups, &state.mappings);
    for (m, version) in &links.memberships {
        let ex = format!("user={user} community={}", m.community);
        let wanted = expected.remove(&m.community).unwrap_or_default();
        let has: Vec<&Source> = m
            .sources
            .iter()
            .filter(|s| matches!(s, Source::Group { .. }))
            .collect();
        let group = |s: &Source| match s {
            Source::Group { group, .. } => Some(group.clone()),
            _ => None,
        };
        for s in wanted.iter().filter(|s| !has.contains(s)) {
            f.note(
                state,
                "missing_group_source",
                user,
                group(s).as_deref(),
                ex.clone(),
            );
        }
        for s in has.iter().filter(|s| !wanted.contains(s)) {
            f.note(
                state,
                "extra_group_source",
                user,
                group(s).as_deref(),
                ex.clone(),
            );
        }
        if m.sources.is_empty() {
            f.note(state, "membership_without_source", user, None, ex);
            f.delete(keys::membership(t, user, &m.community));
            f.delete(keys::community_member(t, &m.community, user));
        } else if Membership::derived_role(&m.sources) != Some(m.role) {
            f.note(state, "wrong_effective_role", user, None, ex);
            let mut fixed = m.clone();
            fixed.role = Membership::derived_role(&m.sources).expect("sources");
            let body = serde_json::to_vec(&fixed).expect("json");
            f.put(Item::new(
                keys::membership(t, user, &m.community),
                version + 1,
                body,
            ));
            f.put(entry(t, &fixed, version + 1));
        }
    }
    for (community, sources) in expected {
        for s in sources {
            let Source::Group { group, .. } = &s else {
                continue;
            };
            let ex = format!("user={user} community={community}");
            f.note(state, "missing_group_source", user, Some(group), ex);
        }
    }
}
