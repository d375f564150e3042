//! The activity page (tenant administrators only): the tenant's log, newest first, filtered
//! by kind, actor and resource, a page at a time.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::views::{self, Chrome};
use super::{Refusal, Signed, html};
use crate::activity::{Filter, Kind, RETENTION_DAYS};
use crate::http::AppState;
use crate::text::percent_encode;

/// Entries per page.
const PER_PAGE: usize = 50;

#[derive(Template)]
#[template(path = "console/activity.html")]
struct Page {
    chrome: Option<Chrome>,
    retention: i64,
    kinds: Vec<(String, String, bool)>,
    actor: String,
    resource: String,
    filtered: bool,
    events: Vec<(String, String, String, String, String, String)>,
    next_href: Option<String>,
}

/// The filter a query string states.
pub fn filter_of(q: &HashMap<String, String>) -> Filter {
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Filter {
        kind: get("kind").and_then(|k| Kind::parse(&k)),
        actor: get("actor"),
        resource: get("resource"),
    }
}

/// `GET /console/activity?kind=…&actor=…&resource=…&cursor=…`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let filter = filter_of(&q);
    let cursor = q
        .get("cursor")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let (events, next) = s
        .activity
        .page(t, &filter, cursor, PER_PAGE)
        .await
        .map_err(|_| Refusal::not_found())?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        if !names.contains_key(&e.actor) {
            let label = if e.kind == Kind::Scim || e.actor == "operator" {
                e.actor.clone()
            } else {
                views::user_label(&s, t, &e.actor)
                    .await
                    .map_err(Refusal::internal)?
            };
            names.insert(e.actor.clone(), label);
        }
        let when = super::integrations::moment_text(&e.at);
        rows.push((
            when,
            e.kind.as_str().replace('_', " "),
            names[&e.actor].clone(),
            e.action,
            e.resource,
            e.result,
        ));
    }
    let mut kinds = vec![("".to_owned(), "Any kind".to_owned(), filter.kind.is_none())];
    for k in Kind::ALL {
        kinds.push((
            k.as_str().to_owned(),
            k.as_str().replace('_', " "),
            filter.kind == Some(k),
        ));
    }
    let next_href = next.map(|c| {
        let mut href = format!("/console/activity?cursor={}", percent_encode(&c));
        for (k, v) in [
            ("kind", filter.kind.map(Kind::as_str).unwrap_or("")),
            ("actor", filter.actor.as_deref().unwrap_or("")),
            ("resource", filter.resource.as_deref().unwrap_or("")),
        ] {
            if !v.is_empty() {
                href.push_str(&format!("&{k}={}", percent_encode(v)));
            }
        }
        href
    });
    Ok(html(&Page {
        chrome: Some(who.chrome),
        retention: RETENTION_DAYS,
        filtered: filter.kind.is_some() || filter.actor.is_some() || filter.resource.is_some(),
        actor: filter.actor.unwrap_or_default(),
        resource: filter.resource.unwrap_or_default(),
        kinds,
        events: rows,
        next_href,
    }))
}
