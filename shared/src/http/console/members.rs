//! The console's home page (the communities an administrator manages) and a community's
//! member table with its invitation actions.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::form::Posted;
use super::views::{self, CommunityLine, MemberLine};
use super::{Refusal, Signed, html};
use crate::activity::Kind;
use crate::community::{Memberships, Status};
use crate::console::history::all_imports;
use crate::console::members::{MemberQuery, Origin, SCAN_BUDGET, page};
use crate::http::AppState;
use crate::import::invite_pending;
use crate::store::{SkRange, keys};
use crate::text::percent_encode;

/// Rows per page of the member table.
const PER_PAGE: usize = 50;

/// How a status reads in the table.
fn status_label(s: Status) -> &'static str {
    match s {
        Status::Invited => "Pending invitation",
        Status::InvitationSent => "Invitation sent",
        Status::Active => "Active",
    }
}

fn status_param(s: Status) -> &'static str {
    match s {
        Status::Invited => "invited",
        Status::InvitationSent => "invitation_sent",
        Status::Active => "active",
    }
}

fn parse_status(s: &str) -> Option<Status> {
    [Status::Invited, Status::InvitationSent, Status::Active]
        .into_iter()
        .find(|x| status_param(*x) == s)
}

/// `GET /console/`: the communities in scope with their counts and last import.
pub async fn home(State(s): State<AppState>, who: Signed) -> Result<Response, Refusal> {
    let t = &who.session.tenant;
    let memberships = Memberships::new(s.table.clone());
    let imports = all_imports(&s.table, t).await.map_err(Refusal::internal)?;
    let mut communities = Vec::new();
    for id in who.scope.communities() {
        let Some(c) = s.communities.get(t, id).await.map_err(Refusal::internal)? else {
            continue;
        };
        let shards = keys::community_members_shards(t, id);
        let range = SkRange::Prefix(keys::MEMBER_PREFIX.into());
        let members = crate::store::count_merged(&*s.table, &shards, &range)
            .await
            .map_err(Refusal::internal)?;
        let pending = memberships
            .with_status(t, id, Status::Invited)
            .await
            .map_err(Refusal::internal)?
            .len() as u64;
        let last_import = imports.iter().find(|j| j.applied_to(id)).map_or_else(
            || "never".to_owned(),
            |j| {
                format!(
                    "{} · {} {}",
                    j.created_at
                        .get(..16)
                        .unwrap_or(&j.created_at)
                        .replace('T', " "),
                    j.mode,
                    j.state
                )
            },
        );
        communities.push(CommunityLine {
            id: c.id,
            name: c.name,
            members,
            pending,
            last_import,
        });
    }
    communities.sort_by_key(|c| c.name.to_lowercase());
    Ok(html(&views::Home {
        tenant_id: t.to_string(),
        tenant_admin: who.scope.is_tenant(),
        chrome: Some(who.chrome),
        communities,
    }))
}

/// The link to a filtered page starting after `after`.
fn href(id: &str, q: &MemberQuery, after: &str) -> String {
    let mut out = format!("/console/communities/{}?", percent_encode(id));
    if !q.search.is_empty() {
        out.push_str(&format!("q={}&", percent_encode(&q.search)));
    }
    if let Some(s) = q.status {
        out.push_str(&format!("status={}&", status_param(s)));
    }
    if let Some(o) = q.origin {
        out.push_str(&format!("source={}&", o.as_str()));
    }
    out.push_str(&format!("after={}", percent_encode(after)));
    out
}

/// `GET /console/communities/{id}`: the member table, searched, filtered and paged.
pub async fn community(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.may_manage(&id)?;
    let t = &who.session.tenant;
    let Some(c) = s.communities.get(t, &id).await.map_err(Refusal::internal)? else {
        return Err(Refusal::not_found());
    };
    let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let q = MemberQuery {
        search: get("q").unwrap_or_default().chars().take(200).collect(),
        status: get("status").and_then(parse_status),
        origin: get("source").and_then(Origin::parse),
        after: get("after").map(str::to_owned),
        limit: PER_PAGE,
    };
    let found = page(&s.table, t, &id, &q)
        .await
        .map_err(Refusal::internal)?;
    let rows = found
        .rows
        .iter()
        .map(|r| MemberLine {
            user: r.user.clone(),
            name: r.name.clone(),
            email: r.email.clone(),
            matricule: r.matricule.clone(),
            role: r.role.to_string(),
            status: status_label(r.status).to_owned(),
            pending: r.status == Status::Invited,
            origins: r
                .origins
                .iter()
                .map(|o| match o {
                    Origin::Group => "group mapping",
                    Origin::File => "file",
                    Origin::Manual => "manual",
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let option = |value: &str, label: &str, on: bool| (value.to_owned(), label.to_owned(), on);
    let mut status_options = vec![option("", "Any status", q.status.is_none())];
    for st in [Status::Invited, Status::InvitationSent, Status::Active] {
        status_options.push(option(
            status_param(st),
            status_label(st),
            q.status == Some(st),
        ));
    }
    let mut source_options = vec![option("", "Any source", q.origin.is_none())];
    for (o, label) in [
        (Origin::Group, "Group mapping"),
        (Origin::File, "File"),
        (Origin::Manual, "Manual"),
    ] {
        source_options.push(option(o.as_str(), label, q.origin == Some(o)));
    }
    let notice = params.get("invited").map(|n| match n.as_str() {
        "0" => "No invitation was sent: no selected member was waiting for one.".to_owned(),
        "1" => "1 invitation sent.".to_owned(),
        n => format!("{n} invitations sent."),
    });
    Ok(html(&views::Community {
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        name: c.name,
        notice,
        filtered: !q.search.is_empty() || q.status.is_some() || q.origin.is_some(),
        next_href: found.next.as_deref().map(|after| href(&id, &q, after)),
        paged: q.after.is_some(),
        q: q.search.clone(),
        status_options,
        source_options,
        rows,
        budget_spent: found.budget_spent,
        scan_budget: SCAN_BUDGET,
        id,
    }))
}

/// `POST /console/communities/{id}/invitations`: sends the invitations of the selected
/// pending members (`user` fields), or of every pending member (`all=1`), through the same
/// code as `POST /v1/communities/{id}/invitations`; then back to the table.
pub async fn invite(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Posted { who, fields, .. }: Posted,
) -> Result<Response, Refusal> {
    who.may_manage(&id)?;
    let Some(imports) = s.imports.as_ref() else {
        return Err(Refusal::internal("invitations need the import wiring"));
    };
    let selected = fields.all("user");
    let only = (fields.get("all") != Some("1")).then_some(selected.as_slice());
    let t = &who.session.tenant;
    let sent = invite_pending(&s.table, &*imports.notifier, t, &id, only)
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(tenant = %t, community = %id, user = %who.session.user, sent = sent.len(), "console invitations sent");
    let sent_count = sent.len().to_string();
    super::note(
        &s,
        &who,
        Kind::Invitation,
        "invitations sent",
        &id,
        &sent_count,
    )
    .await;
    let back = format!(
        "/console/communities/{}?invited={}",
        percent_encode(&id),
        sent.len()
    );
    Ok(Redirect::to(&back).into_response())
}
