//! API connections (tenant administrators only): the OAuth clients of the tenant, listed with
//! their scopes, address allowlist, acting users and last use; created (secret shown once)
//! and revoked through the same code as `muster client` and the operator API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::Posted;
use super::integrations::{Secret, moment, moment_text};
use super::views::Chrome;
use super::{Refusal, Signed, html};
use crate::activity::Kind;
use crate::admin::AdminError;
use crate::auth::{NewClient, Scope};
use crate::http::AppState;
use crate::http::origin::RequestOrigin;

/// A connection as the table shows it.
pub struct Line {
    pub id: String,
    pub name: String,
    pub scopes: String,
    pub ips: String,
    pub acting: String,
    pub created: String,
    pub last_used: String,
}

/// The creation form, as sent back with its errors next to their fields.
#[derive(Default)]
pub struct Form {
    pub name: String,
    pub imports: bool,
    pub scim: bool,
    pub ips: String,
    pub acting: String,
    pub name_error: Option<String>,
    pub scope_error: Option<String>,
    pub ips_error: Option<String>,
    pub acting_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/connections.html")]
struct Connections {
    chrome: Option<Chrome>,
    csrf: String,
    notice: Option<String>,
    token_url: String,
    connections: Vec<Line>,
    form: Form,
}

async fn render(
    s: &AppState,
    who: Signed,
    origin: &str,
    notice: Option<String>,
    form: Form,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let t = &who.session.tenant;
    let clients = s.clients.list(t).await.map_err(Refusal::internal)?;
    let none = |v: String, empty: &str| if v.is_empty() { empty.to_owned() } else { v };
    let connections = clients
        .into_iter()
        .map(|c| Line {
            scopes: Scope::format_list(&c.scopes),
            ips: none(
                c.allowed_ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                "any",
            ),
            acting: none(c.acting_users.join(", "), "any administrator"),
            created: moment_text(&c.created),
            last_used: moment(c.last_used),
            id: c.client_id,
            name: c.name,
        })
        .collect();
    let page = Connections {
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        notice,
        token_url: format!("{origin}/oauth/token"),
        connections,
        form,
    };
    Ok((status, html(&page)).into_response())
}

/// `GET /console/connections`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    RequestOrigin(origin): RequestOrigin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let notice = q
        .get("revoked")
        .map(|name| format!("Connection {name} revoked: its access tokens stop working at once."));
    let form = Form {
        imports: true,
        ..Form::default()
    };
    render(&s, who, &origin, notice, form, StatusCode::OK).await
}

fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /console/connections`: creates a connection and shows its secret once; an invalid
/// form comes back with each error next to its field.
pub async fn create(
    State(s): State<AppState>,
    Posted {
        who,
        fields,
        origin,
    }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = who.session.tenant.clone();
    let field = |k: &str| fields.get(k).map(str::to_owned);
    let scopes = fields.all("scope");
    let mut form = Form {
        name: field("name").unwrap_or_default().trim().to_owned(),
        imports: scopes.iter().any(|s| s == "imports"),
        scim: scopes.iter().any(|s| s == "scim"),
        ips: field("ips").unwrap_or_default(),
        acting: field("acting").unwrap_or_default(),
        ..Form::default()
    };
    if form.name.is_empty() {
        form.name_error = Some("Give the connection a name.".into());
    }
    let scopes: Vec<Scope> = [(form.imports, Scope::Imports), (form.scim, Scope::Scim)]
        .into_iter()
        .filter_map(|(on, scope)| on.then_some(scope))
        .collect();
    if scopes.is_empty() {
        form.scope_error = Some("Choose at least one scope.".into());
    }
    let mut acting_users = Vec::new();
    for user in lines(&form.acting) {
        match s.admin.user_id(&t, &user).await {
            Ok(id) => acting_users.push(id),
            Err(_) => form.acting_error = Some(format!("No user {user} in this tenant.")),
        }
    }
    for ip in lines(&form.ips) {
        if ip.parse::<crate::auth::IpRange>().is_err() {
            form.ips_error = Some(format!("{ip} is not an address or a CIDR network."));
        }
    }
    let invalid = form.name_error.is_some()
        || form.scope_error.is_some()
        || form.ips_error.is_some()
        || form.acting_error.is_some();
    if invalid {
        return render(
            &s,
            who,
            &origin,
            None,
            form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let new = NewClient {
        name: form.name.clone(),
        scopes,
        allowed_ips: lines(&form.ips),
        acting_users,
    };
    let issued = match s.admin.create_client(&t, new).await {
        Ok(issued) => issued,
        Err(AdminError::Invalid(m)) => {
            form.name_error = Some(m);
            return render(
                &s,
                who,
                &origin,
                None,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(Refusal::internal(e)),
    };
    tracing::info!(tenant = %t, user = %who.session.user, client = %issued.client_id, "API connection made in the console");
    super::note(
        &s,
        &who,
        Kind::Admin,
        "API connection made",
        &issued.client_id,
        "ok",
    )
    .await;
    Ok(html(&Secret {
        chrome: Some(who.chrome),
        heading: format!("API connection {}", form.name),
        fields: vec![
            (
                "token-url".into(),
                "Token URL".into(),
                format!("{origin}/oauth/token"),
            ),
            ("client-id".into(), "Client ID".into(), issued.client_id),
            (
                "client-secret".into(),
                "Client secret".into(),
                issued.client_secret,
            ),
        ],
        back_href: "/console/connections".into(),
        back_label: "API connections".into(),
    }))
}

/// `POST /console/connections/{id}/revoke`.
pub async fn revoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Posted { who, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let clients = s.clients.list(t).await.map_err(Refusal::internal)?;
    let Some(client) = clients.into_iter().find(|c| c.client_id == id) else {
        return Err(Refusal::not_found());
    };
    s.clients.revoke(t, &id).await.map_err(Refusal::internal)?;
    tracing::info!(tenant = %t, user = %who.session.user, client = %id, "API connection revoked in the console");
    super::note(&s, &who, Kind::Admin, "API connection revoked", &id, "ok").await;
    let back = format!(
        "/console/connections?revoked={}",
        crate::text::percent_encode(&client.name)
    );
    Ok(Redirect::to(&back).into_response())
}
