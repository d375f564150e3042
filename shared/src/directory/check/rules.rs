//! The rules of the check: what each item of a tenant must agree with, the drift kinds a
//! disagreement is counted under, and the writes or intents that repair it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{EXAMPLES, Report};
use crate::community::{Mapping, Membership, Source, reverse_body};
use crate::directory::derive::{UserLinks, expected_sources};
use crate::directory::intent::Target;
use crate::directory::members::link_item;
use crate::ids::TenantId;
use crate::store::{Condition, Item, Key, Write, keys};

/// Everything one check read.
pub(super) struct State {
    pub(super) live: HashSet<String>,
    pub(super) deleted: HashSet<String>,
    pub(super) groups: HashMap<String, String>,
    pub(super) members: HashSet<(String, String)>,
    pub(super) links: BTreeMap<String, UserLinks>,
    pub(super) mappings: Vec<Mapping>,
    pub(super) pending_users: HashSet<String>,
    pub(super) pending_groups: HashSet<String>,
    pub(super) pending_intents: u64,
}

/// The findings of one check, and what would repair them.
#[derive(Default)]
pub(super) struct Findings {
    pub(super) report: Report,
    pub(super) writes: Vec<Write>,
    /// Counter corrections ([`Write::Add`]), which only a transaction may carry.
    pub(super) adds: Vec<Write>,
    pub(super) intents: BTreeSet<Target>,
}

impl Findings {
    pub(super) fn note(
        &mut self,
        state: &State,
        kind: &str,
        user: &str,
        group: Option<&str>,
        ex: String,
    ) {
        if state.pending_users.contains(user)
            || group.is_some_and(|g| state.pending_groups.contains(g))
        {
            self.report.pending += 1;
            return;
        }
        self.drift(kind, ex);
        self.intents.insert(Target::User(user.to_owned()));
    }

    /// Counts one place drifting as `kind`, keeping `ex` among the first examples.
    pub(super) fn drift(&mut self, kind: &str, ex: String) {
        let finding = self.report.drift.entry(kind.to_owned()).or_default();
        finding.count += 1;
        if finding.examples.len() < EXAMPLES {
            finding.examples.push(ex);
        }
    }

    pub(super) fn delete(&mut self, key: Key) {
        self.writes.push(Write::Delete {
            key,
            condition: Condition::Always,
        });
    }

    pub(super) fn put(&mut self, item: Item) {
        self.writes.push(Write::Put {
            item,
            condition: Condition::Always,
        });
    }
}

pub(super) fn ids(items: &[Item], prefix: &str) -> impl Iterator<Item = String> {
    items
        .iter()
        .map(move |i| i.key.sk[prefix.len()..].to_owned())
}

pub(super) fn entry(t: &TenantId, m: &Membership, version: u64) -> Item {
    let body = serde_json::to_vec(&reverse_body(m)).expect("json");
    Item::new(
        keys::community_member(t, &m.community, &m.user),
        version,
        body,
    )
}

/// Member items: the user must be live and hold the reverse item.
pub(super) fn group_members(state: &State, t: &TenantId, f: &mut Findings) {
    for (g, u) in &state.members {
        let ex = format!("group={g} user={u}");
        let reversed = state.links.get(u).is_some_and(|l| l.groups.contains(g));
        if !state.live.contains(u) {
            f.note(state, "member_not_live", u, Some(g), ex);
            f.delete(keys::group_member(t, g, u));
            f.delete(keys::user_group(t, u, g));
        } else if !reversed {
            f.note(state, "member_without_reverse", u, Some(g), ex);
            f.put(link_item(keys::user_group(t, u, g), g));
        }
    }
}

/// A user's reverse items and memberships against the groups and mappings.
pub(super) fn user_links(
    state: &State,
    t: &TenantId,
    user: &str,
    links: &UserLinks,
    f: &mut Findings,
) {
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
    let expected = expected_sources(&in_groups, &state.mappings);
    let held: BTreeMap<&str, &Membership> = links
        .memberships
        .iter()
        .map(|(m, _)| (m.community.as_str(), m))
        .collect();
    let communities: BTreeSet<&str> = held
        .keys()
        .copied()
        .chain(expected.keys().map(String::as_str))
        .collect();
    for community in communities {
        let ex = format!("user={user} community={community}");
        let wanted = expected.get(community).map_or(&[][..], Vec::as_slice);
        let has: Vec<&Source> = held.get(community).map_or(Vec::new(), |m| {
            m.sources
                .iter()
                .filter(|s| matches!(s, Source::Group { .. }))
                .collect()
        });
        for s in wanted.iter().filter(|s| !has.contains(s)) {
            f.note(state, "missing_group_source", user, group_of(s), ex.clone());
        }
        for s in has.iter().filter(|s| !wanted.contains(s)) {
            f.note(state, "extra_group_source", user, group_of(s), ex.clone());
        }
    }
    for (m, version) in &links.memberships {
        let ex = format!("user={user} community={}", m.community);
        if m.sources.is_empty() {
            f.note(state, "membership_without_source", user, None, ex);
            f.delete(keys::membership(t, user, &m.community));
            f.delete(keys::community_member(t, &m.community, user));
        } else if Membership::derived_role(&m.sources) != Some(m.role) {
            f.note(state, "wrong_effective_role", user, None, ex);
            let mut fixed = m.clone();
            fixed.role = Membership::derived_role(&m.sources).expect("sources");
            let body = serde_json::to_vec(&fixed).expect("json");
            let key = keys::membership(t, user, &m.community);
            f.put(Item::new(key, version + 1, body));
            f.put(entry(t, &fixed, version + 1));
        }
    }
}

/// The group a group source names.
fn group_of(source: &Source) -> Option<&str> {
    match source {
        Source::Group { group, .. } => Some(group),
        _ => None,
    }
}
