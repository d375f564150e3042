//! The maintained counters (see [`crate::directory::Counted`]) must equal what they count,
//! shard by shard: the live users and the groups whose ids fall in each shard.
//!
//! The counters are read before and after the records; a shard whose counter moved in between
//! had a create or delete under way and is not judged (its count is not drift).

use std::collections::HashSet;

use futures_util::future::try_join;

use super::rules::{Findings, State};
use crate::ids::TenantId;
use crate::store::{StoreError, Table, Write, counter_values, keys};

/// The counts the counters of one tenant hold, shard by shard: users, then groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counts {
    users: Vec<u64>,
    groups: Vec<u64>,
}

impl Counts {
    /// Reads every counter of `t` (one batch per collection).
    pub(super) async fn read(table: &dyn Table, t: &TenantId) -> Result<Self, StoreError> {
        let (user_counters, group_counters) = (keys::user_counters(t), keys::group_counters(t));
        let (users, groups) = try_join(
            counter_values(table, &user_counters),
            counter_values(table, &group_counters),
        )
        .await?;
        Ok(Self { users, groups })
    }
}

/// Compares the counters read `before` and `after` the records with the records `state`
/// holds, noting drift and the adds that repair it.
pub(super) fn counters(
    state: &State,
    t: &TenantId,
    before: &Counts,
    after: &Counts,
    f: &mut Findings,
) {
    let groups: HashSet<String> = state.groups.keys().cloned().collect();
    let collections = [
        (
            "user_count",
            keys::USERS_COUNTED,
            &state.live,
            &before.users,
            &after.users,
        ),
        (
            "group_count",
            keys::GROUPS_COUNTED,
            &groups,
            &before.groups,
            &after.groups,
        ),
    ];
    for (kind, counted, ids, before, after) in collections {
        let mut actual = vec![0u64; keys::SHARDS as usize];
        for id in ids {
            actual[keys::shard(id) as usize] += 1;
        }
        for (s, held) in before.iter().enumerate() {
            if after[s] != *held {
                f.report.pending += 1;
                continue;
            }
            if actual[s] != *held {
                let key = keys::counter_at(t, counted, s as u32);
                let ex = format!(
                    "counter={counted} shard={s:02} holds={held} counts={}",
                    actual[s]
                );
                let delta = actual[s].cast_signed() - held.cast_signed();
                f.drift(kind, ex);
                f.adds.push(Write::Add { key, delta });
            }
        }
    }
}
