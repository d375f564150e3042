//! Bearer-token authentication of SCIM routes (RFC 6750 §2.1): the token must be one of the
//! tenant's own SCIM tokens, or an OAuth access token of one of its clients with the `scim`
//! scope; anything else is one and the same 401.

use std::collections::HashMap;

use crate::activity::{Event, Kind};
use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::principal::{AuthFailure, SourceIp, authenticate_token};
use crate::auth::Scope;
use crate::ids::TenantId;
use crate::scim::ScimError;

/// The token of a request, from `Authorization: Bearer …` (scheme case-insensitive).
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// True for a token shaped like a JWS compact serialisation (`eyJ….….…`); SCIM tokens
/// (`mst_<id>.<secret>`) never are.
fn is_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

/// Lets the request through only with a valid SCIM token of the tenant in its path, or an
/// access token of one of its clients holding the `scim` scope from an allowed address, and
/// records the tenant in the request's extensions. Another tenant's access token gets the
/// same 401 as garbage; a missing scope or a refused address gets a SCIM 403.
pub async fn require_scim_token(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    source_ip: SourceIp,
    mut req: Request,
    next: Next,
) -> Response {
    let denied = || {
        ScimError::unauthorized("a valid bearer token of this tenant is required").into_response()
    };
    let Some(tenant) = params.get("tenant").and_then(|t| TenantId::parse(t).ok()) else {
        return denied();
    };
    let Some(token) = bearer(&req) else {
        return denied();
    };
    if is_jwt(token) {
        return match authenticate_token(&state, token, source_ip, Scope::Scim, Some(&tenant)).await
        {
            Ok(principal) => {
                req.extensions_mut().insert(tenant.clone());
                recorded(&state, &tenant, &principal.client_id, req, next).await
            }
            Err(AuthFailure::MissingToken | AuthFailure::InvalidToken) => denied(),
            Err(AuthFailure::InsufficientScope(_)) => {
                ScimError::forbidden("this access token does not hold the scim scope")
                    .into_response()
            }
            Err(AuthFailure::AddressNotAllowed) => {
                ScimError::forbidden("this client may not call from this address").into_response()
            }
            Err(AuthFailure::Internal) => ScimError::internal().into_response(),
        };
    }
    match state.tokens.verify(&tenant, token).await {
        Ok(true) => {
            let actor = token_id(token).to_owned();
            req.extensions_mut().insert(tenant.clone());
            recorded(&state, &tenant, &actor, req, next).await
        }
        Ok(false) => denied(),
        Err(e) => ScimError::from(e).into_response(),
    }
}

/// The id part of a SCIM token (`mst_<id>.<secret>`): public, safe to record.
fn token_id(token: &str) -> &str {
    token
        .strip_prefix("mst_")
        .and_then(|rest| rest.split_once('.'))
        .map_or("", |(id, _)| id)
}

/// Runs the request and, when it is a write, appends it to the tenant's activity log: who,
/// the method, the resource path under the SCIM base, the status; never the body.
async fn recorded(
    state: &AppState,
    tenant: &TenantId,
    actor: &str,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (method == Method::POST && req.uri().path().ends_with("/.search"))
    {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let resource = path
        .split_once("/scim/v2")
        .map_or(path, |(_, rest)| rest)
        .to_owned();
    let response = next.run(req).await;
    let event = Event::now(
        Kind::Scim,
        actor,
        method.as_str(),
        &resource,
        response.status().as_str(),
    );
    state.activity.record(tenant, event).await;
    response
}
