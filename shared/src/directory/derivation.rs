//! Settling users' intents in batches: the reads of a batch of users are made together (their
//! records in one batch, their links at once, their groups' names in one batch) and their
//! writes packed into shared transactions, each user's writes with the end of its own intent.
//! A user whose packed transaction is refused (its intent was renewed meanwhile) is settled
//! again on its own.

use std::sync::Arc;

use super::derive::{commit_held, group_names, links_many, plan_user};
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
            let keys: Vec<_> = batch
                .iter()
                .map(|u| Target::User(u.clone()).key(t))
                .collect();
            let nonces = self.table.get_many(&keys).await?;
            let (mappings, invite) = self.mappings.in_force_with_invites(t).await?;
            let held: Vec<(&str, u64)> = batch
                .iter()
                .zip(nonces)
                .filter_map(|(user, item)| Some((user.as_str(), item?.version)))
                .collect();
            let plans = self.plan(t, &held, (&mappings, invite)).await?;
            changed += self.commit(t, plans).await?;
        }
        Ok(changed)
    }

    /// Plans every user of `held` (its id and the nonce read first) from reads made together:
    /// their records in one batch, their links at once, their groups' names in one batch.
    /// Marks the invitations the plans make due before answering them.
    async fn plan(
        &self,
        t: &TenantId,
        held: &[(&str, u64)],
        (mappings, invite): Policy<'_>,
    ) -> Result<Vec<Planned>, StoreError> {
        let user_keys: Vec<_> = held.iter().map(|(u, _)| keys::user(t, u)).collect();
        let live = self.table.get_many(&user_keys).await?;
        let ids: Vec<&str> = held.iter().map(|(u, _)| *u).collect();
        let all_links = links_many(&*self.table, t, &ids).await?;
        let names = group_names(&*self.table, t, &all_links).await?;
        let (mut due, mut plans) = (Vec::new(), Vec::new());
        for ((&(user, nonce), live), user_links) in held.iter().zip(live).zip(all_links) {
            let (writes, created) = plan_user(
                &self.memberships,
                t,
                user,
                live.is_some(),
                user_links,
                &names,
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
        Ok(plans)
    }

    /// Commits the plans: several users to a transaction where they fit, a user too large
    /// for one through [`commit_held`]; a refused transaction sends its users to
    /// [`settle`](Self::settle) one by one. Answers how many users had anything written.
    async fn commit(&self, t: &TenantId, plans: Vec<Planned>) -> Result<u64, StoreError> {
        let mut changed = 0;
        let mut packed = Transactions::default();
        for plan in plans {
            let wrote = !plan.writes.is_empty();
            if plan.writes.len() < MAX_TRANSACTION_ITEMS {
                let mut set = plan.writes;
                set.push(Intents::consume(t, &plan.target, plan.nonce));
                packed.push(set, (plan.target, wrote));
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
                Ok(()) => changed += users.iter().filter(|(_, wrote)| *wrote).count() as u64,
                Err(StoreError::ConditionFailed { .. }) => {
                    for (target, _) in users {
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
        let Target::User(user) = target else {
            return Ok(false);
        };
        for _ in 0..ATTEMPTS {
            let Some(item) = self.table.get(&target.key(t)).await? else {
                return Ok(false);
            };
            let (mappings, invite) = self.mappings.in_force_with_invites(t).await?;
            let held = [(user.as_str(), item.version)];
            let plan = self
                .plan(t, &held, (&mappings, invite))
                .await?
                .pop()
                .expect("one user planned");
            let wrote = !plan.writes.is_empty();
            match commit_held(&*self.table, t, target, plan.nonce, plan.writes).await {
                Err(StoreError::ConditionFailed { .. }) => continue,
                done => return done.map(|()| wrote),
            }
        }
        Err(StoreError::Conflict)
    }
}
