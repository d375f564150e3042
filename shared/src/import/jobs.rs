//! Job records: a per-tenant integer id (as the reference API has), the state machine, the
//! counters, and `Idempotency-Key` deduplication (dry runs and real imports apart).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Counters, JobState, Mode};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Condition, Item, StoreError, Table, Write, keys};

/// An import job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Per-tenant sequence number.
    pub id: u64,
    /// The tenant.
    pub tenant: TenantId,
    /// The mode.
    pub mode: Mode,
    /// Where the file is stored.
    pub blob_key: String,
    /// `text/csv` or XLSX.
    pub content_type: String,
    /// The uploaded file's name, as the client declared it (empty on jobs older than it).
    #[serde(default)]
    pub file_name: String,
    /// The acting administrator (a user id).
    pub user_id: String,
    /// The communities in scope (those the acting administrator administers).
    pub scope: Vec<String>,
    /// The largest share of in-scope members a MIRROR may delete (0.0 to 1.0).
    pub max_delete_ratio: f64,
    /// Current state.
    pub state: JobState,
    /// Progress.
    pub counters: Counters,
    /// A dry run: the job checks the file and forecasts its report, and writes nothing to
    /// the directory (absent in records older than dry runs: a real import).
    #[serde(default)]
    pub dry_run: bool,
    /// Why the job failed; for a dry run that succeeded, why the real import would be refused
    /// (`None`: it would apply).
    pub reason: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// What is needed to create a job.
pub struct NewJob {
    /// Mode.
    pub mode: Mode,
    /// Blob key.
    pub blob_key: String,
    /// Media type.
    pub content_type: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// Acting administrator.
    pub user_id: String,
    /// Communities in scope.
    pub scope: Vec<String>,
    /// MIRROR deletion threshold.
    pub max_delete_ratio: f64,
}

impl Job {
    /// For a dry run that succeeded, whether the real import of its file would apply (no row
    /// errors, some rows, within the MIRROR guard); `None` for a real import or a dry run
    /// that has not succeeded.
    pub fn would_apply(&self) -> Option<bool> {
        (self.dry_run && self.state == JobState::Succeeded).then_some(self.reason.is_none())
    }
}

/// The record of idempotency key `key` for jobs of one kind. A dry run's keys are kept apart
/// from real imports' (a line break cannot occur in an HTTP header value, so no real key reads
/// as a dry run's): the same key may start one dry run and one real import of a file, and a
/// repeated real start never answers the dry run.
fn idempotency(t: &TenantId, key: &str, dry_run: bool) -> crate::store::Key {
    if dry_run {
        keys::job_idempotency(t, &format!("dry_run\n{key}"))
    } else {
        keys::job_idempotency(t, key)
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt job: {e}"))
}

/// Job storage.
#[derive(Clone)]
pub struct JobStore {
    table: Arc<dyn Table>,
}

impl JobStore {
    /// Jobs over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates a real import job with the next id; with an idempotency key already used by a
    /// real import, returns the job that key created instead (`false` as second value).
    pub async fn create(
        &self,
        t: &TenantId,
        new: NewJob,
        idempotency_key: Option<&str>,
    ) -> Result<(Job, bool), StoreError> {
        self.create_as(t, new, idempotency_key, false).await
    }

    /// [`Self::create`], of a dry run when `dry_run`: a key used by a dry run answers that dry
    /// run and no real import, and the other way round.
    pub async fn create_as(
        &self,
        t: &TenantId,
        new: NewJob,
        idempotency_key: Option<&str>,
        dry_run: bool,
    ) -> Result<(Job, bool), StoreError> {
        for _ in 0..32 {
            if let Some(k) = idempotency_key
                && let Some(item) = self.table.get(&idempotency(t, k, dry_run)).await?
            {
                let id = serde_json::from_slice::<serde_json::Value>(&item.body)
                    .map_err(corrupt)?["job"]
                    .as_u64()
                    .unwrap_or(0);
                if let Some(job) = self.get(t, id).await? {
                    return Ok((job, false));
                }
            }
            let seq = self.table.get(&keys::job_sequence(t)).await?;
            let (next, condition) = match &seq {
                Some(item) => (item.version + 1, Condition::VersionIs(item.version)),
                None => (1, Condition::NotExists),
            };
            let now = now_rfc3339();
            let job = Job {
                id: next,
                tenant: t.clone(),
                mode: new.mode,
                blob_key: new.blob_key.clone(),
                content_type: new.content_type.clone(),
                file_name: new.file_name.clone(),
                user_id: new.user_id.clone(),
                scope: new.scope.clone(),
                max_delete_ratio: new.max_delete_ratio,
                state: JobState::Created,
                counters: Counters::default(),
                dry_run,
                reason: None,
                created_at: now.clone(),
                updated_at: now,
            };
            let mut writes = vec![
                Write::Put {
                    item: Item::new(keys::job_sequence(t), next, b"{}".to_vec()),
                    condition,
                },
                Write::Put {
                    item: Item::new(
                        keys::job(t, next),
                        1,
                        serde_json::to_vec(&job).expect("json"),
                    ),
                    condition: Condition::NotExists,
                },
            ];
            writes.push(Write::Put {
                item: Item::new(keys::active_job(t, next), 1, b"{}".to_vec()),
                condition: Condition::Always,
            });
            if let Some(k) = idempotency_key {
                let body = serde_json::to_vec(&json!({ "job": next })).expect("json");
                writes.push(Write::Put {
                    item: Item::new(idempotency(t, k, dry_run), 1, body),
                    condition: Condition::NotExists,
                });
            }
            match self.table.transact(writes).await {
                Ok(()) => return Ok((job, true)),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Reads a job; `Ok(None)` when absent.
    pub async fn get(&self, t: &TenantId, id: u64) -> Result<Option<Job>, StoreError> {
        match self.table.get(&keys::job(t, id)).await? {
            Some(item) => Ok(Some(serde_json::from_slice(&item.body).map_err(corrupt)?)),
            None => Ok(None),
        }
    }

    /// Rewrites the job with `change` applied (last writer wins: only the worker writes a
    /// job after its creation).
    pub async fn update(
        &self,
        job: &mut Job,
        change: impl FnOnce(&mut Job),
    ) -> Result<(), StoreError> {
        change(job);
        job.updated_at = now_rfc3339();
        let item = Item::new(
            keys::job(&job.tenant, job.id),
            1,
            serde_json::to_vec(job).expect("json"),
        );
        self.table.put(item, Condition::Always).await?;
        if job.state.is_terminal() {
            self.table
                .delete(&keys::active_job(&job.tenant, job.id), Condition::Always)
                .await?;
        }
        Ok(())
    }

    /// Every job not yet finished, across tenants (to resume after a restart).
    pub async fn active(&self) -> Result<Vec<(TenantId, u64)>, StoreError> {
        let items = crate::store::query_all(
            &*self.table,
            crate::store::Query::prefix(keys::ACTIVE_JOBS_PK, ""),
        )
        .await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let (t, id) = i.key.sk.rsplit_once('#')?;
                Some((TenantId::parse(t).ok()?, id.parse().ok()?))
            })
            .collect())
    }

    /// Marks a job failed after an internal error (logged by the caller); best effort.
    pub async fn fail_internally(&self, t: &TenantId, id: u64) {
        if let Ok(Some(mut job)) = self.get(t, id).await
            && !job.state.is_terminal()
        {
            let _ = self
                .update(&mut job, |j| {
                    j.state = JobState::Failed;
                    j.reason = Some("an internal error stopped the import; nothing applied is lost, start it again".into());
                })
                .await;
        }
    }
}
