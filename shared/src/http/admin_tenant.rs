//! Operator routes on one tenant beyond its records: the settings patch (the synchronization
//! switch), console sign-in links, and the activity entry of every operator change.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::admin::{Answer, ok, tenant};
use crate::ids::TenantId;

/// Appends every successful change the operator makes to a tenant to that tenant's activity
/// log (actor `operator`; the method and path, never the body).
pub(super) async fn recorded(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let tenant = path
        .strip_prefix("/tenants/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|t| TenantId::parse(t).ok());
    if let Some(t) = tenant
        && method != axum::http::Method::GET
        && response.status().is_success()
    {
        let what = format!("{method} /admin{path}");
        let event = crate::activity::Event::now(
            crate::activity::Kind::Admin,
            "operator",
            &what,
            &path,
            response.status().as_str(),
        );
        s.activity.record(&t, event).await;
    }
    response
}

#[derive(Deserialize)]
pub(super) struct ConsoleLinkBody {
    user: String,
}

/// `POST /admin/tenants/{t}/console-links` `{"user": "<id or userName>"}`: a one-time console
/// sign-in URL for a tenant or community administrator (201).
pub(super) async fn console_link(
    State(s): State<AppState>,
    Path(t): Path<String>,
    super::origin::RequestOrigin(origin): super::origin::RequestOrigin,
    Json(b): Json<ConsoleLinkBody>,
) -> Answer {
    let t = tenant(&t)?;
    let now = chrono::Utc::now().timestamp();
    let (user_id, link) = s.admin.console_link(&t, &b.user, now).await?;
    ok(
        StatusCode::CREATED,
        crate::console::link_json(&origin, &t, &user_id, &link),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantChange {
    sync: Option<bool>,
    auto_invite: Option<bool>,
}

/// `PATCH /admin/tenants/{t}` `{"sync": true|false, "auto_invite": true|false}`: the
/// synchronization switch, as `muster tenant set --sync` sets it (the mapped groups are
/// derived again at once), and automatic invitations (`--auto-invite`).
pub(super) async fn change_tenant(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Json(b): Json<TenantChange>,
) -> Answer {
    let t = tenant(&t)?;
    let mut tenant = s.admin.tenant(&t).await?;
    let mut changed = 0;
    if let Some(on) = b.sync {
        let (updated, drained) = s.admin.set_sync(&t, on).await?;
        tenant = updated;
        changed = drained.changed;
    }
    if let Some(on) = b.auto_invite {
        tenant = s
            .tenants
            .update(&t, |tenant| tenant.set_auto_invite(on))
            .await
            .map_err(crate::admin::AdminError::from)?
            .ok_or_else(|| crate::admin::AdminError::NotFound(format!("no tenant {t}")))?;
    }
    let mut body = serde_json::to_value(&tenant).unwrap_or_default();
    body["sync"] = json!(tenant.syncs());
    body["auto_invite"] = json!(tenant.auto_invites());
    body["users_changed"] = json!(changed);
    ok(StatusCode::OK, body)
}
