//! The OAuth 2.0 token endpoint, `POST /oauth/token`: the client credentials grant
//! (RFC 6749 §4.4) for API clients, answering signed access tokens.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::AppState;
use super::principal::SourceIp;
use crate::auth::Scope;

/// An RFC 6749 §5.2 error answer.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

impl OAuthError {
    fn invalid_request(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description,
        }
    }

    /// One answer for an unknown client, a revoked one and a wrong secret alike.
    fn invalid_client() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "client authentication failed",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        no_store(headers);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a client that tried HTTP Basic MUST get this challenge; RFC 9110
            // §15.5.2 asks it of every 401, so every client gets it.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"muster\""),
            );
        }
        response
    }
}

/// RFC 6749 §5.1: responses carrying tokens MUST NOT be cached.
fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `POST /oauth/token`.
pub(super) async fn token(
    State(state): State<AppState>,
    source_ip: SourceIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match issue(&state, source_ip, &headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn issue(
    state: &AppState,
    source_ip: SourceIp,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let body = body.map_err(|_| OAuthError::invalid_request("the body could not be read"))?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let form = parse_form(&body).ok_or(OAuthError::invalid_request(
        "the body is not valid form encoding, or repeats a parameter",
    ))?;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: "only the client_credentials grant is supported",
            });
        }
        None => return Err(OAuthError::invalid_request("grant_type is required")),
    }
    let (client_id, secret) = credentials(headers, &form)?;
    let client = match state.clients.authenticate(&client_id, &secret).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err(OAuthError::invalid_client()),
        Err(e) => {
            tracing::error!(error = %e, "storage failure while authenticating a client");
            return Err(OAuthError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error: "server_error",
                description: "internal error; the operator's logs have the details",
            });
        }
    };
    if !client.allows_ip(source_ip.0) {
        return Err(OAuthError {
            status: StatusCode::FORBIDDEN,
            error: "access_denied",
            description: "this client may not request tokens from this address",
        });
    }
    // RFC 6749 §3.3: an absent scope means the client's default, here all of its scopes.
    let scopes = match form.get("scope").map(|s| Scope::parse_list(s)) {
        None => client.scopes.clone(),
        Some(Ok(asked)) if asked.is_empty() => client.scopes.clone(),
        Some(Ok(asked)) if asked.iter().all(|s| client.scopes.contains(s)) => asked,
        Some(_) => {
            return Err(OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_scope",
                description: "the scope is unknown or not granted to this client",
            });
        }
    };
    let token = state
        .keys
        .signing()
        .await
        .issue_access_token(&client, &scopes);
    state.clients.used(&client).await;
    tracing::info!(
        client_id = %client.client_id,
        tenant = %client.tenant,
        scope = %token.scope,
        jti = %token.claims.jti,
        "access token issued"
    );
    let body = json!({
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
    });
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// The client id and secret, from HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or
/// from the `client_id` and `client_secret` parameters; using both is refused, since a
/// client MUST NOT use more than one authentication method per request (RFC 6749 §2.3).
fn credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, String), OAuthError> {
    let in_form = form.contains_key("client_id") || form.contains_key("client_secret");
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
            _ => Err(OAuthError::invalid_client()),
        };
    };
    if in_form {
        return Err(OAuthError::invalid_request(
            "authenticate with HTTP Basic or with client_id and client_secret, not both",
        ));
    }
    basic(value).ok_or(OAuthError::invalid_client())
}

fn basic(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Parses an `application/x-www-form-urlencoded` body; `None` when it is malformed or
/// repeats a parameter (RFC 6749 §3.2: parameters MUST NOT be included more than once).
fn parse_form(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut form = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form
            .insert(form_decode(name)?, form_decode(value)?)
            .is_some()
        {
            return None;
        }
    }
    Some(form)
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte; the result must be
/// UTF-8. `None` on a malformed escape.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_components_decode_plus_and_percent_escapes() {
        assert_eq!(form_decode("a+b%20c%2B%3D").as_deref(), Some("a b c+="));
        assert_eq!(form_decode("%C3%A9").as_deref(), Some("é"));
        for bad in ["%", "%2", "%zz", "%+1", "%FF"] {
            assert_eq!(form_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn forms_refuse_repeated_parameters() {
        let form = parse_form(b"grant_type=client_credentials&scope=scim+imports&").unwrap();
        assert_eq!(form["scope"], "scim imports");
        assert!(parse_form(b"scope=a&scope=b").is_none());
        assert!(parse_form(b"a=%").is_none());
    }

    #[test]
    fn basic_credentials_are_base64_of_form_encoded_parts() {
        let header =
            |raw: &str| HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap();
        assert_eq!(
            basic(&header("mcl_1:s%3Ac+r")),
            Some(("mcl_1".into(), "s:c r".into()))
        );
        assert_eq!(basic(&header("no-colon")), None);
        assert_eq!(basic(&HeaderValue::from_static("Bearer abc")), None);
        assert_eq!(basic(&HeaderValue::from_static("Basic !!!")), None);
    }
}
