//! Filters that no index answers read the tenant's resources and match them one by one:
//! that work is bounded ([`MAX_SCANNED`]), rationed (two scans per tenant, and no more scans
//! at once than the machine has cores to spare), and done on blocking threads rather than
//! on the executor that answers every other request, so one tenant's heavy queries slow only
//! that tenant.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::filter::eval::{Compiled, Target, matches};
use super::{ScimError, StoredResource};
use crate::ids::TenantId;

/// The most resources one request may read to evaluate a filter or a sort.
pub const MAX_SCANNED: usize = 200_000;

/// Scans of one tenant running at once.
const PER_TENANT: usize = 2;

/// How long a scan waits for its turn before the request is answered 429.
const WAIT: Duration = Duration::from_secs(5);

struct Gate {
    all: Arc<Semaphore>,
    tenants: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

/// A tenant's place in the scan queue, and the scan's share of the machine.
type Turn = (OwnedSemaphorePermit, OwnedSemaphorePermit);

impl Gate {
    fn new(all: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(all.max(1))),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    async fn turn(&self, t: &TenantId) -> Result<Turn, ScimError> {
        let mine = self
            .tenants
            .lock()
            .unwrap()
            .entry(t.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_TENANT)))
            .clone();
        let busy =
            || ScimError::too_many_requests("this tenant's searches are queued; retry later");
        let take = async {
            let own = mine.acquire_owned().await.map_err(|_| busy())?;
            let any = self.all.clone().acquire_owned().await.map_err(|_| busy())?;
            Ok((own, any))
        };
        tokio::time::timeout(WAIT, take).await.map_err(|_| busy())?
    }
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // One core is always left to the executor.
    Gate::new(cores.saturating_sub(1))
});

/// The right to run one scan for `t`; 429 when its turn does not come within 5 s.
pub async fn turn(t: &TenantId) -> Result<Turn, ScimError> {
    GATE.turn(t).await
}

/// Refuses a scan over more than [`MAX_SCANNED`] resources (RFC 7644 §3.12 `tooMany`).
pub fn within_budget(n: usize) -> Result<(), ScimError> {
    if n > MAX_SCANNED {
        return Err(ScimError::too_many(format!(
            "this filter or sort would read {n} resources, more than {MAX_SCANNED}: filter on an indexed attribute (userName, externalId, employeeNumber, id; displayName for groups)"
        )));
    }
    Ok(())
}

/// Runs `f` on the resource's document as a JSON value, without copying it.
fn as_value<T>(r: &mut StoredResource, f: impl FnOnce(&Value) -> T) -> T {
    let doc = Value::Object(std::mem::take(&mut r.doc));
    let out = f(&doc);
    if let Value::Object(map) = doc {
        r.doc = map;
    }
    out
}

/// A sort: the attribute, its key function and the direction.
pub struct Sort {
    /// The attribute sorted on.
    pub target: Target,
    /// Reverse order.
    pub descending: bool,
}

/// Keeps what matches `filter` and orders it by `sort`, on a blocking thread. Each document
/// is matched in place and each sort key computed once.
pub async fn filter_and_sort(
    found: Vec<StoredResource>,
    filter: Option<Compiled>,
    sort: Option<Sort>,
    key: fn(&Value, &Target) -> Option<Value>,
    compare: fn(&Value, &Value, bool) -> Ordering,
) -> Result<Vec<StoredResource>, ScimError> {
    let work = move || {
        let mut kept: Vec<StoredResource> = match &filter {
            None => found,
            Some(f) => found
                .into_iter()
                .filter_map(|mut r| as_value(&mut r, |doc| matches(f, doc)).then_some(r))
                .collect(),
        };
        if let Some(sort) = sort {
            let case_exact = sort.target.sub.unwrap_or(sort.target.attr).case_exact;
            let mut keyed: Vec<(Option<Value>, StoredResource)> = kept
                .into_iter()
                .map(|mut r| {
                    // Lowercased once here rather than at every comparison.
                    let k = as_value(&mut r, |doc| key(doc, &sort.target)).map(|k| match k {
                        Value::String(s) if !case_exact => Value::String(s.to_lowercase()),
                        other => other,
                    });
                    (k, r)
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| match (a, b) {
                (Some(x), Some(y)) => compare(x, y, true),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            });
            if sort.descending {
                keyed.reverse();
            }
            kept = keyed.into_iter().map(|(_, r)| r).collect();
        }
        kept
    };
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "a scan stopped");
        ScimError::internal()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tenant_runs_two_scans_at_once_and_its_third_waits_its_turn() {
        let gate = Gate::new(8);
        let (a, b) = (
            TenantId::parse("aaa").unwrap(),
            TenantId::parse("bbb").unwrap(),
        );
        let first = gate.turn(&a).await.unwrap();
        let _second = gate.turn(&a).await.unwrap();
        assert!(
            gate.turn(&b).await.is_ok(),
            "another tenant is not held back"
        );
        let third = gate.turn(&a).await;
        assert_eq!(
            third.err().map(|e| e.status.as_u16()),
            Some(429),
            "after 5 s"
        );
        drop(first);
        assert!(
            gate.turn(&a).await.is_ok(),
            "its turn comes once one is done"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn scans_beyond_the_machines_share_wait_for_a_free_one() {
        let gate = Gate::new(1);
        let (a, b) = (
            TenantId::parse("aaa").unwrap(),
            TenantId::parse("bbb").unwrap(),
        );
        let running = gate.turn(&a).await.unwrap();
        let waiting = gate.turn(&b);
        let (_, got) = tokio::join!(
            async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                drop(running);
            },
            waiting
        );
        assert!(got.is_ok(), "b ran once a finished");
    }

    #[test]
    fn a_scan_past_the_budget_is_too_many() {
        assert!(within_budget(MAX_SCANNED).is_ok());
        let e = within_budget(MAX_SCANNED + 1).unwrap_err();
        assert_eq!(e.scim_type, Some("tooMany"));
    }
}
