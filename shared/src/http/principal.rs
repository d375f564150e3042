//! Who calls: a request's source address, and the API client an OAuth access token names
//! (RFC 6750 bearer tokens), for the SCIM middleware and the `/v1` API alike.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::auth::Scope;
use crate::config::Config;
use crate::ids::TenantId;

/// The address a request came from, when known (see [`super::origin::client_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceIp(pub Option<IpAddr>);

impl SourceIp {
    /// The source address of a request with these parts.
    pub fn of(parts: &Parts, config: &Config) -> Self {
        Self(super::origin::client_address(parts, config))
    }
}

impl FromRequestParts<AppState> for SourceIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self::of(parts, &state.config))
    }
}

/// The API client a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant the client acts for.
    pub tenant: TenantId,
    /// The client's id.
    pub client_id: String,
    /// The scopes of the token that the client still holds.
    pub scopes: Vec<Scope>,
    /// The user ids the client may act as on `/v1`; empty means any administrator.
    pub acting_users: Vec<String>,
}

impl Principal {
    /// True when this client may name `user_id` as its acting user.
    pub fn may_act_as(&self, user_id: &str) -> bool {
        self.acting_users.is_empty() || self.acting_users.iter().any(|u| u == user_id)
    }
}

/// Why an access token was not enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// 401: no bearer token at all.
    MissingToken,
    /// 401: a token that is malformed, forged, expired, of an unknown or revoked client, or
    /// of another tenant.
    InvalidToken,
    /// 403: a valid token without this scope.
    InsufficientScope(Scope),
    /// 403: the client may not call from the request's source address.
    AddressNotAllowed,
    /// 500: storage failed (already logged).
    Internal,
}

impl AuthFailure {
    /// The HTTP status to answer.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) | Self::AddressNotAllowed => StatusCode::FORBIDDEN,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The `/v1` API's JSON error `{"error", "message"}`, with the RFC 6750 §3 challenge.
impl IntoResponse for AuthFailure {
    fn into_response(self) -> Response {
        let (error, message, challenge) = match self {
            Self::MissingToken => (
                "unauthorized",
                "a bearer access token is required".to_owned(),
                // RFC 6750 §3.1: no error code when the request carried no credentials.
                Some("Bearer realm=\"muster\"".to_owned()),
            ),
            Self::InvalidToken => (
                "unauthorized",
                "the access token is invalid or expired".to_owned(),
                Some("Bearer realm=\"muster\", error=\"invalid_token\"".to_owned()),
            ),
            Self::InsufficientScope(scope) => (
                "insufficient_scope",
                format!("this API needs an access token with the scope {scope}"),
                Some(format!(
                    "Bearer realm=\"muster\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
            ),
            Self::AddressNotAllowed => (
                "forbidden",
                "this client may not call from this address".to_owned(),
                None,
            ),
            Self::Internal => (
                "internal",
                "internal error; the operator's logs have the details".to_owned(),
                None,
            ),
        };
        let body = axum::Json(json!({"error": error, "message": message}));
        let mut response = (self.status(), body).into_response();
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The token of `Authorization: Bearer …` (scheme case-insensitive, RFC 6750 §2.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates the bearer access token of `headers` and authorises it for `needed`.
///
/// Verifies the JWT (signature, algorithm, expiry, issuer), re-reads the client so that a
/// revocation takes effect at once, then checks the scope and the client's address
/// allowlist against `source_ip`.
pub async fn authenticate_access_token(
    state: &AppState,
    headers: &HeaderMap,
    source_ip: SourceIp,
    needed: Scope,
) -> Result<Principal, AuthFailure> {
    let token = bearer_token(headers).ok_or(AuthFailure::MissingToken)?;
    authenticate_token(state, token, source_ip, needed, None).await
}

/// [`authenticate_access_token`] for a token already taken from its header; with `tenant`,
/// a token of any other tenant is [`AuthFailure::InvalidToken`] before anything else.
pub(super) async fn authenticate_token(
    state: &AppState,
    token: &str,
    source_ip: SourceIp,
    needed: Scope,
    tenant: Option<&TenantId>,
) -> Result<Principal, AuthFailure> {
    let claims = state.keys.verify(token).await.map_err(|e| {
        tracing::debug!(reason = %e, "access token refused");
        AuthFailure::InvalidToken
    })?;
    if tenant.is_some_and(|t| *t != claims.tenant) {
        return Err(AuthFailure::InvalidToken);
    }
    let granted = claims.scopes().map_err(|_| AuthFailure::InvalidToken)?;
    let client = match state.clients.find(&claims.sub).await {
        Ok(Some(client)) if client.tenant == claims.tenant => client,
        Ok(_) => return Err(AuthFailure::InvalidToken),
        Err(e) => {
            tracing::error!(error = %e, "storage failure while authenticating a client");
            return Err(AuthFailure::Internal);
        }
    };
    let scopes: Vec<Scope> = granted
        .into_iter()
        .filter(|s| client.scopes.contains(s))
        .collect();
    if !scopes.contains(&needed) {
        return Err(AuthFailure::InsufficientScope(needed));
    }
    if !client.allows_ip(source_ip.0) {
        return Err(AuthFailure::AddressNotAllowed);
    }
    Ok(Principal {
        tenant: client.tenant,
        client_id: client.client_id,
        scopes,
        acting_users: client.acting_users,
    })
}

/// The client id of requests the console's pages make with a session cookie.
pub const CONSOLE_CLIENT: &str = "console";

/// The principal of a `/v1` request a console page makes: a live session cookie, the
/// session's CSRF token in `X-CSRF-Token` (which a page of another site can neither read
/// nor send), and, when the browser states one, an `Origin` of this service. It may act only
/// as the signed-in administrator.
async fn console_principal(
    state: &AppState,
    headers: &HeaderMap,
    origin: &str,
) -> Result<Principal, AuthFailure> {
    let cookie = super::console::session_cookie(headers).ok_or(AuthFailure::MissingToken)?;
    let sessions = crate::console::Sessions::new(state.table.clone());
    let now = chrono::Utc::now().timestamp();
    let session = sessions
        .resume(&cookie, now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a console session could not be read");
            AuthFailure::Internal
        })?
        .ok_or(AuthFailure::InvalidToken)?;
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let stated = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| session.csrf_matches(t))
        || stated.is_some_and(|o| !o.eq_ignore_ascii_case(origin))
    {
        return Err(AuthFailure::InvalidToken);
    }
    Ok(Principal {
        tenant: session.tenant,
        client_id: CONSOLE_CLIENT.to_owned(),
        scopes: vec![Scope::Imports],
        acting_users: vec![session.user],
    })
}

/// Middleware of the `/v1` API: lets a request through only with an access token holding
/// the `imports` scope from an allowed address (or, without an `Authorization` header, a
/// console session: see [`console_principal`]), and records its [`Principal`] in the
/// request's extensions. Refusals are JSON `{"error", "message"}` bodies.
pub async fn require_imports_scope(
    State(state): State<AppState>,
    source_ip: SourceIp,
    mut req: Request,
    next: Next,
) -> Response {
    let authenticated = if req.headers().contains_key(header::AUTHORIZATION)
        || super::console::session_cookie(req.headers()).is_none()
    {
        authenticate_access_token(&state, req.headers(), source_ip, Scope::Imports).await
    } else {
        let origin = super::origin::origin(req.headers(), req.extensions(), &state.config);
        console_principal(&state, req.headers(), &origin).await
    };
    match authenticated {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(failure) => failure.into_response(),
    }
}

/// As an extractor, a `Principal` holding the `imports` scope: the one
/// [`require_imports_scope`] recorded, else the request is authenticated here.
impl FromRequestParts<AppState> for Principal {
    type Rejection = AuthFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AuthFailure> {
        if let Some(p) = parts.extensions.get::<Principal>()
            && p.scopes.contains(&Scope::Imports)
        {
            return Ok(p.clone());
        }
        let source_ip = SourceIp::of(parts, &state.config);
        authenticate_access_token(state, &parts.headers, source_ip, Scope::Imports).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_rfc_6750_challenges() {
        let r = AuthFailure::InsufficientScope(Scope::Imports).into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"muster\", error=\"insufficient_scope\", scope=\"imports\""
        );
        let r = AuthFailure::InvalidToken.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        assert_eq!(
            AuthFailure::MissingToken.into_response().headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"muster\""
        );
    }
}
