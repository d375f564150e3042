//! The directory's scheduled work over every tenant: draining intents, checking (and on
//! request repairing) the invariant, and purging soft-deleted users past their retention.
//! `muster serve` runs it on timers; on AWS an EventBridge schedule invokes a function with a
//! [`Task`] as its event.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::check::{Checker, Report};
use super::{Drained, Lifecycle, Reconciler};
use crate::auth::{DEFAULT_RETENTION_DAYS, Tenant, Tenants};
use crate::ids::{TenantId, days_ago};
use crate::import::{Notifier, send_due};
use crate::store::{StoreError, Table};

/// One scheduled task, as the event that asks for it (`{"task": "drain"}`,
/// `{"task": "check", "repair": false}`, `{"task": "purge"}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    /// Drain every pending intent of every tenant.
    Drain,
    /// Check every tenant's invariant; repair the drift found when `repair`.
    Check {
        /// Repair what the check finds (then check again).
        #[serde(default)]
        repair: bool,
    },
    /// Purge users soft-deleted longer ago than their tenant's retention period.
    Purge,
}

/// One tenant's outcome of a check task.
#[derive(Debug, Clone, Serialize)]
pub struct TenantCheck {
    /// The tenant.
    pub tenant: String,
    /// How many places drifted when checked.
    pub drift: u64,
    /// How many places still drift after the repair (equal to `drift` without one).
    pub drift_after: u64,
    /// The check's report (after the repair, when there was one).
    pub report: Report,
}

/// What a task did, as the function answers and logs it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Done {
    /// Intents drained over every tenant.
    Drain {
        /// The totals.
        drained: Drained,
        /// Invitations sent because they were due (members created while automatic
        /// invitations are on).
        invited: u64,
        /// Tenants that failed (logged).
        failed: Vec<String>,
    },
    /// Tenants checked.
    Check {
        /// Each tenant's outcome.
        tenants: Vec<TenantCheck>,
        /// Tenants whose check failed (logged).
        failed: Vec<String>,
    },
    /// Soft-deleted users purged.
    Purge {
        /// How many, all tenants together.
        purged: u64,
        /// Tenants that failed (logged).
        failed: Vec<String>,
    },
}

impl Done {
    /// Whether the task left drift or failed somewhere: the scheduled run reports an error.
    pub fn is_alarming(&self) -> bool {
        match self {
            Done::Drain { failed, .. } | Done::Purge { failed, .. } => !failed.is_empty(),
            Done::Check { tenants, failed } => {
                !failed.is_empty() || tenants.iter().any(|c| c.drift_after > 0)
            }
        }
    }
}

/// The scheduled work over one table.
#[derive(Clone)]
pub struct Maintenance {
    table: Arc<dyn Table>,
    notifier: Option<Arc<dyn Notifier>>,
}

impl Maintenance {
    /// Maintenance over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            table,
            notifier: None,
        }
    }

    /// Maintenance whose drain also sends the invitations due (members created while their
    /// tenant invites automatically) through `notifier`.
    pub fn with_invitations(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        Tenants::new(self.table.clone())
            .list()
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    /// Runs `task` over every tenant. A tenant that fails is logged and named in the result;
    /// the others go on. Drift is logged at error level with its kinds and counts.
    pub async fn run(&self, task: &Task) -> Result<Done, StoreError> {
        let tenants = self.tenants().await?;
        let mut failed = Vec::new();
        match task {
            Task::Drain => {
                let reconciler = Reconciler::new(self.table.clone());
                let (mut drained, mut invited) = (Drained::default(), 0);
                for tenant in &tenants {
                    match reconciler.drain(&tenant.id).await {
                        Ok(d) => {
                            drained.groups += d.groups;
                            drained.users += d.users;
                            drained.changed += d.changed;
                        }
                        Err(e) => fail(&mut failed, &tenant.id, "draining", &e),
                    }
                    if let Some(notifier) = &self.notifier {
                        match send_due(&self.table, &**notifier, &tenant.id).await {
                            Ok(n) => invited += n as u64,
                            Err(e) => fail(&mut failed, &tenant.id, "inviting", &e),
                        }
                    }
                }
                Ok(Done::Drain {
                    drained,
                    invited,
                    failed,
                })
            }
            Task::Check { repair } => {
                let mut checked = Vec::new();
                for tenant in &tenants {
                    match self.check(&tenant.id, *repair).await {
                        Ok(c) => checked.push(c),
                        Err(e) => fail(&mut failed, &tenant.id, "checking", &e),
                    }
                }
                Ok(Done::Check {
                    tenants: checked,
                    failed,
                })
            }
            Task::Purge => {
                let lifecycle = Lifecycle::new(self.table.clone());
                let mut purged = 0;
                for tenant in &tenants {
                    let days = tenant
                        .deleted_user_retention_days
                        .unwrap_or(DEFAULT_RETENTION_DAYS);
                    match lifecycle.purge(&tenant.id, &days_ago(days)).await {
                        Ok(n) => purged += n,
                        Err(e) => fail(&mut failed, &tenant.id, "purging", &e),
                    }
                }
                Ok(Done::Purge { purged, failed })
            }
        }
    }

    async fn check(&self, t: &TenantId, repair: bool) -> Result<TenantCheck, StoreError> {
        let checker = Checker::new(self.table.clone());
        let (before, report) = if repair {
            let repaired = checker.repair(t).await?;
            (repaired.before, repaired.after)
        } else {
            let report = checker.check(t).await?;
            (report.clone(), report)
        };
        let (drift, drift_after) = (before.drift_total(), report.drift_total());
        if drift > 0 {
            let kinds: Vec<String> = before
                .drift
                .iter()
                .map(|(kind, f)| format!("{kind}={}", f.count))
                .collect();
            tracing::error!(
                tenant = %t,
                drift,
                drift_after,
                kinds = %kinds.join(","),
                "the directory's invariant does not hold"
            );
        }
        Ok(TenantCheck {
            tenant: t.to_string(),
            drift,
            drift_after,
            report,
        })
    }

    /// Runs the tasks of a long-lived process (`muster serve`) for as long as it runs: a drain
    /// at once and then every `drain_every`, a purge at once and then every `purge_every`.
    pub fn spawn(
        self,
        drain_every: std::time::Duration,
        purge_every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_purge: Option<tokio::time::Instant> = None;
            loop {
                if last_purge.is_none_or(|at| at.elapsed() >= purge_every) {
                    last_purge = Some(tokio::time::Instant::now());
                    self.log(&Task::Purge).await;
                }
                self.log(&Task::Drain).await;
                tokio::time::sleep(drain_every).await;
            }
        })
    }

    /// Runs `task` and logs what it did when it did something.
    async fn log(&self, task: &Task) {
        match self.run(task).await {
            Ok(Done::Drain {
                drained: d,
                invited,
                ..
            }) if d.groups + d.users + invited > 0 => tracing::info!(
                groups = d.groups,
                users = d.users,
                changed = d.changed,
                invited,
                "intents drained"
            ),
            Ok(Done::Purge { purged, .. }) if purged > 0 => {
                tracing::info!(purged, "soft-deleted users purged")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, ?task, "maintenance failed"),
        }
    }
}

fn fail(failed: &mut Vec<String>, t: &TenantId, what: &str, e: &StoreError) {
    tracing::error!(tenant = %t, error = %e, "{what} failed");
    failed.push(t.to_string());
}
