//! The in-process queue of `muster serve`: jobs of one tenant run one after the other (a
//! tenant's imports must not interleave), jobs of different tenants run side by side, at
//! most [`DEFAULT_CONCURRENCY`] at once, taking turns so that a tenant's 1M-row file never
//! holds back another tenant's ten rows.

use std::collections::{HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{ImportMessage, Queue, QueueError};
use crate::ids::TenantId;
use crate::import::{ImportContext, run_job};

/// How many jobs (of as many tenants) run at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Which job runs next: per tenant a FIFO of jobs, tenants served in the order they first
/// waited, none while one of its jobs runs, and no more than `limit` running in all.
#[derive(Debug, Default)]
pub struct Turns {
    waiting: HashMap<TenantId, VecDeque<u64>>,
    order: VecDeque<TenantId>,
    running: HashSet<TenantId>,
    limit: usize,
}

impl Turns {
    /// No job waiting, at most `limit` (at least 1) running at once.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            ..Self::default()
        }
    }

    /// Queues job `job` of `tenant` (a job already waiting is not queued twice).
    pub fn push(&mut self, tenant: TenantId, job: u64) {
        let jobs = self.waiting.entry(tenant.clone()).or_default();
        if jobs.contains(&job) {
            return;
        }
        jobs.push_back(job);
        if !self.order.contains(&tenant) {
            self.order.push_back(tenant);
        }
    }

    /// The next job to start, if one may start now; it counts as running until [`Self::done`].
    pub fn start_next(&mut self) -> Option<ImportMessage> {
        if self.running.len() >= self.limit {
            return None;
        }
        let at = self.order.iter().position(|t| !self.running.contains(t))?;
        let tenant = self.order.remove(at)?;
        let jobs = self.waiting.get_mut(&tenant)?;
        let job = jobs.pop_front()?;
        if jobs.is_empty() {
            self.waiting.remove(&tenant);
        } else {
            // Its next job waits behind the tenants already waiting.
            self.order.push_back(tenant.clone());
        }
        self.running.insert(tenant.clone());
        Some(ImportMessage { tenant, job })
    }

    /// Marks `tenant`'s running job finished.
    pub fn done(&mut self, tenant: &TenantId) {
        self.running.remove(tenant);
    }
}

/// An in-process queue whose worker runs jobs by [`Turns`].
#[derive(Clone)]
pub struct LocalQueue {
    tx: mpsc::UnboundedSender<ImportMessage>,
}

impl LocalQueue {
    /// Starts the worker with [`DEFAULT_CONCURRENCY`] and re-queues every job left
    /// unfinished by a previous process.
    pub async fn start(ctx: ImportContext) -> Self {
        Self::start_with(ctx, DEFAULT_CONCURRENCY).await
    }

    /// [`Self::start`] running at most `concurrency` jobs at once.
    pub async fn start_with(ctx: ImportContext, concurrency: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<ImportMessage>();
        match ctx.jobs.active().await {
            Ok(active) => {
                for (tenant, job) in active {
                    let _ = tx.send(ImportMessage { tenant, job });
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list unfinished imports"),
        }
        tokio::spawn(dispatch(ctx, rx, Turns::new(concurrency)));
        Self { tx }
    }
}

async fn dispatch(
    ctx: ImportContext,
    mut rx: mpsc::UnboundedReceiver<ImportMessage>,
    mut turns: Turns,
) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<TenantId>();
    loop {
        while let Some(m) = turns.start_next() {
            let (ctx, done_tx) = (ctx.clone(), done_tx.clone());
            tokio::spawn(async move {
                if let Err(e) = run_job(&ctx, &m.tenant, m.job, None).await {
                    tracing::error!(tenant = %m.tenant, job = m.job, error = %e, "import stopped by an internal error");
                    ctx.jobs.fail_internally(&m.tenant, m.job).await;
                }
                let _ = done_tx.send(m.tenant);
            });
        }
        tokio::select! {
            received = rx.recv() => match received {
                Some(m) => turns.push(m.tenant, m.job),
                None => return,
            },
            Some(tenant) = done_rx.recv() => turns.done(&tenant),
        }
    }
}

#[async_trait]
impl Queue for LocalQueue {
    async fn send(&self, message: ImportMessage) -> Result<(), QueueError> {
        self.tx
            .send(message)
            .map_err(|_| QueueError("the import worker stopped".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    #[test]
    fn a_tenants_jobs_run_one_at_a_time_and_other_tenants_run_beside_them() {
        let mut turns = Turns::new(4);
        turns.push(t("aaa"), 1);
        turns.push(t("aaa"), 2);
        turns.push(t("bbb"), 3);
        assert_eq!(turns.start_next().map(|m| m.job), Some(1));
        assert_eq!(
            turns.start_next().map(|m| m.job),
            Some(3),
            "bbb does not wait for aaa"
        );
        assert_eq!(
            turns.start_next(),
            None,
            "aaa's second job waits for its first"
        );
        turns.done(&t("aaa"));
        assert_eq!(turns.start_next().map(|m| m.job), Some(2));
    }

    #[test]
    fn at_most_the_limit_runs_and_tenants_take_turns() {
        let mut turns = Turns::new(1);
        for job in 1..=3 {
            turns.push(t("big"), job);
        }
        turns.push(t("small"), 10);
        assert_eq!(turns.start_next().map(|m| m.job), Some(1));
        assert_eq!(turns.start_next(), None, "the limit is reached");
        turns.done(&t("big"));
        assert_eq!(
            turns.start_next().map(|m| m.job),
            Some(10),
            "small's turn comes before big's next"
        );
        turns.done(&t("small"));
        assert_eq!(turns.start_next().map(|m| m.job), Some(2));
    }

    #[test]
    fn a_job_sent_twice_while_waiting_is_queued_once() {
        let mut turns = Turns::new(2);
        turns.push(t("aaa"), 1);
        turns.push(t("aaa"), 1);
        assert!(turns.start_next().is_some());
        turns.done(&t("aaa"));
        assert_eq!(turns.start_next(), None);
    }
}
