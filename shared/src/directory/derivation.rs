//! Settling users' intents in batches: the reads of a batch of users are made together (their
//! records in one batch, their links at once, their groups' names in one batch) and their
//! writes packed into shared transactions, each user's writes with the end of its own intent.
//! A user whose packed transaction is refused (its intent was renewed meanwhile) is settled
//! again on its own.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::try_join_all;

use super::derive::{commit_held, group_names, links, plan_user};
use super::intent::{Intents, Target};
use crate::community::{InvitationsDue, Mapping, Mappings, Memberships};
use crate::ids::TenantId;
use crate::store::{MAX_TRANSACTION_ITEMS, StoreError, Table, Transactions, Write, keys};

/// How many times a user is recomputed when a primary change lands meanwhile.
const ATTEMPTS: usize = 8;

/// Users recomputed at once (their intents and the mappings read once for all).
const BATCH: usize = 64;

/// The mappings in force and whether new members are invited.
type Policy<'a> = (&'a [Mapping], bool);

/// Recomputes users' derived state for their pending intents.
#[derive(Clone)]
pub struct UserDerivation {
    table: Arc<dyn Table>,
    memberships: Memberships,
    mappings: Mappings,
    due: InvitationsDue,
}

/// One user's planned writes, ending its intent.
struct Planned {
    target: Target,
    nonce: u64,
    writes: Vec<Write>,
}

impl UserDerivation {
    /// Derivation over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            memberships: Memberships::new(table.clone()),
            mappings: Mappings::new(table.clone()),
            due: InvitationsDue::new(table.clone()),
            table,
        }
    }

    /// Brings each of `users` that has a pending intent in line with the directory, ending
    /// its intent; answers how many had anything written. A user whose intent keeps being
    /// renewed by primary changes is left pending for a later pass.
    ///
    /// Order matters and is kept: each user's intent nonce is read before the mappings, the
    /// user, its groups and its memberships, so a change that lands after any of those reads
    /// renews the nonce and fails the commit.
    pub async fn reconcile(&self, t: &TenantId, users: &[String]) -> Result<u64, StoreError> {
        let mut changed = 0;
        for batch in users.chunks(BATCH) {
            let targets: Vec<Target> = batch.iter().map(|u| Target::User(u.clone())).collect();
            let keys: Vec<_> = targets.iter().map(|x| x.key(t)).collect();
            let nonces = self.table.get_many(&keys).await?;
            let (mappings, invite) = self.mappings.in_force_with_invites(t).await?;
            let held: Vec<(Target, u64)> = targets
                .into_iter()
                .zip(nonces)
                .filter_map(|(target, item)| Some((target, item?.version)))
                .collect();
            changed += self.batch(t, held, (&mappings, invite)).await?;
        }
        Ok(changed)
    }

    /// Plans every user of `held` from reads made together, then commits the plans packed;
    /// a refused transaction sends its users to [`settle`](Self::settle) one by one.
    async fn batch(
        &self,
        t: &TenantId,
        held: Vec<(Target, u64)>,
        policy: Policy<'_>,
    ) -> Result<u64, StoreError> {
        let (mappings, invite) = policy;
        let users: Vec<(&str, u64)> = held
            .iter()
            .filter_map(|(x, nonce)| match x {
                Target::User(u) => Some((u.as_str(), *nonce)),
                Target::Group(_) => None,
            })
            .collect();
        let user_keys: Vec<_> = users.iter().map(|(u, _)| keys::user(t, u)).collect();
        let live = self.table.get_many(&user_keys).await?;
        let all_links = try_join_all(users.iter().map(|(u, _)| links(&*self.table, t, u))).await?;
        let mut groups: Vec<String> = all_links.iter().flat_map(|l| l.groups.clone()).collect();
        groups.sort();
        groups.dedup();
        let found = group_names(&*self.table, t, &groups).await?;
        let names: HashMap<String, Option<String>> = groups.into_iter().zip(found).collect();
        let (mut due, mut plans) = (Vec::new(), Vec::new());
        for (((user, nonce), live), user_links) in users.into_iter().zip(live).zip(all_links) {
            let named = user_links.groups.iter().map(|g| names[g].clone()).collect();
            let (writes, created) = plan_user(
                &self.memberships,
                t,
                user,
                live.is_some(),
                user_links,
                named,
                mappings,
            );
            if invite {
                due.extend(created.into_iter().map(|c| (c, user.to_owned())));
            }
            plans.push(Planned {
                target: Target::User(user.to_owned()),
                nonce,
                writes,
            });
        }
        // The marks go first: a crash before the memberships land leaves marks the drain
        // drops once stale, never a new member who is not invited.
        if !due.is_empty() {
            self.due.mark(t, &due).await?;
        }
        self.commit(t, plans).await
    }

    /// Commits the plans: several users to a transaction where they fit, a user too large
    /// for one through [`commit_held`]. Answers how many users had anything written.
    async fn commit(&self, t: &TenantId, plans: Vec<Planned>) -> Result<u64, StoreError> {
        let mut changed = 0;
        let mut packed = Transactions::default();
        for plan in plans {
            let wrote = !plan.writes.is_empty();
            if plan.writes.len() < MAX_TRANSACTION_ITEMS {
                let mut set = plan.writes;
                set.push(Intents::consume(t, &plan.target, plan.nonce));
                packed.push(set, (plan.target, plan.nonce, wrote));
                continue;
            }
            match commit_held(&*self.table, t, &plan.target, plan.nonce, plan.writes).await {
                Ok(()) => changed += u64::from(wrote),
                Err(StoreError::ConditionFailed { .. }) => {
                    changed += u64::from(self.settle(t, &plan.target).await?);
                }
                Err(e) => return Err(e),
            }
        }
        for (writes, users) in packed.into_groups() {
            match self.table.transact(writes).await {
                Ok(()) => changed += users.iter().filter(|(_, _, wrote)| *wrote).count() as u64,
                Err(StoreError::ConditionFailed { .. }) => {
                    for (target, _, _) in users {
                        changed += u64::from(self.settle(t, &target).await?);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(changed)
    }

    /// One user on its own, after its batch's transaction was refused: its nonce read again,
    /// then (in that order) the mappings, its record and its links, until a commit holds.
    async fn settle(&self, t: &TenantId, target: &Target) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(item) = self.table.get(&target.key(t)).await? else {
                return Ok(false);
            };
            let (mappings, invite) = self.mappings.in_force_with_invites(t).await?;
            match self
                .attempt(t, target, item.version, (&mappings, invite))
                .await
            {
                Err(StoreError::ConditionFailed { .. }) => continue,
                done => return done,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn attempt(
        &self,
        t: &TenantId,
        target: &Target,
        nonce: u64,
        (mappings, invite): Policy<'_>,
    ) -> Result<bool, StoreError> {
        let Target::User(user) = target else {
            return Ok(false);
        };
        let live = self.table.get(&keys::user(t, user)).await?.is_some();
        let links = links(&*self.table, t, user).await?;
        let names = group_names(&*self.table, t, &links.groups).await?;
        let (writes, created) = plan_user(&self.memberships, t, user, live, links, names, mappings);
        // The mark goes first, as in a batch.
        if invite && !created.is_empty() {
            let due: Vec<_> = created.into_iter().map(|c| (c, user.clone())).collect();
            self.due.mark(t, &due).await?;
        }
        let wrote = !writes.is_empty();
        commit_held(&*self.table, t, target, nonce, writes).await?;
        Ok(wrote)
    }
}
