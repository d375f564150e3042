//! Deriving one user's community memberships from the directory, level-triggered: from the
//! user's state, its groups and the tenant's mappings as they are now, never from a delta.
//!
//! For a live user, each group it belongs to gives, for each community a mapping names, a
//! `Source::Group` with the highest mapped role. A user that is not live (soft-deleted or
//! gone) belongs to no group and keeps no group source. File and administrator sources are
//! never touched here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::intent::{Intents, Target};

use crate::community::{Change, Mapping, Membership, Memberships, Source, given_by};
use crate::ids::TenantId;
use crate::store::{
    Condition, Item, MAX_TRANSACTION_ITEMS, Query, StoreError, Table, Write, keys, query_all,
};

/// The group sources each community should hold for a live user in `groups` (id, name).
pub fn expected_sources(
    groups: &[(String, String)],
    mappings: &[Mapping],
) -> BTreeMap<String, Vec<Source>> {
    let mut out: BTreeMap<String, Vec<Source>> = BTreeMap::new();
    for (group, name) in groups {
        for (community, role) in given_by(mappings, group, name) {
            out.entry(community).or_default().push(Source::Group {
                group: group.clone(),
                role,
            });
        }
    }
    out
}

/// `current` with its group sources replaced by `wanted`, keeping the order of what stays so
/// an unchanged membership compares equal.
pub fn with_group_sources(current: &[Source], wanted: &[Source]) -> Vec<Source> {
    let mut out: Vec<Source> = current
        .iter()
        .filter(|s| !matches!(s, Source::Group { .. }) || wanted.contains(s))
        .cloned()
        .collect();
    for s in wanted {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// What a user's partition holds: its groups and its memberships.
pub(crate) struct UserLinks {
    /// Ids of the groups whose reverse items are under the user.
    pub groups: Vec<String>,
    /// The memberships, each with its stored version.
    pub memberships: Vec<(Membership, u64)>,
}

/// Reads the groups and memberships of each user, in order: the first page of every user's
/// links together ([`Table::query_each`]), then the rest of any that has more.
pub(crate) async fn links_many<S: AsRef<str>>(
    table: &dyn Table,
    t: &TenantId,
    users: &[S],
) -> Result<Vec<UserLinks>, StoreError> {
    let queries: Vec<Query> = users
        .iter()
        .map(|u| Query::prefix(keys::user_links_pk(t, u.as_ref()), ""))
        .collect();
    let pages = table.query_each(&queries).await?;
    let mut out = Vec::with_capacity(users.len());
    for (page, query) in pages.into_iter().zip(queries) {
        let mut items = page.items;
        if page.cursor.is_some() {
            items = query_all(table, query).await?;
        }
        out.push(links_of(&items)?);
    }
    Ok(out)
}

fn links_of(items: &[Item]) -> Result<UserLinks, StoreError> {
    let mut out = UserLinks {
        groups: Vec::new(),
        memberships: Vec::new(),
    };
    for item in items {
        if let Some(g) = item.key.sk.strip_prefix(keys::USER_GROUP_PREFIX) {
            out.groups.push(g.to_owned());
        } else if item.key.sk.starts_with(keys::USER_COMMUNITY_PREFIX) {
            out.memberships
                .push(crate::community::decode_membership(item)?);
        }
    }
    Ok(out)
}

/// The display name of every group the users of `links` belong to, read in one batch; `None`
/// for a group that no longer exists.
pub(crate) async fn group_names(
    table: &dyn Table,
    t: &TenantId,
    links: &[UserLinks],
) -> Result<HashMap<String, Option<String>>, StoreError> {
    let mut groups: Vec<&String> = links.iter().flat_map(|l| &l.groups).collect();
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<_> = groups.iter().map(|g| keys::group(t, g)).collect();
    let items = table.get_many(&keys).await?;
    let names = items.iter().map(|i| i.as_ref().map(display_name));
    Ok(groups.into_iter().cloned().zip(names).collect())
}

/// The `displayName` of a stored group (empty when it has none).
pub(crate) fn display_name(item: &Item) -> String {
    serde_json::from_slice::<Value>(&item.body)
        .ok()
        .and_then(|v| v.get("displayName")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The writes that bring one user's derived state in line with the directory: member items
/// of groups it may not be in, and its memberships' group sources; and the communities where
/// those writes create a membership.
pub(crate) fn plan_user(
    memberships: &Memberships,
    t: &TenantId,
    user: &str,
    live: bool,
    links: UserLinks,
    names: &HashMap<String, Option<String>>,
    mappings: &[Mapping],
) -> (Vec<Write>, Vec<String>) {
    let (mut writes, mut created) = (Vec::new(), Vec::new());
    let mut groups = Vec::new();
    for group in links.groups {
        match names.get(&group) {
            Some(Some(name)) if live => groups.push((group, name.clone())),
            _ => {
                for key in [
                    keys::group_member(t, &group, user),
                    keys::user_group(t, user, &group),
                ] {
                    writes.push(Write::Delete {
                        key,
                        condition: Condition::Always,
                    });
                }
            }
        }
    }
    let mut expected = expected_sources(&groups, mappings);
    let communities: BTreeSet<String> = links
        .memberships
        .iter()
        .map(|(m, _)| m.community.clone())
        .chain(expected.keys().cloned())
        .collect();
    let mut current: BTreeMap<String, (Membership, u64)> = links
        .memberships
        .into_iter()
        .map(|(m, v)| (m.community.clone(), (m, v)))
        .collect();
    for community in communities {
        let wanted = expected.remove(&community).unwrap_or_default();
        let now = current.remove(&community);
        let planned = memberships.plan(t, user, &community, now, |sources| {
            *sources = with_group_sources(sources, &wanted);
        });
        if let Some((w, change)) = planned {
            if change == Change::Created {
                created.push(community);
            }
            writes.extend(w);
        }
    }
    (writes, created)
}

/// Commits derived writes while the intent on `target` keeps `nonce`, ending it with the last
/// transaction. Writes come in pairs that must stay together (an item and its reverse), so
/// each transaction carries an even number of them.
pub(crate) async fn commit_held(
    table: &dyn Table,
    t: &TenantId,
    target: &Target,
    nonce: u64,
    writes: Vec<Write>,
) -> Result<(), StoreError> {
    let per = (MAX_TRANSACTION_ITEMS - 1) & !1;
    let mut chunks: Vec<Vec<Write>> = Vec::new();
    let mut writes = writes.into_iter().peekable();
    while writes.peek().is_some() {
        chunks.push(writes.by_ref().take(per).collect());
    }
    let last = chunks.pop().unwrap_or_default();
    for mut chunk in chunks {
        chunk.push(Intents::hold(t, target, nonce));
        table.transact(chunk).await?;
    }
    let mut last = last;
    last.push(Intents::consume(t, target, nonce));
    table.transact(last).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::{GroupSelector, Role};

    fn mapping(group: GroupSelector, community: &str, role: Role) -> Mapping {
        Mapping {
            group,
            community: community.into(),
            role,
        }
    }

    #[test]
    fn each_group_gives_its_highest_mapped_role_per_community() {
        let mappings = [
            mapping(GroupSelector::Id("g1".into()), "c1", Role::Member),
            mapping(
                GroupSelector::DisplayName("ENG".into()),
                "c1",
                Role::Administrator,
            ),
            mapping(GroupSelector::Id("g2".into()), "c2", Role::Contributor),
        ];
        let groups = [
            ("g1".to_owned(), "eng".to_owned()),
            ("g3".into(), "ops".into()),
        ];
        let expected = expected_sources(&groups, &mappings);
        assert_eq!(expected.len(), 1);
        assert_eq!(
            expected["c1"],
            [Source::Group {
                group: "g1".into(),
                role: Role::Administrator
            }]
        );
    }

    #[test]
    fn replacing_group_sources_keeps_file_sources_and_the_order_of_what_stays() {
        let g = |id: &str| Source::Group {
            group: id.into(),
            role: Role::Member,
        };
        let file = Source::File {
            role: Role::Contributor,
        };
        let current = [g("b"), file.clone(), g("a")];
        assert_eq!(with_group_sources(&current, &[g("a"), g("b")]), current);
        assert_eq!(with_group_sources(&current, &[g("c")]), [file, g("c")]);
    }
}
