//! What the `/v1` routes share: the import wiring of the state, JSON errors, the acting
//! administrator's scope, and the local upload route.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::principal::Principal;
use crate::blob::{Blobs, LocalBlobs, UploadRefusal};
use crate::ids::TenantId;
use crate::import::{ImportContext, Notifier};
use crate::queue::Queue;

/// The import wiring: storage of files, the job queue, the job context.
#[derive(Clone)]
pub struct Imports {
    /// Where files go.
    pub blobs: Arc<dyn Blobs>,
    /// The local blob store when files live on this machine (enables `PUT /uploads/…`).
    pub local: Option<LocalBlobs>,
    /// Where jobs are sent.
    pub queue: Arc<dyn Queue>,
    /// What jobs run with.
    pub ctx: ImportContext,
    /// Where sent invitations go.
    pub notifier: Arc<dyn Notifier>,
}

impl Imports {
    /// The local wiring of `muster serve`: files under `dir`, an in-process queue and worker
    /// (which resumes jobs left unfinished), invitations recorded in the table.
    pub async fn local(
        table: Arc<dyn crate::store::Table>,
        dir: impl Into<std::path::PathBuf>,
    ) -> Self {
        Self::local_with(table, dir, crate::queue::DEFAULT_CONCURRENCY).await
    }

    /// [`Self::local`] running at most `concurrency` jobs (of as many tenants) at once.
    pub async fn local_with(
        table: Arc<dyn crate::store::Table>,
        dir: impl Into<std::path::PathBuf>,
        concurrency: usize,
    ) -> Self {
        let blobs = LocalBlobs::new(dir, table.clone());
        let ctx = ImportContext::new(table.clone(), Arc::new(blobs.clone()));
        let queue = crate::queue::LocalQueue::start_with(ctx.clone(), concurrency).await;
        Self {
            blobs: Arc::new(blobs.clone()),
            local: Some(blobs),
            queue: Arc::new(queue),
            ctx,
            notifier: Arc::new(crate::import::LocalNotifier::new(table)),
        }
    }

    /// An in-process queue and worker over `blobs` (`local` when they are local files).
    pub async fn in_process(
        table: Arc<dyn crate::store::Table>,
        blobs: Arc<dyn Blobs>,
        local: Option<LocalBlobs>,
    ) -> Self {
        let ctx = ImportContext::new(table.clone(), blobs.clone());
        let queue = crate::queue::LocalQueue::start(ctx.clone()).await;
        Self {
            blobs,
            local,
            queue: Arc::new(queue),
            ctx,
            notifier: Arc::new(crate::import::LocalNotifier::new(table)),
        }
    }

    /// The wiring, or 503 when this entry point has none.
    pub fn of(s: &AppState) -> Result<&Imports, Failure> {
        s.imports.as_ref().ok_or_else(|| {
            Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "imports_unavailable",
                "this deployment does not run imports",
            )
        })
    }
}

/// A JSON error of the `/v1` API: `{"error": code, "message": …}`.
#[derive(Debug)]
pub struct Failure(StatusCode, &'static str, String);

impl Failure {
    /// An error with this status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(status, code, message.into())
    }
    /// A 400.
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// A 500; the cause is logged, not shown.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "import API failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the operator's logs have the details",
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(json!({"error": self.1, "message": self.2})),
        )
            .into_response()
    }
}

/// Where an acting user may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActingScope {
    /// A tenant administrator: every community of the tenant (not listed until needed, so a
    /// status poll reads no community).
    Tenant,
    /// A community administrator: these communities.
    Communities(Vec<String>),
}

impl ActingScope {
    /// Whether the scope covers community `c`, which the caller knows is a community of the
    /// tenant (one a job of the tenant touched, say).
    pub fn contains(&self, c: &str) -> bool {
        match self {
            ActingScope::Tenant => true,
            ActingScope::Communities(ids) => ids.iter().any(|id| id == c),
        }
    }

    /// Whether the scope covers `c`, a community id from the request: for a tenant
    /// administrator, whether the tenant has it (read once per process: communities never
    /// change).
    pub async fn covers(&self, s: &AppState, t: &TenantId, c: &str) -> Result<bool, Failure> {
        match self {
            ActingScope::Tenant => Ok(s
                .communities
                .get(t, c)
                .await
                .map_err(Failure::internal)?
                .is_some()),
            ActingScope::Communities(ids) => Ok(ids.iter().any(|id| id == c)),
        }
    }

    /// The communities of the scope, listed (every community of the tenant for a tenant
    /// administrator, read now).
    pub async fn ids(self, s: &AppState, t: &TenantId) -> Result<Vec<String>, Failure> {
        match self {
            ActingScope::Communities(ids) => Ok(ids),
            ActingScope::Tenant => {
                let all = s.communities.list(t).await.map_err(Failure::internal)?;
                Ok(all.into_iter().map(|c| c.id).collect())
            }
        }
    }
}

/// The communities `user_id` may act on: all of them for a tenant administrator, those it
/// administers for a community administrator; anyone else, and any user the client is not
/// bound to (`acting_users`), is refused with 403.
pub async fn acting_scope(
    s: &AppState,
    who: &Principal,
    user_id: &str,
) -> Result<ActingScope, Failure> {
    if !who.may_act_as(user_id) {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this API client may not act as this user_id",
        ));
    }
    let t = &who.tenant;
    if s.admin
        .is_tenant_admin(t, user_id)
        .await
        .map_err(Failure::internal)?
    {
        return Ok(ActingScope::Tenant);
    }
    let administered = s
        .admin
        .administered_communities(t, user_id)
        .await
        .map_err(Failure::internal)?;
    if administered.is_empty() {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "user_id must be an administrator of the tenant or of a community",
        ));
    }
    Ok(ActingScope::Communities(administered))
}

/// `page` (default 1) and `per_page` (default 20, at most 100).
pub fn page_params(q: &HashMap<String, String>) -> Result<(u64, u64), Failure> {
    let num = |name: &str, default: u64| match q.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            Failure::bad("invalid_parameter", format!("{name} is a positive integer"))
        }),
    };
    Ok((num("page", 1)?, num("per_page", 20)?.min(100)))
}

/// `PUT /uploads/{token}`: the local stand-in for a presigned S3 PUT.
pub async fn upload(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let Some(local) = s.imports.as_ref().and_then(|i| i.local.as_ref()) else {
        return Failure::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response();
    };
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    match local
        .accept(
            &token,
            h("content-type"),
            h("content-md5"),
            body.into_data_stream(),
        )
        .await
    {
        Ok(Ok(size)) => (StatusCode::OK, axum::Json(json!({"stored": size}))).into_response(),
        Ok(Err(refusal)) => {
            let (status, code) = match refusal {
                UploadRefusal::Expired => (StatusCode::FORBIDDEN, "AccessDenied"),
                UploadRefusal::HeaderMismatch(_) => {
                    (StatusCode::FORBIDDEN, "SignatureDoesNotMatch")
                }
                UploadRefusal::WrongSize { .. } => (StatusCode::BAD_REQUEST, "IncompleteBody"),
                UploadRefusal::BadDigest => (StatusCode::BAD_REQUEST, "BadDigest"),
            };
            Failure::new(status, code, refusal.to_string()).into_response()
        }
        Err(e) => Failure::internal(e).into_response(),
    }
}
