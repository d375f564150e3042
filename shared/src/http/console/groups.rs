//! The group mapping page (tenant administrators only): every group the identity provider
//! pushed, with its member count and its mappings; unmapped groups stand out; mappings by name
//! for groups not pushed yet. Changes go through the same code as `muster mapping` and the
//! operator API, members re-derived after the answer.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::form::{Fields, Posted};
use super::views::Chrome;
use super::{Refusal, Signed, html};
use crate::activity::Kind;
use crate::admin::AdminError;
use crate::community::{GroupSelector, Role};
use crate::http::AppState;
use crate::store::{SkRange, keys};
use crate::text::percent_encode;
use crate::unicode::fold;

/// Groups per page.
const PER_PAGE: usize = 50;

/// A group as the table shows it.
pub struct GroupLine {
    pub id: String,
    pub name: String,
    pub members: u64,
    /// (community id, community name, role, mapped by name).
    pub mappings: Vec<(String, String, String, bool)>,
}

#[derive(Template)]
#[template(path = "console/groups.html")]
struct Groups {
    chrome: Option<Chrome>,
    csrf: String,
    notice: Option<String>,
    communities: Vec<(String, String)>,
    groups: Vec<GroupLine>,
    /// Mappings by name that no pushed group matches: (name, community id, community, role).
    pending: Vec<(String, String, String, String)>,
    next_href: Option<String>,
}

/// `GET /console/integrations/groups?after=…`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = &who.session.tenant;
    let communities: Vec<(String, String)> = s
        .communities
        .list(t)
        .await
        .map_err(Refusal::internal)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let community_name = |id: &str| {
        communities
            .iter()
            .find(|(c, _)| c == id)
            .map_or_else(|| id.to_owned(), |(_, n)| n.clone())
    };
    let mappings = s.admin.mappings(t).await.map_err(Refusal::internal)?;
    let after = q.get("after").cloned().unwrap_or_default();
    let range = SkRange::Between {
        from: format!("{}{after}", keys::GROUP_PREFIX),
        to: "GROUP$".into(),
    };
    let shards = keys::groups_shards(t);
    let (items, _) = crate::store::first_merged(&*s.table, &shards, &range, PER_PAGE + 2)
        .await
        .map_err(Refusal::internal)?;
    let mut groups = Vec::new();
    let mut names_seen = Vec::new();
    for item in items
        .iter()
        .filter(|i| i.key.sk[keys::GROUP_PREFIX.len()..] != *after)
    {
        if groups.len() == PER_PAGE {
            break;
        }
        let doc: Value = serde_json::from_slice(&item.body).map_err(Refusal::internal)?;
        let id = doc["id"].as_str().unwrap_or_default().to_owned();
        let name = doc["displayName"].as_str().unwrap_or_default().to_owned();
        let members_range = SkRange::Prefix(keys::MEMBER_PREFIX.into());
        let shards = keys::group_members_shards(t, &id);
        let members = crate::store::count_merged(&*s.table, &shards, &members_range)
            .await
            .map_err(Refusal::internal)?;
        let mine = mappings.iter().filter_map(|m| {
            let by_name = match &m.group {
                GroupSelector::Id(g) if *g == id => false,
                GroupSelector::DisplayName(n) if fold(n) == fold(&name) => true,
                _ => return None,
            };
            Some((
                m.community.clone(),
                community_name(&m.community),
                m.role.to_string(),
                by_name,
            ))
        });
        names_seen.push(fold(&name));
        groups.push(GroupLine {
            mappings: mine.collect(),
            id,
            name,
            members,
        });
    }
    let more = items.len() > groups.len() + usize::from(!after.is_empty());
    let next_href = (more && groups.len() == PER_PAGE).then(|| {
        let last = &groups[groups.len() - 1].id;
        format!(
            "/console/integrations/groups?after={}",
            percent_encode(last)
        )
    });
    let mut pending = Vec::new();
    for m in &mappings {
        if let GroupSelector::DisplayName(n) = &m.group {
            let pushed = s.admin.group_named(t, n).await.map_err(Refusal::internal)?;
            if !pushed {
                pending.push((
                    n.clone(),
                    m.community.clone(),
                    community_name(&m.community),
                    m.role.to_string(),
                ));
            }
        }
    }
    let notice = q.get("notice").cloned();
    Ok(html(&Groups {
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        notice,
        communities,
        groups,
        pending,
        next_href,
    }))
}

fn selector(fields: &Fields) -> Result<GroupSelector, Refusal> {
    let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    match (get("group_id"), get("group_name")) {
        (Some(id), None) => Ok(GroupSelector::Id(id.to_owned())),
        (None, Some(name)) => Ok(GroupSelector::DisplayName(name.to_owned())),
        _ => Err(Refusal::page(
            axum::http::StatusCode::BAD_REQUEST,
            "Which group?",
            "Name the group to map.",
            None,
        )),
    }
}

fn refused(e: AdminError) -> Refusal {
    match e {
        AdminError::NotFound(m) | AdminError::Invalid(m) | AdminError::Conflict(m) => {
            Refusal::page(axum::http::StatusCode::BAD_REQUEST, "Not changed", &m, None)
        }
        e => Refusal::internal(e),
    }
}

/// `POST /console/integrations/groups` (`group_id` or `group_name`, `community`, `role`).
pub async fn set(
    State(s): State<AppState>,
    Posted { who, fields, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = who.session.tenant.clone();
    let group = selector(&fields)?;
    let role: Role = fields
        .get("role")
        .unwrap_or("member")
        .parse()
        .map_err(|m: String| {
            Refusal::page(axum::http::StatusCode::BAD_REQUEST, "Not changed", &m, None)
        })?;
    let community = fields.get("community").unwrap_or_default().to_owned();
    let (mapping, rederive) = s
        .admin
        .set_mapping(&t, group, &community, role)
        .await
        .map_err(refused)?;
    tracing::info!(tenant = %t, user = %who.session.user, ?mapping, "group mapping set in the console");
    let what = format!(
        "{:?} -> {} ({})",
        mapping.group, mapping.community, mapping.role
    );
    super::note(&s, &who, Kind::Admin, "group mapping set", &what, "ok").await;
    crate::http::admin::rederive_in_background(&s, t, rederive);
    let notice = "Mapping saved: the group's members get their access in a moment.";
    Ok(Redirect::to(&format!(
        "/console/integrations/groups?notice={}",
        percent_encode(notice)
    ))
    .into_response())
}

/// `POST /console/integrations/groups/remove` (`group_id` or `group_name`, `community`).
pub async fn remove(
    State(s): State<AppState>,
    Posted { who, fields, .. }: Posted,
) -> Result<Response, Refusal> {
    who.tenant_admin()?;
    let t = who.session.tenant.clone();
    let group = selector(&fields)?;
    let community = fields.get("community").unwrap_or_default().to_owned();
    let rederive = s
        .admin
        .remove_mapping(&t, group, &community)
        .await
        .map_err(refused)?;
    tracing::info!(tenant = %t, user = %who.session.user, community = %community, "group mapping removed in the console");
    super::note(
        &s,
        &who,
        Kind::Admin,
        "group mapping removed",
        &community,
        "ok",
    )
    .await;
    crate::http::admin::rederive_in_background(&s, t, rederive);
    let notice = "Mapping removed: the access it gave ends in a moment.";
    Ok(Redirect::to(&format!(
        "/console/integrations/groups?notice={}",
        percent_encode(notice)
    ))
    .into_response())
}
