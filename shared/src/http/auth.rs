//! Bearer-token authentication of SCIM routes (RFC 6750 §2.1): the token must be one of the
//! tenant's own; anything else is one and the same 401.

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
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

/// Lets the request through only with a valid SCIM token of the tenant in its path, and
/// records the tenant in the request's extensions.
pub async fn require_scim_token(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
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
    match state.tokens.verify(&tenant, token).await {
        Ok(true) => {
            req.extensions_mut().insert(tenant);
            next.run(req).await
        }
        Ok(false) => denied(),
        Err(e) => ScimError::from(e).into_response(),
    }
}
