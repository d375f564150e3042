//! Handlers of the discovery endpoints (RFC 7644 §4); they answer GET only.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::extract::{ScimContext, scim_response};
use crate::scim::ScimError;
use crate::scim::discovery;

/// Routes of the discovery endpoints.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route(
            "/ResourceTypes",
            get(|ctx: ScimContext| async move { ok(discovery::resource_type_list(&ctx.base)) }),
        )
        .route("/ResourceTypes/{id}", get(resource_type))
        .route(
            "/Schemas",
            get(|ctx: ScimContext| async move { ok(discovery::schema_list(&ctx.base)) }),
        )
        .route("/Schemas/{id}", get(schema))
}

fn ok(body: serde_json::Value) -> Response {
    scim_response(StatusCode::OK, body, None, None)
}

async fn service_provider_config(State(state): State<AppState>, ctx: ScimContext) -> Response {
    ok(discovery::service_provider_config(&ctx.base, &state.config))
}

async fn resource_type(
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    discovery::resource_type_by_id(&ctx.base, &id)
        .map(ok)
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id:?}")))
}

async fn schema(
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    discovery::schema_by_id(&ctx.base, &id)
        .map(ok)
        .ok_or_else(|| ScimError::not_found(format!("no schema {id:?}")))
}
