//! Signing in with a one-time link, and out.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::views::{self, Message, SignIn};
use super::{Refusal, check_form, html, now, session_cookie, set_cookie};
use crate::activity::{Event, Kind};
use crate::console::{ConsoleLinks, Sessions};
use crate::http::AppState;
use crate::http::origin::RequestOrigin;
use crate::ids::TenantId;

fn expired_link() -> Refusal {
    Refusal::page(
        StatusCode::BAD_REQUEST,
        "This sign-in link no longer works",
        "A sign-in link works once, for 15 minutes. This one has expired or was already used.",
        Some("Ask your operator for a new link (muster console link --tenant … --user …)."),
    )
}

/// `GET /console/sign-in?tenant=…&code=…`: a page with a button. Opening the link changes
/// nothing, so a mail scanner that fetches it does not use it up.
pub async fn page(Query(q): Query<HashMap<String, String>>) -> Result<Response, Refusal> {
    let (Some(tenant), Some(code)) = (q.get("tenant"), q.get("code")) else {
        return Err(expired_link());
    };
    let tenant = TenantId::parse(tenant).map_err(|_| expired_link())?;
    Ok(html(&SignIn {
        chrome: None,
        tenant: tenant.to_string(),
        code: code.clone(),
    }))
}

/// `POST /console/sign-in`: redeems the code (once) and starts a session.
pub async fn redeem(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    check_form(&headers, &origin, None, None)?;
    let fields: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let tenant = fields
        .get("tenant")
        .and_then(|t| TenantId::parse(t).ok())
        .ok_or_else(expired_link)?;
    let code = fields.get("code").map(String::as_str).unwrap_or_default();
    let links = ConsoleLinks::new(s.table.clone());
    let Some(user) = links
        .redeem(&tenant, code, now())
        .await
        .map_err(Refusal::internal)?
    else {
        tracing::info!(tenant = %tenant, "console sign-in refused: unknown, used or expired link");
        return Err(expired_link());
    };
    if s.admin
        .scope_of(&tenant, &user)
        .await
        .map_err(Refusal::internal)?
        .is_none()
    {
        return Err(Refusal::forbidden());
    }
    let sessions = Sessions::new(s.table.clone());
    let (cookie, _) = sessions
        .start(&tenant, &user, now())
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(tenant = %tenant, user = %user, "console sign-in");
    let event = Event::now(Kind::SignIn, &user, "console sign-in", "", "ok");
    s.activity.record(&tenant, event).await;
    let mut response = Redirect::to("/console").into_response();
    let value = set_cookie(Some(&cookie), origin.starts_with("https://"));
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&value).map_err(Refusal::internal)?,
    );
    Ok(response)
}

/// `POST /console/sign-out`: ends the session (with its CSRF token) and clears the cookie.
pub async fn sign_out(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let fields: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let sessions = Sessions::new(s.table.clone());
    if let Some(cookie) = session_cookie(&headers) {
        let session = sessions
            .resume(&cookie, now())
            .await
            .map_err(Refusal::internal)?;
        check_form(
            &headers,
            &origin,
            session.as_ref(),
            fields.get("csrf").map(String::as_str),
        )?;
        sessions.end(&cookie).await.map_err(Refusal::internal)?;
    }
    let mut response = Redirect::to("/console/signed-out").into_response();
    let value = set_cookie(None, origin.starts_with("https://"));
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&value).map_err(Refusal::internal)?,
    );
    Ok(response)
}

/// `GET /console/signed-out`: says so, and how to come back.
pub async fn signed_out(Query(q): Query<HashMap<String, String>>) -> Response {
    let expired = q.contains_key("expired");
    let page = Message {
        chrome: None,
        status: 401,
        heading: if expired {
            "Your session has ended".into()
        } else {
            "You are signed out".into()
        },
        text: if expired {
            "Sessions end after 30 minutes without use, and 12 hours after signing in.".into()
        } else {
            "To use the console, open a sign-in link.".into()
        },
        hint: Some(
            "An operator makes one with: muster console link --tenant TENANT --user EMAIL".into(),
        ),
        back: None,
    };
    (StatusCode::UNAUTHORIZED, views::render(&page)).into_response()
}
