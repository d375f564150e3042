//! A model-based property test of the directory core: random sequences of user, group,
//! member and mapping commands go through the public Router and through a plain in-memory
//! model; afterwards SCIM shows what the model says and `muster check` finds no drift.

use std::collections::{BTreeMap, BTreeSet};

use http::{Method, StatusCode};
use muster::community::{GroupSelector, Mapping, Mappings, Role};
use muster::directory::check::Checker;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::directory::{members_of, memberships_of};
use crate::helpers::{GROUP, USER, patch};
use crate::import_harness::ImportApp;

const USERS: usize = 5;
const GROUPS: usize = 3;
const NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
const COMMUNITIES: [&str; 2] = ["Engineering", "Sales"];

#[derive(Debug, Clone)]
enum Cmd {
    CreateUser(usize),
    DeleteUser(usize),
    SetActive(usize, bool),
    CreateGroup(usize, usize),
    DeleteGroup(usize),
    RenameGroup(usize, usize),
    Add(usize, Vec<usize>),
    Remove(usize, usize),
    Replace(usize, Vec<usize>),
    MapById(usize, usize, Option<Role>),
    MapByName(usize, usize, Option<Role>),
    /// The tenant's synchronization switch.
    Sync(bool),
}

fn role() -> impl Strategy<Value = Option<Role>> {
    prop_oneof![
        Just(None),
        Just(Some(Role::Member)),
        Just(Some(Role::Contributor)),
        Just(Some(Role::Administrator)),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let (u, g, n, c) = (0..USERS, 0..GROUPS, 0..NAMES.len(), 0..COMMUNITIES.len());
    let some_users = proptest::collection::vec(0..USERS, 0..4);
    prop_oneof![
        3 => u.clone().prop_map(Cmd::CreateUser),
        1 => u.clone().prop_map(Cmd::DeleteUser),
        1 => (u.clone(), any::<bool>()).prop_map(|(u, a)| Cmd::SetActive(u, a)),
        2 => (g.clone(), n.clone()).prop_map(|(g, n)| Cmd::CreateGroup(g, n)),
        1 => g.clone().prop_map(Cmd::DeleteGroup),
        1 => (g.clone(), n.clone()).prop_map(|(g, n)| Cmd::RenameGroup(g, n)),
        3 => (g.clone(), some_users.clone()).prop_map(|(g, us)| Cmd::Add(g, us)),
        2 => (g.clone(), u).prop_map(|(g, u)| Cmd::Remove(g, u)),
        1 => (g.clone(), some_users).prop_map(|(g, us)| Cmd::Replace(g, us)),
        2 => (g, c.clone(), role()).prop_map(|(g, c, r)| Cmd::MapById(g, c, r)),
        2 => (n, c, role()).prop_map(|(n, c, r)| Cmd::MapByName(n, c, r)),
        1 => any::<bool>().prop_map(Cmd::Sync),
    ]
}

#[derive(Default)]
struct UserModel {
    id: Option<String>,
    live: bool,
    active: bool,
}

#[derive(Default)]
struct Model {
    users: Vec<UserModel>,
    groups: Vec<Option<(String, usize, BTreeSet<usize>)>>,
    by_id: BTreeMap<(usize, usize), Role>,
    by_name: BTreeMap<(usize, usize), Role>,
    communities: Vec<String>,
    /// The synchronization switch is off: groups grant nothing.
    sync_off: bool,
}

impl Model {
    fn live(&self, u: usize) -> Option<&str> {
        let user = &self.users[u];
        user.live.then(|| user.id.as_deref().unwrap())
    }

    fn name_taken(&self, n: usize) -> bool {
        self.groups.iter().flatten().any(|(_, name, _)| *name == n)
    }

    /// The (community id, role, status) a user should show.
    fn access(&self, u: usize) -> Vec<(String, String, String)> {
        if self.sync_off {
            return Vec::new();
        }
        let mut roles: BTreeMap<usize, Role> = BTreeMap::new();
        for (slot, group) in self.groups.iter().enumerate() {
            let Some((_, name, members)) = group else {
                continue;
            };
            if !members.contains(&u) {
                continue;
            }
            for c in 0..COMMUNITIES.len() {
                let given = [self.by_id.get(&(slot, c)), self.by_name.get(&(*name, c))];
                for r in given.into_iter().flatten() {
                    let best = roles.entry(c).or_insert(*r);
                    *best = (*best).max(*r);
                }
            }
        }
        let status = if self.users[u].active {
            "invited"
        } else {
            "suspended"
        };
        let mut out: Vec<_> = roles
            .into_iter()
            .map(|(c, r)| {
                (
                    self.communities[c].clone(),
                    r.to_string(),
                    status.to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    }
}

fn members(model: &Model, users: &[usize]) -> Value {
    let ids: Vec<Value> = users
        .iter()
        .filter_map(|u| model.users[*u].id.clone())
        .map(|id| json!({"value": id}))
        .collect();
    Value::Array(ids)
}

async fn apply(h: &ImportApp, m: &mut Model, cmd: &Cmd) {
    let group_path = |m: &Model, g: usize| {
        m.groups[g]
            .as_ref()
            .map(|(id, _, _)| format!("/Groups/{id}"))
    };
    match cmd {
        Cmd::CreateUser(u) => {
            let body = json!({"schemas": [USER], "userName": format!("user{u}@acme.test"), "active": true});
            let a = h.app.post("/Users", body).await;
            let want = if m.users[*u].live { 409 } else { 201 };
            assert_eq!(a.status.as_u16(), want, "{cmd:?}: {}", a.body);
            if want == 201 {
                let id = a.body["id"].as_str().unwrap().to_owned();
                if let Some(old) = &m.users[*u].id {
                    assert_eq!(&id, old, "a re-POST restores the same id");
                }
                m.users[*u] = UserModel {
                    id: Some(id),
                    live: true,
                    active: true,
                };
            }
        }
        Cmd::DeleteUser(u) => {
            let Some(id) = m.users[*u].id.clone() else {
                return;
            };
            let a = h
                .app
                .call(Method::DELETE, &format!("/Users/{id}"), None)
                .await;
            let want = if m.users[*u].live { 204 } else { 404 };
            assert_eq!(a.status.as_u16(), want, "{cmd:?}");
            m.users[*u].live = false;
            for (_, _, members) in m.groups.iter_mut().flatten() {
                members.remove(u);
            }
        }
        Cmd::SetActive(u, on) => {
            let Some(id) = m.live(*u).map(str::to_owned) else {
                return;
            };
            let body = patch(json!([{"op": "replace", "path": "active", "value": on}]));
            let a = h
                .app
                .call(Method::PATCH, &format!("/Users/{id}"), Some(body))
                .await;
            assert_eq!(a.status, StatusCode::OK, "{cmd:?}");
            m.users[*u].active = *on;
        }
        Cmd::CreateGroup(g, n) => {
            if m.groups[*g].is_some() {
                return;
            }
            let body = json!({"schemas": [GROUP], "displayName": NAMES[*n]});
            let a = h.app.post("/Groups", body).await;
            let want = if m.name_taken(*n) { 409 } else { 201 };
            assert_eq!(a.status.as_u16(), want, "{cmd:?}: {}", a.body);
            if want == 201 {
                let id = a.body["id"].as_str().unwrap().to_owned();
                m.groups[*g] = Some((id, *n, BTreeSet::new()));
            }
        }
        Cmd::DeleteGroup(g) => {
            let Some(path) = group_path(m, *g) else {
                return;
            };
            let a = h.app.call(Method::DELETE, &path, None).await;
            assert_eq!(a.status, StatusCode::NO_CONTENT, "{cmd:?}");
            m.groups[*g] = None;
            m.by_id.retain(|(slot, _), _| slot != g);
        }
        Cmd::RenameGroup(g, n) => {
            let Some(path) = group_path(m, *g) else {
                return;
            };
            let same = m.groups[*g].as_ref().is_some_and(|(_, name, _)| name == n);
            let body = patch(json!([{"op": "replace", "path": "displayName", "value": NAMES[*n]}]));
            let a = h.app.call(Method::PATCH, &path, Some(body)).await;
            let want = if !same && m.name_taken(*n) { 409 } else { 204 };
            assert_eq!(a.status.as_u16(), want, "{cmd:?}: {}", a.body);
            if want == 204 {
                m.groups[*g].as_mut().unwrap().1 = *n;
            }
        }
        Cmd::Add(g, users) | Cmd::Replace(g, users) => {
            let Some(path) = group_path(m, *g) else {
                return;
            };
            let users: Vec<usize> = users
                .iter()
                .copied()
                .filter(|u| m.users[*u].id.is_some())
                .collect();
            let op = if matches!(cmd, Cmd::Add(..)) {
                "add"
            } else {
                "replace"
            };
            let body = patch(json!([{"op": op, "path": "members", "value": members(m, &users)}]));
            let a = h.app.call(Method::PATCH, &path, Some(body)).await;
            let all_live = users.iter().all(|u| m.users[*u].live);
            assert_eq!(
                a.status.as_u16(),
                if all_live { 204 } else { 400 },
                "{cmd:?}: {}",
                a.body
            );
            if all_live {
                let set = &mut m.groups[*g].as_mut().unwrap().2;
                if op == "replace" {
                    set.clear();
                }
                set.extend(users);
            }
        }
        Cmd::Remove(g, u) => {
            let (Some(path), Some(id)) = (group_path(m, *g), m.users[*u].id.clone()) else {
                return;
            };
            let body =
                patch(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]));
            let a = h.app.call(Method::PATCH, &path, Some(body)).await;
            assert_eq!(a.status, StatusCode::NO_CONTENT, "{cmd:?}");
            m.groups[*g].as_mut().unwrap().2.remove(u);
        }
        Cmd::MapById(g, c, r) => {
            let Some((id, _, _)) = m.groups[*g].clone() else {
                return;
            };
            map(h, m, GroupSelector::Id(id), *c, *r).await;
            set(&mut m.by_id, (*g, *c), *r);
        }
        Cmd::MapByName(n, c, r) => {
            map(h, m, GroupSelector::DisplayName(NAMES[*n].into()), *c, *r).await;
            set(&mut m.by_name, (*n, *c), *r);
        }
        Cmd::Sync(on) => {
            let admin = muster::admin::Admin::new(h.app.table.clone());
            admin.set_sync(&h.tenant, *on).await.unwrap();
            m.sync_off = !*on;
        }
    }
}

fn set(map: &mut BTreeMap<(usize, usize), Role>, key: (usize, usize), role: Option<Role>) {
    match role {
        Some(r) => map.insert(key, r),
        None => map.remove(&key),
    };
}

async fn map(h: &ImportApp, m: &Model, group: GroupSelector, c: usize, role: Option<Role>) {
    let mappings = Mappings::new(h.app.table.clone());
    let community = m.communities[c].clone();
    match role {
        Some(role) => mappings
            .set(
                &h.tenant,
                &Mapping {
                    group: group.clone(),
                    community,
                    role,
                },
            )
            .await
            .unwrap(),
        None => {
            mappings
                .remove(&h.tenant, &group, &community)
                .await
                .unwrap();
        }
    }
    let admin = muster::admin::Admin::new(h.app.table.clone());
    if let GroupSelector::Id(g) = &group {
        admin.rederive(&h.tenant, g).await.unwrap();
    }
    for (id, _, _) in m.groups.iter().flatten() {
        admin.rederive(&h.tenant, id).await.unwrap();
    }
}

async fn run(cmds: Vec<Cmd>) {
    let h = ImportApp::new().await;
    let mut m = Model {
        users: (0..USERS).map(|_| UserModel::default()).collect(),
        groups: vec![None; GROUPS],
        ..Model::default()
    };
    for name in COMMUNITIES {
        m.communities.push(h.community_id(name).await);
    }
    for cmd in &cmds {
        apply(&h, &mut m, cmd).await;
    }
    for u in 0..USERS {
        let Some(id) = m.live(u) else { continue };
        let mut seen = memberships_of(&h, id).await;
        seen.sort();
        assert_eq!(seen, m.access(u), "user{u} after {cmds:#?}");
    }
    for (id, _, members) in m.groups.iter().flatten() {
        let mut want: Vec<String> = members
            .iter()
            .map(|u| m.users[*u].id.clone().unwrap())
            .collect();
        want.sort();
        let mut seen = members_of(&h, id).await;
        seen.sort();
        assert_eq!(seen, want, "group {id}");
    }
    // The model's live users and the harness's acting administrator.
    let live = (0..USERS).filter(|u| m.live(*u).is_some()).count() + 1;
    let users = h.app.get("/Users?count=0").await.body;
    assert_eq!(users["totalResults"], json!(live), "users counted");
    let groups = m.groups.iter().flatten().count();
    let counted = h.app.get("/Groups?count=0").await.body;
    assert_eq!(counted["totalResults"], json!(groups), "groups counted");
    let report = Checker::new(h.app.table.clone())
        .check(&h.tenant)
        .await
        .unwrap();
    assert_eq!(
        report.drift_total(),
        0,
        "{:#?} after {cmds:#?}",
        report.drift
    );
    assert_eq!(report.pending_intents, 0, "every intent was settled inline");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_directory_commands_leaves_access_equal_to_the_model(
        cmds in proptest::collection::vec(cmd(), 1..40)
    ) {
        tokio::runtime::Runtime::new().unwrap().block_on(run(cmds));
    }
}
