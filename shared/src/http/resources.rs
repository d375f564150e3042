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
use crate::scim::{ListParams, Projection, ScimError, cursor_response, list_response};

/// Picks a service out of the state.
trait Pick: ResourceService + Sized {
    fn pick(state: &AppState) -> &Arc<Self>;
}

impl Pick for crate::scim::Users {
    fn pick(state: &AppState) -> &Arc<Self> {
        &state.users
    }
}

impl Pick for crate::scim::CommunityResources {
    fn pick(state: &AppState) -> &Arc<Self> {
        &state.community_resources
    }
}

impl Pick for crate::scim::Groups {
    fn pick(state: &AppState) -> &Arc<Self> {
        &state.groups
    }
}

/// Routes of the resource endpoints (Users, Groups, read-only Communities), Bulk and search.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.search", axum::routing::post(search_all))
        .route("/Bulk", axum::routing::post(bulk))
        .route(
            "/Users/.search",
            axum::routing::post(search::<crate::scim::Users>),
        )
        .route(
            "/Groups/.search",
            axum::routing::post(search::<crate::scim::Groups>),
        )
        .route(
            "/Communities/.search",
            axum::routing::post(search::<crate::scim::CommunityResources>),
        )
        .route("/Communities", get(list::<crate::scim::CommunityResources>))
        .route(
            "/Communities/{id}",
            get(read::<crate::scim::CommunityResources>),
        )
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
    let params = ListParams::parse(&ctx.query, state.config.max_results)?;
    let body = search_body(&**S::pick(&state), &ctx, &params).await?;
    Ok(scim_response(StatusCode::OK, body, None, None))
}

async fn search<S: Pick>(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let params = ListParams::from_search_body(&body, state.config.max_results)?;
    let body = search_body(&**S::pick(&state), &ctx, &params).await?;
    Ok(scim_response(StatusCode::OK, body, None, None))
}

/// The ListResponse of one resource type for `params` (RFC 7644 §3.4.2, §3.4.3).
async fn search_body<S: ResourceService>(
    svc: &S,
    ctx: &ScimContext,
    params: &ListParams,
) -> Result<serde_json::Value, ScimError> {
    let p = Projection::parse(
        svc.resource_type(),
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?;
    let found = svc.search(&ctx.tenant, params).await?;
    let resources = svc
        .render_page(&ctx.tenant, found.items, &ctx.base, &p)
        .await?;
    Ok(if found.cursor_mode {
        cursor_response(found.total, found.next_cursor, resources)
    } else {
        list_response(found.total, params.start_index, resources)
    })
}

/// `POST /.search` at the root: every resource type whose schema the filter fits, users
/// first, then groups, paged together.
async fn search_all(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let params = ListParams::from_search_body(&body, state.config.max_results)?;
    let all = ListParams {
        start_index: 1,
        count: state.config.max_results,
        cursor: None,
        ..params.clone()
    };
    let mut resources = Vec::new();
    let mut total = 0;
    let mut errors = Vec::new();
    for svc in [
        &*state.users as &dyn RenderAny,
        &*state.groups as &dyn RenderAny,
    ] {
        match svc.search_rendered(&ctx, &all).await {
            Ok((n, mut items)) => {
                total += n;
                resources.append(&mut items);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.len() == 2 {
        return Err(errors.remove(0));
    }
    let page: Vec<_> = resources
        .into_iter()
        .skip(params.start_index - 1)
        .take(params.count)
        .collect();
    let body = list_response(total, params.start_index, page);
    Ok(scim_response(StatusCode::OK, body, None, None))
}

/// A resource service seen through `search_body`, so the root search can hold both.
#[async_trait::async_trait]
trait RenderAny: Send + Sync {
    async fn search_rendered(
        &self,
        ctx: &ScimContext,
        params: &ListParams,
    ) -> Result<(u64, Vec<serde_json::Value>), ScimError>;
}

#[async_trait::async_trait]
impl<S: ResourceService> RenderAny for S {
    async fn search_rendered(
        &self,
        ctx: &ScimContext,
        params: &ListParams,
    ) -> Result<(u64, Vec<serde_json::Value>), ScimError> {
        let body = search_body(self, ctx, params).await?;
        let total = body["totalResults"].as_u64().unwrap_or(0);
        let items = match body.get("Resources") {
            Some(serde_json::Value::Array(items)) => items.clone(),
            _ => vec![],
        };
        Ok((total, items))
    }
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
    // RFC 7644 §3.5.2: a PATCH that asks for attributes (or excludes some) answers 200 with
    // the resource; otherwise a group answers 204, as identity providers expect.
    let asked = ["attributes", "excludedAttributes"]
        .iter()
        .any(|name| ctx.query.keys().any(|k| k.eq_ignore_ascii_case(name)));
    if !svc.patch_returns_resource() && !asked {
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

/// `POST /Bulk` (RFC 7644 §3.7).
async fn bulk(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let endpoints = crate::scim::bulk::Endpoints {
        users: &*state.users,
        groups: &*state.groups,
    };
    let response = crate::scim::bulk::run(endpoints, &ctx.tenant, &ctx.base, body).await?;
    Ok(scim_response(StatusCode::OK, response, None, None))
}
