//! The operator's `/admin` routes: the administration of `muster` commands over HTTP,
//! authenticated with the operator key from configuration. A tenant's SCIM token or access
//! token never opens them.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::admin_credentials::{
    create_client, issue_token, list_clients, list_tokens, revoke_client, revoke_token,
};
use crate::admin::AdminError;
use crate::auth::{constant_time_eq, sha256_hex};
use crate::community::{GroupSelector, Role};
use crate::ids::TenantId;

/// A JSON error of the admin API.
pub struct AdminFailure(pub(super) StatusCode, pub(super) String);

impl IntoResponse for AdminFailure {
    fn into_response(self) -> Response {
        let code = match self.0 {
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::INTERNAL_SERVER_ERROR => "internal",
            _ => "invalid_request",
        };
        let mut r = (self.0, Json(json!({"error": code, "message": self.1}))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster-admin\""),
            );
        }
        r
    }
}

impl From<AdminError> for AdminFailure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(m) => AdminFailure(StatusCode::NOT_FOUND, m),
            AdminError::Invalid(m) => AdminFailure(StatusCode::BAD_REQUEST, m),
            AdminError::Conflict(m) => AdminFailure(StatusCode::CONFLICT, m),
            AdminError::Store(e) => {
                tracing::error!(error = %e, "admin operation failed");
                AdminFailure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the logs".into(),
                )
            }
        }
    }
}

pub(super) type Answer = Result<Response, AdminFailure>;

pub(super) fn tenant(raw: &str) -> Result<TenantId, AdminFailure> {
    TenantId::parse(raw)
        .map_err(|_| AdminFailure(StatusCode::NOT_FOUND, format!("no tenant {raw}")))
}

/// Lets a request through only with `Authorization: Bearer <operator key>`; without a
/// configured key the admin API is closed.
pub async fn require_operator(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| sha256_hex(key.trim().as_bytes()));
    let allowed = match (&state.config.operator_key_sha256, presented) {
        (Some(expected), Some(got)) => constant_time_eq(expected.as_bytes(), got.as_bytes()),
        _ => false,
    };
    if allowed {
        next.run(req).await
    } else {
        AdminFailure(
            StatusCode::UNAUTHORIZED,
            "the operator key is required".into(),
        )
        .into_response()
    }
}

/// The `/admin` routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/tenants", post(create_tenant).get(list_tenants))
        .route(
            "/tenants/{t}",
            get(show_tenant).patch(super::admin_tenant::change_tenant),
        )
        .route("/tenants/{t}/tokens", post(issue_token).get(list_tokens))
        .route("/tenants/{t}/tokens/{id}", delete(revoke_token))
        .route(
            "/tenants/{t}/clients",
            post(create_client).get(list_clients),
        )
        .route("/tenants/{t}/clients/{id}", delete(revoke_client))
        .route(
            "/tenants/{t}/communities",
            post(create_community).get(list_communities),
        )
        .route(
            "/tenants/{t}/mappings",
            get(list_mappings).put(set_mapping).delete(remove_mapping),
        )
        .route("/tenants/{t}/admins", post(add_admin))
        .route(
            "/tenants/{t}/console-links",
            post(super::admin_tenant::console_link),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::admin_tenant::recorded,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_operator,
        ))
}

pub(super) fn ok(status: StatusCode, body: Value) -> Answer {
    Ok((status, Json(body)).into_response())
}

#[derive(Deserialize)]
struct NewTenantBody {
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    admin_email: Option<String>,
}

async fn create_tenant(State(s): State<AppState>, Json(b): Json<NewTenantBody>) -> Answer {
    let created = s
        .admin
        .create_tenant(&b.name, b.domains, b.admin_email)
        .await?;
    ok(
        StatusCode::CREATED,
        serde_json::to_value(created).unwrap_or_default(),
    )
}

async fn list_tenants(State(s): State<AppState>) -> Answer {
    let tenants = s.admin.tenants.list().await.map_err(AdminError::from)?;
    ok(StatusCode::OK, json!({ "tenants": tenants }))
}

async fn show_tenant(State(s): State<AppState>, Path(t): Path<String>) -> Answer {
    ok(
        StatusCode::OK,
        serde_json::to_value(s.admin.tenant(&tenant(&t)?).await?).unwrap_or_default(),
    )
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

async fn create_community(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<NameBody>,
) -> Answer {
    ok(
        StatusCode::CREATED,
        s.admin.create_community(&tenant(&t)?, &b.name).await?,
    )
}

async fn list_communities(State(s): State<AppState>, Path(t): Path<String>) -> Answer {
    ok(
        StatusCode::OK,
        json!({ "communities": s.admin.communities(&tenant(&t)?).await? }),
    )
}

#[derive(Deserialize)]
struct MappingBody {
    group_id: Option<String>,
    group: Option<String>,
    community: String,
    role: Option<String>,
}

impl MappingBody {
    fn selector(&self) -> Result<GroupSelector, AdminFailure> {
        match (&self.group_id, &self.group) {
            (Some(id), None) => Ok(GroupSelector::Id(id.clone())),
            (None, Some(name)) => Ok(GroupSelector::DisplayName(name.clone())),
            _ => Err(AdminFailure(
                StatusCode::BAD_REQUEST,
                "give exactly one of group_id and group".into(),
            )),
        }
    }
}

/// Re-derives the groups' members after the response, page by page.
pub(super) fn rederive_in_background(s: &AppState, t: TenantId, groups: Vec<String>) {
    let admin = s.admin.clone();
    tokio::spawn(async move {
        for g in groups {
            match admin.rederive(&t, &g).await {
                Ok(n) => {
                    tracing::info!(tenant = %t, group = %g, members = n, "memberships re-derived")
                }
                Err(e) => {
                    tracing::error!(tenant = %t, group = %g, error = %e, "re-deriving memberships failed")
                }
            }
        }
    });
}

async fn set_mapping(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<MappingBody>,
) -> Answer {
    let t = tenant(&t)?;
    let role: Role = b
        .role
        .as_deref()
        .unwrap_or("member")
        .parse()
        .map_err(|m| AdminFailure(StatusCode::BAD_REQUEST, m))?;
    let (mapping, groups) = s
        .admin
        .set_mapping(&t, b.selector()?, &b.community, role)
        .await?;
    rederive_in_background(&s, t, groups.clone());
    ok(
        StatusCode::ACCEPTED,
        json!({"mapping": mapping, "rederiving_groups": groups}),
    )
}

async fn remove_mapping(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<MappingBody>,
) -> Answer {
    let t = tenant(&t)?;
    let groups = s
        .admin
        .remove_mapping(&t, b.selector()?, &b.community)
        .await?;
    rederive_in_background(&s, t, groups.clone());
    ok(
        StatusCode::ACCEPTED,
        json!({"removed": true, "rederiving_groups": groups}),
    )
}

async fn list_mappings(State(s): State<AppState>, Path(t): Path<String>) -> Answer {
    ok(
        StatusCode::OK,
        json!({ "mappings": s.admin.mappings(&tenant(&t)?).await? }),
    )
}

#[derive(Deserialize)]
struct AdminBody {
    user: String,
    community: Option<String>,
}

async fn add_admin(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<AdminBody>,
) -> Answer {
    ok(
        StatusCode::OK,
        s.admin
            .add_admin(&tenant(&t)?, &b.user, b.community.as_deref())
            .await?,
    )
}
