//! The integrations page (tenant administrators only): the SCIM endpoint, its secret tokens
//! (made, listed with their last use, revoked), the provisioning status and the setup steps
//! for Microsoft Entra ID and Okta with this tenant's values.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::Posted;
use super::views::Chrome;
use super::{Refusal, Signed, html};
use crate::activity::Kind;
use crate::http::AppState;
use crate::http::origin::RequestOrigin;
use crate::store::{SkRange, count_merged, first_merged, keys, sum_counters};

/// A token as the table shows it.
pub struct TokenLine {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "console/integrations.html")]
struct Integrations {
    chrome: Option<Chrome>,
    csrf: String,
    notice: Option<String>,
    scim_url: String,
    tokens: Vec<TokenLine>,
    users: u64,
    groups: u64,
    /// Members over the groups counted, and whether every group was counted.
    group_members: (u64, bool),
    last_request: String,
    /// The latest SCIM writes answered with an error: (when, what, resource, status).
    errors: Vec<(String, String, String, String)>,
    sync: bool,
    grants: Vec<(String, u64)>,
}

/// A page showing a secret once.
#[derive(Template)]
#[template(path = "console/secret.html")]
pub struct Secret {
    pub chrome: Option<Chrome>,
    pub heading: String,
    pub fields: Vec<(String, String, String)>,
    pub back_href: String,
    pub back_label: String,
}

/// Unix seconds as the console shows them (UTC, to the minute), or `never`.
pub fn moment(at: Option<i64>) -> String {
    at.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || "never".to_owned(),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

/// An RFC 3339 time as the console shows it.
pub fn moment_text(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.timestamp())
        .map_or_else(|_| rfc3339.to_owned(), |s| moment(Some(s)))
}

impl Signed {
    /// Refuses (403) unless the administrator administers the whole tenant.
    pub fn tenant_admin(&self) -> Result<(), Refusal> {
        if self.scope.is_tenant() {
            Ok(())
        } else {
            Err(Refusal::page(
                StatusCode::FORBIDDEN,
                "For tenant administrators",
                "Integrations and API connections are managed by the tenant's administrators.",
                None,
            ))
        }
    }
}

/// `GET /console/integrations`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    RequestOrigin(origin): RequestOrigin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let tokens = s.tokens.list(t).await.map_err(Refusal::internal)?;
    let last_request = moment(tokens.iter().filter_map(|t| t.last_used).max());
    let scim = crate::activity::Filter {
        kind: Some(crate::activity::Kind::Scim),
        ..Default::default()
    };
    let (recent, _) = s
        .activity
        .page(t, &scim, None, 200)
        .await
        .map_err(Refusal::internal)?;
    let errors = recent
        .into_iter()
        .filter(|e| e.result.starts_with('4') || e.result.starts_with('5'))
        .take(5)
        .map(|e| (moment_text(&e.at), e.action, e.resource, e.result))
        .collect();
    let users = sum_counters(&*s.table, &keys::user_counters(t)).await;
    let groups = sum_counters(&*s.table, &keys::group_counters(t)).await;
    let tenant = s.admin.tenant(t).await.map_err(Refusal::internal)?;
    let grants = if tenant.syncs() {
        Vec::new()
    } else {
        let preview = s.admin.sync_preview(t).await.map_err(Refusal::internal)?;
        preview.into_iter().map(|g| (g.name, g.users)).collect()
    };
    let notice = q
        .get("revoked")
        .map(|name| format!("Token {name} revoked: requests bearing it are refused from now on."))
        .or_else(|| {
            q.get("sync").map(|on| match on.as_str() {
                "on" => "Synchronization is on: access is being granted from the mapped groups."
                    .to_owned(),
                _ => "Synchronization is off: groups no longer give access.".to_owned(),
            })
        });
    Ok(html(&Integrations {
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        notice,
        scim_url: format!("{origin}/tenants/{t}/scim/v2"),
        tokens: tokens
            .into_iter()
            .map(|t| TokenLine {
                last_used: moment(t.last_used),
                created: moment_text(&t.created),
                id: t.id,
                name: t.name,
            })
            .collect(),
        users: users.map_err(Refusal::internal)?,
        groups: groups.map_err(Refusal::internal)?,
        group_members: group_members(&s, t).await.map_err(Refusal::internal)?,
        last_request,
        errors,
        sync: tenant.syncs(),
        grants,
    }))
}

/// `POST /console/integrations/sync` (`on` = `1` or `0`): turns the synchronization switch
/// on or off; the mapped groups' members are derived again right after the answer (and by
/// the reconciler's next pass if this process stops first: the switch records its intent).
pub async fn set_sync(
    State(s): State<AppState>,
    Posted { who, fields, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = who.session.tenant.clone();
    let on = fields.get("on") == Some("1");
    s.admin
        .tenants
        .set_sync(&t, on)
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(tenant = %t, user = %who.session.user, on, "synchronization switched in the console");
    let state = if on { "on" } else { "off" };
    super::note(&s, &who, Kind::Admin, "synchronization switched", "", state).await;
    let admin = s.admin.clone();
    let tenant = t.clone();
    tokio::spawn(async move {
        match admin.drain(&tenant).await {
            Ok(d) => tracing::info!(tenant = %tenant, changed = d.changed, "switch derived"),
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %e, "deriving after the switch failed; the reconciler retries")
            }
        }
    });
    let state = if on { "on" } else { "off" };
    Ok(Redirect::to(&format!("/console/integrations?sync={state}")).into_response())
}

/// `POST /console/integrations/tokens` (`name`): makes a token and shows it once.
pub async fn new_token(
    State(s): State<AppState>,
    Posted {
        who,
        fields,
        origin,
    }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let name = fields.get("name").unwrap_or_default();
    let token = s
        .tokens
        .issue_named(t, name)
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(tenant = %t, user = %who.session.user, token = %token.id, "SCIM token made in the console");
    super::note(&s, &who, Kind::Admin, "SCIM token made", &token.id, "ok").await;
    Ok(html(&Secret {
        chrome: Some(who.chrome),
        heading: "New SCIM token".into(),
        fields: vec![
            (
                "scim-url".into(),
                "Tenant URL".into(),
                format!("{origin}/tenants/{t}/scim/v2"),
            ),
            ("secret".into(), "Secret token".into(), token.token),
        ],
        back_href: "/console/integrations".into(),
        back_label: "Integrations".into(),
    }))
}

/// `POST /console/integrations/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Posted { who, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let name = s
        .tokens
        .list(t)
        .await
        .map_err(Refusal::internal)?
        .into_iter()
        .find(|token| token.id == id)
        .map(|token| token.name);
    let Some(name) = name else {
        return Err(Refusal::not_found());
    };
    s.tokens.revoke(t, &id).await.map_err(Refusal::internal)?;
    tracing::info!(tenant = %t, user = %who.session.user, token = %id, "SCIM token revoked in the console");
    super::note(&s, &who, Kind::Admin, "SCIM token revoked", &id, "ok").await;
    let back = format!(
        "/console/integrations?revoked={}",
        crate::text::percent_encode(&name)
    );
    Ok(Redirect::to(&back).into_response())
}

/// Groups whose members the status counts, at most.
const GROUPS_COUNTED: usize = 1000;

/// The members of the tenant's groups, summed over its first [`GROUPS_COUNTED`] groups, and
/// whether that was all of them.
async fn group_members(
    s: &AppState,
    t: &crate::ids::TenantId,
) -> Result<(u64, bool), crate::store::StoreError> {
    use futures_util::future::try_join_all;
    let all = SkRange::Prefix(keys::GROUP_PREFIX.into());
    let shards = keys::groups_shards(t);
    let (groups, more) = first_merged(&*s.table, &shards, &all, GROUPS_COUNTED).await?;
    let members = SkRange::Prefix(keys::MEMBER_PREFIX.into());
    let mut total = 0;
    for chunk in groups.chunks(16) {
        let counts = chunk.iter().map(|item| {
            let id = &item.key.sk[keys::GROUP_PREFIX.len()..];
            let shards = keys::group_members_shards(t, id);
            let members = &members;
            async move { count_merged(&*s.table, &shards, members).await }
        });
        total += try_join_all(counts).await?.iter().sum::<u64>();
    }
    Ok((total, !more))
}
