//! The administration console at `/console/…`: server-rendered pages for tenant and
//! community administrators, signed in with a one-time link, kept in a cookie session.
//!
//! Every page checks the session and recomputes the administrator's scope from the
//! directory (a user who lost the role, or was deactivated, is refused at the next click).
//! Every state-changing request carries the session's CSRF token and an `Origin` (or
//! `Referer`) of this service.

mod activity;
mod assets;
mod connections;
mod form;
mod groups;
mod imports;
mod integrations;
mod members;
mod settings;
mod sign_in;
mod views;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::AppState;
use crate::admin::AdminScope;
use crate::console::{Session, Sessions};

pub use activity::filter_of as activity_filter;
pub use views::Chrome;

/// The session cookie's name.
pub const COOKIE: &str = "muster_console";

/// The console's routes: the home page at `/console` (also `/console/`), the rest below it.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(members::home))
        .route("/console/", get(members::home))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::redeem))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/signed-out", get(sign_in::signed_out))
        .route("/console/communities/{id}", get(members::community))
        .route(
            "/console/communities/{id}/invitations",
            post(members::invite),
        )
        .route("/console/communities/{id}/imports", get(imports::page))
        .route("/console/communities/{id}/imports/{job}", get(imports::job))
        .route("/console/templates", get(imports::templates))
        .route("/console/activity", get(activity::page))
        .route(
            "/console/settings",
            get(settings::page).post(settings::save),
        )
        .route("/console/integrations", get(integrations::page))
        .route(
            "/console/integrations/tokens",
            post(integrations::new_token),
        )
        .route("/console/integrations/sync", post(integrations::set_sync))
        .route(
            "/console/integrations/tokens/{id}/revoke",
            post(integrations::revoke_token),
        )
        .route(
            "/console/integrations/groups",
            get(groups::page).post(groups::set),
        )
        .route("/console/integrations/groups/remove", post(groups::remove))
        .route(
            "/console/connections",
            get(connections::page).post(connections::create),
        )
        .route(
            "/console/connections/{id}/revoke",
            post(connections::revoke),
        )
        .route("/console/assets/{file}", get(assets::serve))
        .route(
            "/console/{*rest}",
            axum::routing::any(|| async { Refusal::not_found() }),
        )
        .layer(axum::middleware::map_response(guard_headers))
}

/// Headers on every console answer: no framing (clickjacking), scripts and styles only from
/// this origin, no referrer outside it, and pages never cached (they show live data).
async fn guard_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, axum::http::HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; connect-src 'self' https:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-content-type-options", "nosniff");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

/// Appends what the signed-in administrator just did to the tenant's activity log.
pub(crate) async fn note(
    s: &AppState,
    who: &Signed,
    kind: crate::activity::Kind,
    action: &str,
    resource: &str,
    result: &str,
) {
    let event = crate::activity::Event::now(kind, &who.session.user, action, resource, result);
    s.activity.record(&who.session.tenant, event).await;
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A console page answering something other than the page asked for.
#[derive(Debug)]
pub struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl Refusal {
    /// A message page with this status.
    pub fn page(status: StatusCode, heading: &str, text: &str, hint: Option<&str>) -> Self {
        let page = views::Message {
            chrome: None,
            status: status.as_u16(),
            heading: heading.to_owned(),
            text: text.to_owned(),
            hint: hint.map(str::to_owned),
            back: Some(("/console".into(), "Back to the console".into())),
        };
        Self(Box::new((status, views::render(&page)).into_response()))
    }

    /// 403: out of the administrator's scope.
    pub fn forbidden() -> Self {
        Self::page(
            StatusCode::FORBIDDEN,
            "Not yours to manage",
            "You do not administer this community. A tenant administrator can give you the role.",
            None,
        )
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such page in the console.",
            None,
        )
    }

    /// 500, with the details only in the logs.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "console request failed");
        Self::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The request could not be completed. Try again; the operator's logs have the details.",
            None,
        )
    }
}

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// A signed-in administrator and what they may manage.
pub struct Signed {
    /// The session.
    pub session: Session,
    /// What the administrator may manage, as of this request.
    pub scope: AdminScope,
    /// The page header's data.
    pub chrome: Chrome,
}

impl Signed {
    /// Refuses (403) unless community `id` is in scope.
    pub fn may_manage(&self, id: &str) -> Result<(), Refusal> {
        if self.scope.covers(id) {
            Ok(())
        } else {
            Err(Refusal::forbidden())
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Refusal> {
        let Some(cookie) = session_cookie(&parts.headers) else {
            return Err(Refusal(Box::new(
                Redirect::to("/console/signed-out").into_response(),
            )));
        };
        let sessions = Sessions::new(s.table.clone());
        let Some(session) = sessions
            .resume(&cookie, now())
            .await
            .map_err(Refusal::internal)?
        else {
            return Err(Refusal(Box::new(
                Redirect::to("/console/signed-out?expired=1").into_response(),
            )));
        };
        let t = &session.tenant;
        let Some(scope) = s
            .admin
            .scope_of(t, &session.user)
            .await
            .map_err(Refusal::internal)?
        else {
            return Err(Refusal::page(
                StatusCode::FORBIDDEN,
                "No access",
                "You no longer administer anything in this tenant, so the console has nothing to show you.",
                Some("If this is a mistake, ask a tenant administrator."),
            ));
        };
        let chrome = views::chrome(s, &session)
            .await
            .map_err(Refusal::internal)?;
        Ok(Self {
            session,
            scope,
            chrome,
        })
    }
}

/// Checks a state-changing request: it comes from a page of this service (`Origin`, else
/// `Referer`) and carries the session's CSRF token. Both refusals are the same 403 page.
pub fn check_form(
    headers: &HeaderMap,
    parts_origin: &str,
    session: Option<&Session>,
    csrf: Option<&str>,
) -> Result<(), Refusal> {
    let stated = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            let rest = referer.split_once("://")?;
            let host = rest.1.split('/').next()?;
            Some(format!("{}://{host}", rest.0))
        });
    let same_origin = stated.is_some_and(|o| o.eq_ignore_ascii_case(parts_origin));
    let token_ok = match session {
        Some(session) => csrf.is_some_and(|c| session.csrf_matches(c)),
        None => true,
    };
    if same_origin && token_ok {
        Ok(())
    } else {
        Err(Refusal::page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The request did not come from a current console page, so nothing was changed.",
            Some("Reload the page and try again."),
        ))
    }
}

/// Renders `page`, or a 500 page when a template fails.
pub fn html(page: &impl askama::Template) -> Response {
    views::render(page)
}

/// A `Set-Cookie` value for the session cookie: `HttpOnly`, `SameSite=Lax` (so the cookie
/// is sent when a link from a mail or a terminal opens the console; state changes are
/// guarded by the CSRF token and `Origin`), `Secure` on an https origin, `Path=/` (the
/// upload page calls `/v1`). `None` clears it.
pub fn set_cookie(value: Option<&str>, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            crate::console::ABSOLUTE_LIFETIME_SECS
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}
