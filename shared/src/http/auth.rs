//! Bearer-token authentication of SCIM routes (RFC 6750 §2.1): the token must be one of the
//! tenant's own SCIM tokens, or an OAuth access token of one of its clients with the `scim`
//! scope; anything else is one and the same 401.

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
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
            Ok(_) => {
                req.extensions_mut().insert(tenant);
                next.run(req).await
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
            req.extensions_mut().insert(tenant);
            next.run(req).await
        }
        Ok(false) => denied(),
        Err(e) => ScimError::from(e).into_response(),
    }
}
