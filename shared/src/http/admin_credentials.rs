//! The operator's routes on a tenant's credentials: SCIM tokens and OAuth API clients
//! (issued with their secret shown once, listed without it, revoked).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::admin::{AdminFailure, Answer, ok, tenant};
use crate::admin::AdminError;
use crate::auth::{NewClient, Scope};

#[derive(Deserialize, Default)]
pub(super) struct TokenBody {
    #[serde(default)]
    name: String,
}

/// `POST /admin/tenants/{t}/tokens` (optional body `{"name": "…"}`): a new SCIM token, shown
/// once.
pub(super) async fn issue_token(
    State(s): State<AppState>,
    Path(t): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    let t = tenant(&t)?;
    s.admin.tenant(&t).await?;
    let b: TokenBody = if body.is_empty() {
        TokenBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AdminFailure(StatusCode::BAD_REQUEST, format!("invalid body: {e}")))?
    };
    let token = s
        .admin
        .tokens
        .issue_named(&t, &b.name)
        .await
        .map_err(AdminError::from)?;
    ok(
        StatusCode::CREATED,
        json!({"scim_token_id": token.id, "scim_token": token.token}),
    )
}

/// `GET /admin/tenants/{t}/tokens`: the live SCIM tokens (id, name, created, last_used).
pub(super) async fn list_tokens(State(s): State<AppState>, Path(t): Path<String>) -> Answer {
    let t = tenant(&t)?;
    s.admin.tenant(&t).await?;
    let tokens = s.admin.tokens.list(&t).await.map_err(AdminError::from)?;
    ok(StatusCode::OK, json!({ "tokens": tokens }))
}

pub(super) async fn revoke_token(
    State(s): State<AppState>,
    Path((t, id)): Path<(String, String)>,
) -> Answer {
    match s
        .admin
        .tokens
        .revoke(&tenant(&t)?, &id)
        .await
        .map_err(AdminError::from)?
    {
        true => Ok(StatusCode::NO_CONTENT.into_response()),
        false => Err(AdminFailure(
            StatusCode::NOT_FOUND,
            format!("no token {id}"),
        )),
    }
}

#[derive(Deserialize)]
pub(super) struct NewClientBody {
    #[serde(default = "default_client_name")]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    allowed_ips: Vec<String>,
    #[serde(default)]
    acting_users: Vec<String>,
}

fn default_client_name() -> String {
    "api client".into()
}

pub(super) async fn create_client(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<NewClientBody>,
) -> Answer {
    let scopes = if b.scopes.is_empty() {
        vec![Scope::Scim, Scope::Imports]
    } else {
        Scope::parse_list(&b.scopes.join(" ")).map_err(|e| {
            AdminFailure(StatusCode::BAD_REQUEST, format!("unknown scope {:?}", e.0))
        })?
    };
    let new = NewClient {
        name: b.name,
        scopes,
        allowed_ips: b.allowed_ips,
        acting_users: b.acting_users,
    };
    let issued = s.admin.create_client(&tenant(&t)?, new).await?;
    ok(
        StatusCode::CREATED,
        json!({"client_id": issued.client_id, "client_secret": issued.client_secret, "client": issued.client}),
    )
}

pub(super) async fn list_clients(State(s): State<AppState>, Path(t): Path<String>) -> Answer {
    let clients = s
        .admin
        .clients
        .list(&tenant(&t)?)
        .await
        .map_err(AdminError::from)?;
    ok(StatusCode::OK, json!({ "clients": clients }))
}

pub(super) async fn revoke_client(
    State(s): State<AppState>,
    Path((t, id)): Path<(String, String)>,
) -> Answer {
    match s
        .admin
        .clients
        .revoke(&tenant(&t)?, &id)
        .await
        .map_err(AdminError::from)?
    {
        true => Ok(StatusCode::NO_CONTENT.into_response()),
        false => Err(AdminFailure(
            StatusCode::NOT_FOUND,
            format!("no client {id}"),
        )),
    }
}
