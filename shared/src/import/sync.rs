//! The syncing pass: rows are applied in chunks, members in parallel within a chunk, each
//! chunk recorded by a checkpoint so a redelivered message or a restarted worker applies and
//! counts nothing twice. Unchanged rows write nothing.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::Mode;
use super::check::Checked;
use super::jobs::Job;
use super::reader::{Columns, Row};
use super::report::{Tally, merge};
use super::worker::ImportContext;
use crate::community::{Change, Role, Source};
use crate::scim::Preconditions;
use crate::scim::schema::{ENTERPRISE_SCHEMA, USER_SCHEMA};
use crate::store::StoreError;

/// Rows per checkpointed chunk.
pub const CHUNK_ROWS: usize = 1000;
/// Members applied together within a chunk (their writes share commits).
const PARALLEL: usize = 256;

fn internal(e: crate::scim::ScimError) -> StoreError {
    StoreError::Backend(format!("{} {}", e.status, e.detail))
}

fn user_body(columns: &Columns, row: &Row) -> Value {
    let cell = |n: &str| row.cell(columns, n);
    let mut body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "userName": cell("email"),
        "active": true,
        "name": {"givenName": cell("first_name"), "familyName": cell("last_name")},
        "emails": [{"value": cell("email"), "type": "work", "primary": true}],
        ENTERPRISE_SCHEMA: {"employeeNumber": cell("matricule")},
    });
    if !cell("title").is_empty() {
        body["title"] = json!(cell("title"));
    }
    if !cell("phone").is_empty() {
        body["phoneNumbers"] = json!([{"value": cell("phone"), "type": "work"}]);
    }
    body
}

/// The replace operations that bring an existing user in line with the row (none if equal).
fn changes(existing: &Value, wanted: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    for key in ["userName", "emails", "title", "phoneNumbers"] {
        if wanted.get(key).is_some() && existing.get(key) != wanted.get(key) {
            ops.push(json!({"op": "replace", "path": key, "value": wanted[key]}));
        }
    }
    for sub in ["givenName", "familyName"] {
        if existing["name"][sub] != wanted["name"][sub] {
            ops.push(json!({"op": "replace", "path": format!("name.{sub}"), "value": wanted["name"][sub]}));
        }
    }
    ops
}

/// Creates or updates the member of `rows` (one matricule) and grants its memberships.
async fn upsert_member(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: &[Row],
) -> Result<Tally, StoreError> {
    let t = &job.tenant;
    let wanted = user_body(columns, &rows[0]);
    let matricule = rows[0].cell(columns, "matricule");
    let mut known = checked.members.get(matricule).cloned();
    let mut changed = false;
    if known.is_none() {
        match ctx.users.create(t, wanted.clone()).await {
            Ok(u) => known = Some(u.id),
            Err(e) if e.status.as_u16() == 409 => {}
            Err(e) => return Err(internal(e)),
        }
        changed = known.is_some();
    }
    let user = match known {
        Some(u) => u,
        None => ctx
            .users
            .by_employee_number(t, matricule)
            .await
            .map_err(internal)?
            .ok_or_else(|| StoreError::Backend(format!("member {matricule} vanished")))?,
    };
    if !changed {
        let existing = ctx.users.get(t, &user).await.map_err(internal)?;
        let ops = changes(&Value::Object(existing.doc), &wanted);
        if !ops.is_empty() {
            let patch = json!({"schemas": [crate::scim::patch::PATCH_SCHEMA], "Operations": ops});
            ctx.users
                .patch(t, &user, patch, &Preconditions::default())
                .await
                .map_err(internal)?;
            changed = true;
        }
    }
    let mut tally = Tally::new();
    for row in rows {
        let Some((community, _)) = checked.community(row.cell(columns, "community")).cloned()
        else {
            continue;
        };
        let role: Role = row
            .cell(columns, "role")
            .parse()
            .map_err(StoreError::Backend)?;
        let change = ctx
            .memberships
            .grant(t, &user, &community, Source::File { role })
            .await?;
        let counts = tally.entry(community).or_default();
        match change {
            Change::Created => counts[0] += 1,
            Change::Updated => counts[1] += 1,
            _ if changed => counts[1] += 1,
            _ => {}
        }
    }
    Ok(tally)
}

/// Removes the file source of the listed memberships; counts the memberships that end.
pub async fn remove(
    ctx: &ImportContext,
    job: &Job,
    pairs: &[(String, String)],
) -> Result<Tally, StoreError> {
    let origin = Source::File { role: Role::Member };
    let mut tally = Tally::new();
    for batch in pairs.chunks(PARALLEL) {
        let work: Vec<_> = batch
            .iter()
            .map(|(user, community)| {
                ctx.memberships
                    .revoke(&job.tenant, user, community, &origin)
            })
            .collect();
        for ((_, community), change) in batch.iter().zip(join_all(work).await) {
            if change? == Change::Deleted {
                tally.entry(community.clone()).or_default()[2] += 1;
            }
        }
    }
    Ok(tally)
}

/// Applies one chunk of rows.
pub async fn apply_chunk(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: Vec<Row>,
) -> Result<Tally, StoreError> {
    if job.mode == Mode::Delete {
        let pairs: Vec<(String, String)> = rows
            .iter()
            .filter_map(|r| {
                let user = checked.members.get(r.cell(columns, "matricule"))?;
                let (community, _) = checked.community(r.cell(columns, "community"))?;
                Some((user.clone(), community.clone()))
            })
            .collect();
        return remove(ctx, job, &pairs).await;
    }
    let mut by_member: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in rows {
        by_member
            .entry(row.cell(columns, "matricule").to_owned())
            .or_default()
            .push(row);
    }
    let members: Vec<&Vec<Row>> = by_member.values().collect();
    let mut tally = Tally::new();
    for batch in members.chunks(PARALLEL) {
        let work: Vec<_> = batch
            .iter()
            .map(|rows| upsert_member(ctx, job, checked, columns, rows))
            .collect();
        for r in join_all(work).await {
            merge(&mut tally, &r?);
        }
    }
    Ok(tally)
}
