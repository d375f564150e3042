//! Each tenant's share of the service: a token bucket of requests per second and a cap on
//! requests in flight, per tenant and per process (on Lambda, API Gateway's stage throttling
//! bounds the whole). Past either, the answer is 429 with `Retry-After` (RFC 7644 §3.12 lists
//! 429 for SCIM; RFC 6585 §4), so a tenant saturating its share slows only itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::principal::Principal;
use crate::auth::RequestLimits;
use crate::ids::TenantId;
use crate::scim::ScimError;

/// How long a tenant's limits are remembered before they are read again.
const SETTINGS_TTL: Duration = Duration::from_secs(30);

struct Share {
    limits: RequestLimits,
    read_at: Instant,
    tokens: f64,
    refilled_at: Instant,
    in_flight: u32,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// More requests per second than the tenant's rate.
    Rate,
    /// More requests in flight than the tenant's cap.
    Concurrency,
}

/// The shares of every tenant seen by this process.
#[derive(Clone, Default)]
pub struct Throttle {
    shares: Arc<Mutex<HashMap<TenantId, Share>>>,
}

/// An admitted request; dropping it frees its place.
pub struct Admitted {
    shares: Arc<Mutex<HashMap<TenantId, Share>>>,
    tenant: TenantId,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(share) = self.shares.lock().unwrap().get_mut(&self.tenant) {
            share.in_flight = share.in_flight.saturating_sub(1);
        }
    }
}

impl Share {
    /// A share with a full bucket and nothing in flight.
    fn new(limits: RequestLimits, now: Instant) -> Self {
        Self {
            limits,
            read_at: now,
            tokens: f64::from(limits.burst),
            refilled_at: now,
            in_flight: 0,
        }
    }
}

impl Throttle {
    /// True when `tenant`'s limits must be (re)read before [`Self::admit`].
    pub fn stale(&self, tenant: &TenantId, now: Instant) -> bool {
        self.shares
            .lock()
            .unwrap()
            .get(tenant)
            .is_none_or(|s| now.duration_since(s.read_at) > SETTINGS_TTL)
    }

    /// Records `tenant`'s current limits.
    pub fn set_limits(&self, tenant: &TenantId, limits: RequestLimits, now: Instant) {
        let mut shares = self.shares.lock().unwrap();
        let share = shares
            .entry(tenant.clone())
            .or_insert_with(|| Share::new(limits, now));
        share.limits = limits;
        share.read_at = now;
    }

    /// Admits one request of `tenant` at `now`, or says why not.
    pub fn admit(&self, tenant: &TenantId, now: Instant) -> Result<Admitted, Refusal> {
        let mut shares = self.shares.lock().unwrap();
        let share = shares
            .entry(tenant.clone())
            .or_insert_with(|| Share::new(RequestLimits::DEFAULT, now));
        let l = share.limits;
        let elapsed = now.duration_since(share.refilled_at).as_secs_f64();
        share.tokens = (share.tokens + elapsed * f64::from(l.per_second)).min(f64::from(l.burst));
        share.refilled_at = now;
        if share.in_flight >= l.concurrent {
            return Err(Refusal::Concurrency);
        }
        if share.tokens < 1.0 {
            return Err(Refusal::Rate);
        }
        share.tokens -= 1.0;
        share.in_flight += 1;
        Ok(Admitted {
            shares: self.shares.clone(),
            tenant: tenant.clone(),
        })
    }
}

async fn admitted(state: &AppState, tenant: &TenantId) -> Result<Admitted, Refusal> {
    let now = Instant::now();
    if state.throttle.stale(tenant, now) {
        let default = state.config.default_limits;
        let limits = match state.tenants.get(tenant).await {
            Ok(t) => t.and_then(|t| t.limits).unwrap_or(default),
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "tenant limits unread; the defaults apply");
                default
            }
        };
        state.throttle.set_limits(tenant, limits, now);
    }
    state.throttle.admit(tenant, now)
}

fn detail(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Rate => {
            "this tenant is sending more requests per second than its share; retry later"
        }
        Refusal::Concurrency => "this tenant has too many requests in flight; retry later",
    }
}

fn retry_after(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Middleware of the SCIM routes (after authentication): refusals are SCIM error bodies.
pub async fn scim(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(tenant) = req.extensions().get::<TenantId>().cloned() else {
        return next.run(req).await;
    };
    match admitted(&state, &tenant).await {
        Ok(_admitted) => next.run(req).await,
        Err(refusal) => retry_after(ScimError::too_many_requests(detail(refusal)).into_response()),
    }
}

/// Middleware of the `/v1` routes (after authentication): refusals are JSON bodies.
pub async fn v1(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(tenant) = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.tenant.clone())
    else {
        return next.run(req).await;
    };
    match admitted(&state, &tenant).await {
        Ok(_admitted) => next.run(req).await,
        Err(refusal) => {
            let body = json!({"error": "too_many_requests", "message": detail(refusal)});
            retry_after((StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn a_burst_is_admitted_then_the_rate_refills_it() {
        let throttle = Throttle::default();
        let start = Instant::now();
        let limits = RequestLimits {
            per_second: 10,
            burst: 5,
            concurrent: 100,
        };
        throttle.set_limits(&t(), limits, start);
        let held: Vec<_> = (0..5)
            .map(|_| throttle.admit(&t(), start).unwrap())
            .collect();
        assert_eq!(throttle.admit(&t(), start).err(), Some(Refusal::Rate));
        let later = start + Duration::from_millis(300);
        assert!(
            throttle.admit(&t(), later).is_ok(),
            "three tokens came back"
        );
        drop(held);
    }

    #[test]
    fn requests_in_flight_are_capped_and_freed_when_answered() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let limits = RequestLimits {
            per_second: 1000,
            burst: 1000,
            concurrent: 2,
        };
        throttle.set_limits(&t(), limits, now);
        let a = throttle.admit(&t(), now).unwrap();
        let _b = throttle.admit(&t(), now).unwrap();
        assert_eq!(throttle.admit(&t(), now).err(), Some(Refusal::Concurrency));
        drop(a);
        assert!(throttle.admit(&t(), now).is_ok());
        let other = TenantId::parse("beta").unwrap();
        assert!(
            throttle.admit(&other, now).is_ok(),
            "another tenant has its own share"
        );
    }
}
