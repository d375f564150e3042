//! Durable intents: the record, written in the same transaction as a primary change, that a
//! user's or a group's derived state must be recomputed.
//!
//! An intent is one item per target whose version is a fresh random nonce on every write. The
//! reconciler reads the nonce before it reads any state, and commits its derived writes only
//! while the nonce is unchanged ([`Intents::hold`] in every transaction, [`Intents::consume`]
//! in the last). A primary change made meanwhile writes a new nonce, so the reconciler's
//! commit fails and it starts over from current state: no change is ever left underived.

use std::sync::Arc;

use crate::ids::{TenantId, random_bytes};
use crate::store::{Condition, Item, Key, Query, StoreError, Table, Write, keys, query_all};

/// What an intent is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A user: recompute its group-derived memberships (and drop its group memberships when it
    /// is no longer live).
    User(String),
    /// A group: look at every member again (after a mapping change, a rename or a delete).
    Group(String),
}

impl Target {
    /// The intent item's key.
    pub fn key(&self, t: &TenantId) -> Key {
        match self {
            Target::User(u) => keys::user_intent(t, u),
            Target::Group(g) => keys::group_intent(t, g),
        }
    }

    fn from_sort_key(sk: &str) -> Option<Self> {
        if let Some(u) = sk.strip_prefix(keys::USER_INTENT_PREFIX) {
            Some(Target::User(u.to_owned()))
        } else {
            sk.strip_prefix(keys::GROUP_INTENT_PREFIX)
                .map(|g| Target::Group(g.to_owned()))
        }
    }
}

/// A pending intent: its target and the nonce it was last written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// What must be recomputed.
    pub target: Target,
    /// The version to hold while recomputing.
    pub nonce: u64,
}

fn nonce() -> u64 {
    // 53 bits: exact in every JSON number and DynamoDB attribute; never 0.
    (u64::from_le_bytes(random_bytes::<8>()) >> 11) | 1
}

/// Intent storage over the Table port.
#[derive(Clone)]
pub struct Intents {
    table: Arc<dyn Table>,
}

impl Intents {
    /// Intents kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The write that records (or renews) an intent: goes in the primary change's transaction.
    pub fn mark(t: &TenantId, target: &Target) -> Write {
        Write::Put {
            item: Item::new(target.key(t), nonce(), b"{}".to_vec()),
            condition: Condition::Always,
        }
    }

    /// A check that the intent still has `nonce`: goes in each derived write's transaction.
    pub fn hold(t: &TenantId, target: &Target, nonce: u64) -> Write {
        Write::Check {
            key: target.key(t),
            condition: Condition::VersionIs(nonce),
        }
    }

    /// The write that ends the intent if it still has `nonce`: goes in the last derived write.
    pub fn consume(t: &TenantId, target: &Target, nonce: u64) -> Write {
        Write::Delete {
            key: target.key(t),
            condition: Condition::VersionIs(nonce),
        }
    }

    /// Records intents outside any other change (repairs, fan-out of a group).
    pub async fn mark_all(&self, t: &TenantId, targets: &[Target]) -> Result<(), StoreError> {
        if targets.is_empty() {
            return Ok(());
        }
        let writes = targets.iter().map(|x| Self::mark(t, x)).collect();
        self.table.batch_write(writes).await
    }

    /// The nonce of the intent on `target`, if one is pending.
    pub async fn nonce(&self, t: &TenantId, target: &Target) -> Result<Option<u64>, StoreError> {
        Ok(self.table.get(&target.key(t)).await?.map(|i| i.version))
    }

    /// Every pending intent of a tenant, shard by shard.
    pub async fn pending(&self, t: &TenantId) -> Result<Vec<Pending>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..keys::INTENT_SHARDS {
            let query = Query::prefix(keys::intents_pk(t, shard), "");
            for item in query_all(&*self.table, query).await? {
                if let Some(target) = Target::from_sort_key(&item.key.sk) {
                    out.push(Pending {
                        target,
                        nonce: item.version,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_carries_a_new_nonce() {
        let t = TenantId::parse("acme").unwrap();
        let target = Target::User("u1".into());
        let versions: std::collections::HashSet<u64> = (0..100)
            .map(|_| match Intents::mark(&t, &target) {
                Write::Put { item, .. } => item.version,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(versions.len(), 100);
        assert!(!versions.contains(&0));
    }

    #[test]
    fn intent_keys_read_back_as_their_target() {
        let t = TenantId::parse("acme").unwrap();
        for target in [Target::User("u1".into()), Target::Group("g#2".into())] {
            assert_eq!(Target::from_sort_key(&target.key(&t).sk), Some(target));
        }
    }
}
