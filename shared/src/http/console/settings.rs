//! The tenant's settings (tenant administrators only): automatic invitations, the MIRROR
//! safety threshold, how long deleted users are kept, and the request limits; saved as
//! `muster tenant set` saves them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::{Fields, Posted};
use super::views::Chrome;
use super::{Refusal, Signed, html};
use crate::activity::Kind;
use crate::auth::{RequestLimits, Tenant};
use crate::http::AppState;

/// The form, as shown and as sent back with its errors.
#[derive(Default)]
pub struct Form {
    pub auto_invite: bool,
    pub mirror: String,
    pub retention: String,
    pub per_second: String,
    pub burst: String,
    pub concurrent: String,
    pub mirror_error: Option<String>,
    pub retention_error: Option<String>,
    pub limits_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/settings.html")]
struct Settings {
    chrome: Option<Chrome>,
    csrf: String,
    notice: Option<String>,
    form: Form,
    defaults: (u32, u32, u32),
}

fn form_of(t: &Tenant) -> Form {
    let limit = |f: fn(&RequestLimits) -> u32| {
        t.limits
            .as_ref()
            .map(f)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    Form {
        auto_invite: t.auto_invites(),
        mirror: t
            .mirror_threshold
            .map(|r| format!("{}", (r * 1000.0).round() / 10.0))
            .unwrap_or_default(),
        retention: t
            .deleted_user_retention_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        per_second: limit(|l| l.per_second),
        burst: limit(|l| l.burst),
        concurrent: limit(|l| l.concurrent),
        ..Form::default()
    }
}

fn render(who: Signed, notice: Option<String>, form: Form, status: StatusCode) -> Response {
    let d = RequestLimits::DEFAULT;
    let page = Settings {
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        notice,
        form,
        defaults: (d.per_second, d.burst, d.concurrent),
    };
    (status, html(&page)).into_response()
}

/// `GET /console/settings`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let tenant = s
        .admin
        .tenant(&who.session.tenant)
        .await
        .map_err(Refusal::internal)?;
    let notice = q
        .contains_key("saved")
        .then(|| "Settings saved.".to_owned());
    Ok(render(who, notice, form_of(&tenant), StatusCode::OK))
}

/// What a valid form sets: automatic invitations, the MIRROR threshold, the retention days,
/// the request limits.
type Chosen = (bool, Option<f64>, Option<u32>, Option<RequestLimits>);

/// The settings a form states, or the form with its errors.
fn parse(fields: &Fields) -> Result<Chosen, Box<Form>> {
    let text = |k: &str| fields.get(k).unwrap_or_default().trim().to_owned();
    let mut form = Form {
        auto_invite: fields.get("auto_invite").is_some(),
        mirror: text("mirror"),
        retention: text("retention"),
        per_second: text("per_second"),
        burst: text("burst"),
        concurrent: text("concurrent"),
        ..Form::default()
    };
    let mirror = match form.mirror.as_str() {
        "" => None,
        m => match m.parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Some(p / 100.0),
            _ => {
                form.mirror_error = Some("A percentage from 0 to 100.".into());
                None
            }
        },
    };
    let retention = match form.retention.as_str() {
        "" => None,
        d => match d.parse::<u32>() {
            Ok(days) if days <= 3650 => Some(days),
            _ => {
                form.retention_error = Some("A number of days from 0 to 3650.".into());
                None
            }
        },
    };
    let numbers: Vec<Option<u32>> = [&form.per_second, &form.burst, &form.concurrent]
        .iter()
        .map(|v| v.parse::<u32>().ok().filter(|n| *n > 0))
        .collect();
    let given = [&form.per_second, &form.burst, &form.concurrent]
        .iter()
        .filter(|v| !v.is_empty())
        .count();
    let limits = match given {
        0 => None,
        _ if numbers.iter().any(|n| n.is_none()) => {
            form.limits_error = Some(
                "Fill in all three with whole numbers above 0, or leave all three empty.".into(),
            );
            None
        }
        _ => Some(RequestLimits {
            per_second: numbers[0].unwrap_or(1),
            burst: numbers[1].unwrap_or(1),
            concurrent: numbers[2].unwrap_or(1),
        }),
    };
    if form.mirror_error.is_some() || form.retention_error.is_some() || form.limits_error.is_some()
    {
        return Err(Box::new(form));
    }
    Ok((form.auto_invite, mirror, retention, limits))
}

/// `POST /console/settings`.
pub async fn save(
    State(s): State<AppState>,
    Posted { who, fields, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let (invite, mirror, retention, limits) = match parse(&fields) {
        Ok(settings) => settings,
        Err(form) => return Ok(render(who, None, *form, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let t = who.session.tenant.clone();
    s.tenants
        .update(&t, |tenant| {
            tenant.set_auto_invite(invite);
            tenant.mirror_threshold = mirror;
            tenant.deleted_user_retention_days = retention;
            tenant.limits = limits;
        })
        .await
        .map_err(Refusal::internal)?;
    let summary = format!(
        "automatic invitations {invite}, mirror {mirror:?}, retention {retention:?}, limits {limits:?}"
    );
    super::note(&s, &who, Kind::Admin, "settings saved", "", &summary).await;
    Ok(Redirect::to("/console/settings?saved=1").into_response())
}
