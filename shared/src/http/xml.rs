//! XML on the SCIM routes (issue 15, seed 003): an `application/xml` body on `/Users` and
//! `/Groups` is read into the JSON the handlers expect, and any SCIM answer (resources,
//! lists, errors) is written as XML when `Accept` asks for it, or when the request was XML
//! and `Accept` states no preference. JSON stays the default.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::scim::schema::resource_type;
use crate::scim::xml::{self, Body as XmlBody, XML_MEDIA_TYPE};
use crate::scim::{SCIM_MEDIA_TYPE, ScimError};

fn header_str(req: &Request, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The middleware: translates the request body in and the response body out.
pub async fn negotiate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_xml = header_str(&req, header::CONTENT_TYPE).is_some_and(|t| xml::is_xml(&t));
    let xml_out = xml::wants_xml(header_str(&req, header::ACCEPT).as_deref(), request_xml);
    let bodiless = matches!(*req.method(), Method::GET | Method::HEAD | Method::DELETE);
    let response = if request_xml && !bodiless {
        match translate_request(req, state.config.max_payload).await {
            Ok(req) => next.run(req).await,
            Err(e) => e.into_response(),
        }
    } else {
        next.run(req).await
    };
    if xml_out {
        translate_response(response).await
    } else {
        response
    }
}

/// What an XML body on this route holds; `None` where XML is not accepted.
fn body_kind(method: &Method, path: &str) -> Option<XmlBody> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kind = |name: &str| match name {
        "Users" => Some(resource_type("User")),
        "Groups" => Some(resource_type("Group")),
        _ => None,
    };
    match (method, segments.as_slice()) {
        (&Method::POST, [.., ".search"]) => Some(XmlBody::Search),
        (&Method::POST, [.., endpoint]) => kind(endpoint).map(XmlBody::Resource),
        (&Method::PUT, [.., endpoint, _]) => kind(endpoint).map(XmlBody::Resource),
        (&Method::PATCH, [.., endpoint, _]) => kind(endpoint).map(XmlBody::Patch),
        _ => None,
    }
}

async fn translate_request(req: Request, limit: usize) -> Result<Request, ScimError> {
    let kind = body_kind(req.method(), req.uri().path()).ok_or_else(|| {
        ScimError::unsupported_media_type(
            "XML bodies are read on /Users and /Groups (POST, PUT, PATCH and .search); \
             send application/scim+json here",
        )
    })?;
    let (mut parts, body) = req.into_parts();
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ScimError::payload_too_large("the body exceeds maxPayloadSize (see /ServiceProviderConfig)")
    })?;
    let json = xml::read(&bytes, kind)?;
    let bytes = serde_json::to_vec(&json).map_err(|_| ScimError::internal())?;
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_MEDIA_TYPE),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

async fn translate_response(response: Response) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept"));
    if !json {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        tracing::error!("a SCIM response body could not be read for its XML form");
        return ScimError::internal().into_response();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_MEDIA_TYPE),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(xml::to_xml(&value)))
}
