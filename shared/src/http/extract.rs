//! Request extractors and response helpers shared by the SCIM handlers: no handler parses
//! paths, headers or bodies by itself.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use crate::ids::TenantId;
use crate::scim::{Preconditions, SCIM_MEDIA_TYPE, ScimError, etag};

/// Everything a SCIM handler needs to know about its request besides the body.
pub struct ScimContext {
    /// The authenticated tenant.
    pub tenant: TenantId,
    /// The SCIM base URL of the tenant, such as `https://host/tenants/acme/scim/v2`.
    pub base: String,
    /// Query parameters (names as sent; look them up case-insensitively).
    pub query: HashMap<String, String>,
    /// `If-Match` / `If-None-Match`.
    pub pre: Preconditions,
}

impl FromRequestParts<AppState> for ScimContext {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let tenant = parts.extensions.get::<TenantId>().cloned().ok_or_else(|| {
            ScimError::unauthorized("a valid bearer token of this tenant is required")
        })?;
        let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|_| ScimError::invalid_syntax("the query string is not valid URL encoding"))?
            .0;
        let raw = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let pre = Preconditions {
            if_match: raw(header::IF_MATCH),
            if_none_match: raw(header::IF_NONE_MATCH),
        };
        let origin = super::origin::origin(&parts.headers, &parts.extensions, &state.config);
        let base = format!("{origin}/tenants/{tenant}/scim/v2");
        Ok(Self {
            tenant,
            base,
            query,
            pre,
        })
    }
}

/// A JSON request body; malformed JSON is a SCIM `invalidSyntax` error and an oversized body
/// a 413, instead of axum's plain-text rejections.
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ScimError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::payload_too_large(
                    "the body exceeds maxPayloadSize (see /ServiceProviderConfig)",
                )
            } else {
                ScimError::invalid_syntax("the body could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ScimError::invalid_syntax("the request needs a JSON body"));
        }
        serde_json::from_slice(&bytes)
            .map(ScimBody)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
    }
}

/// A SCIM JSON response with `Content-Type: application/scim+json`, and `ETag`/`Location`
/// when given.
pub fn scim_response(
    status: StatusCode,
    body: Value,
    version: Option<u64>,
    location: Option<&str>,
) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_MEDIA_TYPE),
    );
    if let Some(v) = version
        && let Ok(tag) = HeaderValue::from_str(&etag(v))
    {
        headers.insert(header::ETAG, tag);
    }
    if let Some(l) = location
        && let Ok(l) = HeaderValue::from_str(l)
    {
        headers.insert(header::LOCATION, l);
    }
    response
}
