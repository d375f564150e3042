//! What a job records so that a run cut short (a killed worker, a failed write, a redelivered
//! message) and run again ends with the state and the report of one clean run: each chunk's
//! forecast counts before its first write, and a MIRROR's deletions frozen before syncing.

use serde::{Deserialize, Serialize};

use super::report::{JobData, Tally};
use crate::ids::TenantId;
use crate::store::{Condition, Item, StoreError, Write, keys};

/// Deletion pairs per stored item (about 80 kB, well under DynamoDB's 400 kB item limit).
const PAIRS_PER_ITEM: usize = 1000;

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt job ledger: {e}"))
}

/// The deletions a MIRROR decided on, kept for its later runs.
#[derive(Debug)]
pub struct FrozenPlan {
    /// (user id, community id) memberships to delete, in order.
    pub deletions: Vec<(String, String)>,
    /// Members of the communities in scope before the first write.
    pub members_in_scope: u64,
}

#[derive(Serialize, Deserialize)]
struct PlanHead {
    items: usize,
    members_in_scope: u64,
}

/// One chunk's entry in its job's ledger.
pub struct ChunkLedger<'a> {
    /// Where the job's data lives.
    pub data: &'a JobData,
    /// The job's tenant.
    pub tenant: &'a TenantId,
    /// The job.
    pub job: u64,
    /// The chunk's name (`R…` rows, `D…` deletions).
    pub name: &'a str,
}

impl<'a> ChunkLedger<'a> {
    /// The entry of chunk `name` of job `job`.
    pub fn new(data: &'a JobData, tenant: &'a TenantId, job: u64, name: &'a str) -> Self {
        Self {
            data,
            tenant,
            job,
            name,
        }
    }

    /// Records `planned` as the chunk's counts, computed from the state before its first
    /// write, unless an earlier attempt recorded its own; answers the recorded counts. The
    /// first attempt's forecast wins, so a chunk applied twice is counted as the first saw it.
    pub async fn forecast(&self, planned: Tally) -> Result<Tally, StoreError> {
        let key = keys::job_forecast(self.tenant, self.job, self.name);
        let body = serde_json::to_vec(&planned).expect("json");
        match self
            .data
            .table
            .put(Item::new(key.clone(), 1, body), Condition::NotExists)
            .await
        {
            Ok(()) => Ok(planned),
            Err(StoreError::ConditionFailed { .. }) => match self.data.table.get(&key).await? {
                Some(item) => serde_json::from_slice(&item.body).map_err(corrupt),
                None => Err(StoreError::Conflict),
            },
            Err(e) => Err(e),
        }
    }
}

impl JobData {
    /// Stores a job's plan (a MIRROR's deletions) before its first write; its head goes last, so a plan cut short
    /// is not found and is made again.
    pub async fn freeze_plan(
        &self,
        t: &TenantId,
        job: u64,
        deletions: &[(String, String)],
        members_in_scope: u64,
    ) -> Result<(), StoreError> {
        let chunks: Vec<_> = deletions.chunks(PAIRS_PER_ITEM).collect();
        let writes = chunks
            .iter()
            .enumerate()
            .map(|(i, pairs)| Write::Put {
                item: Item::new(
                    keys::job_deletions(t, job, i),
                    1,
                    serde_json::to_vec(pairs).expect("json"),
                ),
                condition: Condition::Always,
            })
            .collect();
        self.table.batch_write(writes).await?;
        let head = PlanHead {
            items: chunks.len(),
            members_in_scope,
        };
        let item = Item::new(
            keys::job_deletions_head(t, job),
            1,
            serde_json::to_vec(&head).expect("json"),
        );
        self.table.put(item, Condition::Always).await
    }

    /// The plan an earlier run of the job froze, if any.
    pub async fn frozen_plan(
        &self,
        t: &TenantId,
        job: u64,
    ) -> Result<Option<FrozenPlan>, StoreError> {
        let Some(head) = self.table.get(&keys::job_deletions_head(t, job)).await? else {
            return Ok(None);
        };
        let head: PlanHead = serde_json::from_slice(&head.body).map_err(corrupt)?;
        let keys: Vec<_> = (0..head.items)
            .map(|i| keys::job_deletions(t, job, i))
            .collect();
        let mut deletions = Vec::new();
        for item in self.table.get_many(&keys).await? {
            let item =
                item.ok_or_else(|| StoreError::Backend("a frozen plan lost a part".into()))?;
            let pairs: Vec<(String, String)> =
                serde_json::from_slice(&item.body).map_err(corrupt)?;
            deletions.extend(pairs);
        }
        Ok(Some(FrozenPlan {
            deletions,
            members_in_scope: head.members_in_scope,
        }))
    }
}
