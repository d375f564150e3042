//! A community's import page (mode, template, file, preview, apply: the browser does the
//! API calls, see `assets/console/imports.js`), its import history, and one import's result.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::views::{self, HistoryLine};
use super::{Refusal, Signed, html};
use crate::console::history::imports_of;
use crate::http::AppState;

/// The modes, each explained in one sentence.
const MODES: [(&str, &str, &str); 3] = [
    (
        "UPSERT",
        "Add and update",
        "adds the members of the file who are missing and updates the others; nobody is removed.",
    ),
    (
        "MIRROR",
        "Mirror",
        "makes the community match the file: members missing from it are removed too, within the safety threshold.",
    ),
    (
        "DELETE",
        "Remove",
        "removes the members listed in the file; nobody is added or changed.",
    ),
];

/// Rows of errors per page of a job's page.
const ERRORS_PER_PAGE: u64 = 100;

fn when(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ") + " UTC"
}

fn result(state: &str, reason: Option<&str>) -> String {
    match (state, reason) {
        ("succeeded", _) => "Succeeded".into(),
        ("failed", Some(r)) => format!("Failed: {r}"),
        ("failed", None) => "Failed".into(),
        (other, _) => format!("In progress ({other})"),
    }
}

/// `GET /console/templates?operation=…&format=csv|xlsx`: a mode's empty file, as
/// `GET /v1/member_provisionings/templates` answers it, for a signed-in administrator.
pub async fn templates(_: Signed, q: Query<HashMap<String, String>>) -> Response {
    use axum::response::IntoResponse;
    match crate::http::v1::templates(q).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// `GET /console/communities/{id}/imports`.
pub async fn page(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    who.may_manage(&id)?;
    let t = &who.session.tenant;
    let Some(c) = s.communities.get(t, &id).await.map_err(Refusal::internal)? else {
        return Err(Refusal::not_found());
    };
    let mut history = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for job in imports_of(&s.table, t, &id)
        .await
        .map_err(Refusal::internal)?
        .into_iter()
        .take(50)
    {
        if !names.contains_key(&job.user) {
            let label = views::user_label(&s, t, &job.user)
                .await
                .map_err(Refusal::internal)?;
            names.insert(job.user.clone(), label);
        }
        history.push(HistoryLine {
            id: job.id,
            when: when(&job.created_at),
            who: names[&job.user].clone(),
            mode: job.mode,
            file: job.file_name,
            result: result(&job.state, job.reason.as_deref()),
        });
    }
    Ok(html(&views::Imports {
        user_id: who.session.user.clone(),
        csrf: who.session.csrf.clone(),
        chrome: Some(who.chrome),
        id,
        name: c.name,
        modes: MODES.to_vec(),
        history,
    }))
}

/// `GET /console/communities/{id}/imports/{job}?page=N`: one import's result, report and row
/// errors. Only for an administrator whose scope covers every community of the job.
pub async fn job(
    State(s): State<AppState>,
    who: Signed,
    Path((id, job_id)): Path<(String, u64)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    who.may_manage(&id)?;
    let t = &who.session.tenant;
    let Some(c) = s.communities.get(t, &id).await.map_err(Refusal::internal)? else {
        return Err(Refusal::not_found());
    };
    let Some(imports) = s.imports.as_ref() else {
        return Err(Refusal::not_found());
    };
    let Some(job) = imports
        .ctx
        .jobs
        .get(t, job_id)
        .await
        .map_err(Refusal::internal)?
    else {
        return Err(Refusal::not_found());
    };
    if !job.scope.contains(&id) {
        return Err(Refusal::not_found());
    }
    if !job.scope.iter().all(|c| who.scope.covers(c)) {
        return Err(Refusal::forbidden());
    }
    let page: u64 = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let data = &imports.ctx.data;
    let (report, _) = data
        .report(t, job_id, 1, 1000)
        .await
        .map_err(Refusal::internal)?;
    let (errors, total) = data
        .errors(t, job_id, page, ERRORS_PER_PAGE)
        .await
        .map_err(Refusal::internal)?;
    let state = serde_json::to_value(job.state).unwrap_or_default();
    let who_label = views::user_label(&s, t, &job.user_id)
        .await
        .map_err(Refusal::internal)?;
    let label = |code: &str| match code {
        "CREATE_MEMBER" => "Create".to_owned(),
        "UPDATE_MEMBER" => "Update".to_owned(),
        "DELETE_MEMBER" => "Delete".to_owned(),
        other => other.to_owned(),
    };
    let mode = serde_json::to_value(job.mode).unwrap_or_default();
    let c_counters = job.counters;
    Ok(html(&views::Job {
        chrome: Some(who.chrome),
        id,
        name: c.name,
        job_id,
        result: result(state.as_str().unwrap_or_default(), job.reason.as_deref()),
        mode: mode.as_str().unwrap_or_default().to_uppercase(),
        file: job.file_name.clone(),
        who: who_label,
        when: when(&job.created_at),
        rows: format!(
            "{} in the file, {} applied, {} rejected",
            c_counters.rows_total, c_counters.rows_applied, c_counters.rows_failed
        ),
        report: report
            .into_iter()
            .map(|r| {
                (
                    label(&r.code),
                    r.operation_data.name,
                    r.operation_data.value,
                )
            })
            .collect(),
        errors: errors
            .into_iter()
            .map(|e| (e.line, e.column, e.code, e.message))
            .collect(),
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page * ERRORS_PER_PAGE < total).then(|| page + 1),
    }))
}
