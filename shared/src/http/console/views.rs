//! The console's pages as typed templates (askama: checked at compile time, HTML-escaped by
//! default), and the small helpers that fill them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::console::Session;
use crate::http::AppState;
use crate::store::StoreError;

/// What the header of every signed-in page shows.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The tenant's name.
    pub tenant_name: String,
    /// Who is signed in (their e-mail or userName).
    pub user_label: String,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: String,
}

/// The header data of `session`.
pub async fn chrome(s: &AppState, session: &Session) -> Result<Chrome, StoreError> {
    let t = &session.tenant;
    let tenant_name = match s.tenants.get(t).await {
        Ok(Some(tenant)) => tenant.name,
        Ok(None) => t.to_string(),
        Err(crate::auth::TenantError::Store(e)) => return Err(e),
        Err(e) => return Err(StoreError::Backend(e.to_string())),
    };
    let user_label = user_label(s, t, &session.user).await?;
    Ok(Chrome {
        tenant_name,
        user_label,
        csrf: session.csrf.clone(),
    })
}

/// How a user is named on a page: userName, else the id.
pub async fn user_label(
    s: &AppState,
    t: &crate::ids::TenantId,
    user: &str,
) -> Result<String, StoreError> {
    let users = crate::directory::UserDirectory::new(s.table.clone());
    let record = users.records().get(t, user).await?;
    Ok(record
        .and_then(|r| {
            r.doc
                .get("userName")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| user.to_owned()))
}

/// Renders a template as an HTML answer (a 500 page, logged, if rendering fails).
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>The page could not be shown.</p>"),
            )
                .into_response()
        }
    }
}

/// A page that only says something (refusals, sign-out).
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message {
    pub chrome: Option<Chrome>,
    pub status: u16,
    pub heading: String,
    pub text: String,
    pub hint: Option<String>,
    pub back: Option<(String, String)>,
}

/// The page a sign-in link opens: a button, so that mail scanners fetching the link do not
/// consume it.
#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignIn {
    pub chrome: Option<Chrome>,
    pub tenant: String,
    pub code: String,
}

/// One community on the home page.
pub struct CommunityLine {
    pub id: String,
    pub name: String,
    pub members: u64,
    pub pending: u64,
    pub last_import: String,
}

/// The home page.
#[derive(Template)]
#[template(path = "console/home.html")]
pub struct Home {
    pub chrome: Option<Chrome>,
    pub tenant_id: String,
    pub tenant_admin: bool,
    pub communities: Vec<CommunityLine>,
}

/// One member in the table.
pub struct MemberLine {
    pub user: String,
    pub name: String,
    pub email: String,
    pub matricule: String,
    pub role: String,
    pub status: String,
    pub pending: bool,
    pub origins: String,
}

/// A community's members.
#[derive(Template)]
#[template(path = "console/community.html")]
pub struct Community {
    pub chrome: Option<Chrome>,
    pub id: String,
    pub name: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub q: String,
    pub status_options: Vec<(String, String, bool)>,
    pub source_options: Vec<(String, String, bool)>,
    pub rows: Vec<MemberLine>,
    pub filtered: bool,
    pub budget_spent: bool,
    pub scan_budget: usize,
    pub next_href: Option<String>,
    pub paged: bool,
}

/// One past import.
pub struct HistoryLine {
    pub id: u64,
    pub when: String,
    pub who: String,
    pub mode: String,
    pub file: String,
    pub result: String,
}

/// A community's import page.
#[derive(Template)]
#[template(path = "console/imports.html")]
pub struct Imports {
    pub chrome: Option<Chrome>,
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub csrf: String,
    pub modes: Vec<(&'static str, &'static str, &'static str)>,
    pub history: Vec<HistoryLine>,
}

/// One import job's result, report and row errors.
#[derive(Template)]
#[template(path = "console/job.html")]
pub struct Job {
    pub chrome: Option<Chrome>,
    pub id: String,
    pub name: String,
    pub job_id: u64,
    pub result: String,
    pub mode: String,
    pub file: String,
    pub who: String,
    pub when: String,
    pub rows: String,
    pub report: Vec<(String, String, u64)>,
    pub errors: Vec<(u64, String, String, String)>,
    pub prev_page: Option<u64>,
    pub next_page: Option<u64>,
}
