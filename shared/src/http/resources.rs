//! Handlers of the resource endpoints (`/Users`, `/Groups`), written once over
//! [`ResourceService`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::extract::{ScimBody, ScimContext, scim_response};
use crate::scim::service::ResourceService;
use crate::scim::{ListParams, Projection, ScimError, list_response};

/// Picks a service out of the state.
trait Pick: ResourceService + Sized {
    fn pick(state: &AppState) -> &Arc<Self>;
}

impl Pick for crate::scim::Users {
    fn pick(state: &AppState) -> &Arc<Self> {
        &state.users
    }
}

impl Pick for crate::scim::Groups {
    fn pick(state: &AppState) -> &Arc<Self> {
        &state.groups
    }
}

/// Routes of both resource endpoints.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/Users",
            get(list::<crate::scim::Users>).post(create::<crate::scim::Users>),
        )
        .route(
            "/Users/{id}",
            get(read::<crate::scim::Users>)
                .put(replace::<crate::scim::Users>)
                .patch(patch::<crate::scim::Users>)
                .delete(delete::<crate::scim::Users>),
        )
        .route(
            "/Groups",
            get(list::<crate::scim::Groups>).post(create::<crate::scim::Groups>),
        )
        .route(
            "/Groups/{id}",
            get(read::<crate::scim::Groups>)
                .put(replace::<crate::scim::Groups>)
                .patch(patch::<crate::scim::Groups>)
                .delete(delete::<crate::scim::Groups>),
        )
}

fn projection<S: ResourceService>(svc: &S, ctx: &ScimContext) -> Result<Projection, ScimError> {
    let get = |name: &str| {
        ctx.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Projection::parse(
        svc.resource_type(),
        get("attributes"),
        get("excludedAttributes"),
    )
}

fn location<S: ResourceService>(svc: &S, ctx: &ScimContext, id: &str) -> String {
    format!("{}{}/{id}", ctx.base, svc.resource_type().endpoint)
}

async fn create<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let svc = S::pick(&state);
    let p = projection(&**svc, &ctx)?;
    let created = svc.create(&ctx.tenant, body).await?;
    let value = svc.render(&ctx.tenant, &created, &ctx.base, &p).await?;
    let loc = location(&**svc, &ctx, &created.id);
    Ok(scim_response(
        StatusCode::CREATED,
        value,
        Some(created.version),
        Some(&loc),
    ))
}

async fn read<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ScimError> {
    let svc = S::pick(&state);
    let p = projection(&**svc, &ctx)?;
    let found = svc.get(&ctx.tenant, &id).await?;
    if ctx.pre.not_modified(found.version) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let value = svc.render(&ctx.tenant, &found, &ctx.base, &p).await?;
    Ok(scim_response(
        StatusCode::OK,
        value,
        Some(found.version),
        None,
    ))
}

async fn list<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
) -> Result<Response, ScimError> {
    let svc = S::pick(&state);
    let params = ListParams::parse(&ctx.query, state.config.max_results)?;
    if params.filter.is_some() {
        return Err(ScimError::invalid_filter("filtering is not supported yet"));
    }
    let p = projection(&**svc, &ctx)?;
    let (total, page) = svc
        .list(&ctx.tenant, params.start_index, params.count)
        .await?;
    let mut resources = Vec::with_capacity(page.len());
    for r in &page {
        resources.push(svc.render(&ctx.tenant, r, &ctx.base, &p).await?);
    }
    Ok(scim_response(
        StatusCode::OK,
        list_response(total, params.start_index, resources),
        None,
        None,
    ))
}

async fn replace<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let svc = S::pick(&state);
    let p = projection(&**svc, &ctx)?;
    let saved = svc.replace(&ctx.tenant, &id, body, &ctx.pre).await?;
    let value = svc.render(&ctx.tenant, &saved, &ctx.base, &p).await?;
    Ok(scim_response(
        StatusCode::OK,
        value,
        Some(saved.version),
        None,
    ))
}

async fn patch<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let svc = S::pick(&state);
    let p = projection(&**svc, &ctx)?;
    let saved = svc.patch(&ctx.tenant, &id, body, &ctx.pre).await?;
    if !svc.patch_returns_resource() {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(tag) = crate::scim::etag(saved.version).parse() {
            response.headers_mut().insert(axum::http::header::ETAG, tag);
        }
        return Ok(response);
    }
    let value = svc.render(&ctx.tenant, &saved, &ctx.base, &p).await?;
    Ok(scim_response(
        StatusCode::OK,
        value,
        Some(saved.version),
        None,
    ))
}

async fn delete<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ScimError> {
    S::pick(&state).delete(&ctx.tenant, &id, &ctx.pre).await?;
    Ok(StatusCode::NO_CONTENT)
}
