//! The syncing pass: rows are applied in chunks, each chunk in a few batched steps (look its
//! members up, create the new ones, update the changed ones, then apply every membership edit
//! together). Each chunk's counts are forecast and recorded before its first write, and the
//! chunk is checkpointed after its last, so a redelivered message or a restarted worker
//! applies and counts nothing twice. Unchanged rows write nothing.

use std::collections::HashMap;

use futures_util::future::join_all;

use super::Mode;
use super::check::Checked;
use super::jobs::Job;
use super::ledger::ChunkLedger;
use super::reader::{Columns, Row};
use super::report::Tally;
use super::worker::ImportContext;
use crate::community::{Change, Edit, MembershipEdit, Role, Source};
use crate::directory::{DirectoryError, NewUser, UserChange};
use crate::store::Write;

/// Rows per checkpointed chunk.
pub const CHUNK_ROWS: usize = 1000;

/// The user a row states.
fn new_user(columns: &Columns, row: &Row) -> NewUser {
    let cell = |n: &str| row.cell(columns, n).to_owned();
    let optional = |n: &str| Some(cell(n)).filter(|v| !v.is_empty());
    NewUser {
        user_name: cell("email"),
        given_name: cell("first_name"),
        family_name: cell("last_name"),
        employee_number: Some(cell("matricule")),
        title: optional("title"),
        phone: optional("phone"),
    }
}

/// The members of a chunk (rows grouped by matricule, in order of first appearance).
fn by_matricule<'r>(columns: &Columns, rows: &'r [Row]) -> Vec<(&'r str, Vec<&'r Row>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut members: Vec<(&str, Vec<&Row>)> = Vec::new();
    for row in rows {
        let matricule = row.cell(columns, "matricule");
        match index.get(matricule) {
            Some(&i) => members[i].1.push(row),
            None => {
                index.insert(matricule, members.len());
                members.push((matricule, vec![row]));
            }
        }
    }
    members
}

/// The changes that bring the existing users in line with their rows (empty for a user
/// already in line), from one batched read. A user deleted since it was looked up makes the
/// chunk [`DirectoryError::Stale`]: it is applied again from a fresh look.
async fn user_changes(
    ctx: &ImportContext,
    job: &Job,
    ids: &[&str],
    wanted: &[NewUser],
) -> Result<Vec<UserChange>, DirectoryError> {
    let current = ctx.users.get_many(&job.tenant, ids).await?;
    current
        .into_iter()
        .zip(wanted)
        .map(|(user, wanted)| {
            let user = user.ok_or(DirectoryError::Stale)?;
            Ok(wanted.change_from(&user.doc))
        })
        .collect()
}

/// Applies the changes of [`user_changes`] to the users they belong to.
async fn change_users(
    ctx: &ImportContext,
    job: &Job,
    ids: &[&str],
    changes: &[UserChange],
) -> Result<(), DirectoryError> {
    let work = ids
        .iter()
        .zip(changes)
        .filter(|(_, change)| !change.is_empty())
        .map(|(id, change)| ctx.users.apply(&job.tenant, id, change));
    for done in join_all(work).await {
        done?;
    }
    Ok(())
}

/// The edits their preview shows changing something; the others were seen in place and are
/// not sent.
fn changing(edits: Vec<MembershipEdit>, preview: Vec<Change>) -> Vec<MembershipEdit> {
    edits
        .into_iter()
        .zip(preview)
        .filter(|(_, change)| *change != Change::Unchanged)
        .map(|(edit, _)| edit)
        .collect()
}

/// A member's memberships as the file states them: (community id, role) per row.
type Grants = Vec<(String, Role)>;

/// Memberships written in the transaction that creates their member, up to this many (a
/// member of more communities gets the rest through [`Memberships::apply_many`]).
///
/// [`Memberships::apply_many`]: crate::community::Memberships::apply_many
const GRANTS_WITH_CREATE: usize = 16;

/// Creates the users of `wanted` together with their memberships (`grants`); answers each
/// one's id and whether its memberships were written with it. A member created meanwhile by
/// someone else (same matricule) is taken as is, its memberships left to the caller.
async fn create_new(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    wanted: &[NewUser],
    grants: &[&Grants],
) -> Result<Vec<(String, bool)>, DirectoryError> {
    let t = &job.tenant;
    let attach = |k: usize| grants[k].len() <= GRANTS_WITH_CREATE;
    let extra = |k: usize, id: &str| -> Vec<Write> {
        if !attach(k) {
            return Vec::new();
        }
        grants[k]
            .iter()
            .flat_map(|(community, role)| {
                let source = Source::File { role: *role };
                ctx.memberships.first_grant(t, id, community, source)
            })
            .collect()
    };
    let created = ctx
        .users
        .create_many(t, wanted, &checked.domains, &extra)
        .await?;
    let mut ids = Vec::with_capacity(created.len());
    for (k, (created, user)) in created.into_iter().zip(wanted).enumerate() {
        ids.push(match created {
            Ok(made) => (made.record.id, made.with_extra && attach(k)),
            Err(DirectoryError::Uniqueness(taken)) => {
                let number = [user.employee_number.as_deref().unwrap_or_default()];
                match ctx.users.by_employee_numbers(t, &number).await?.pop() {
                    Some(Some(id)) => (id, false),
                    _ => return Err(DirectoryError::Uniqueness(taken)),
                }
            }
            Err(e) => return Err(e),
        });
    }
    Ok(ids)
}

/// Creates or updates the members of a chunk, then grants their memberships.
async fn upsert_rows(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: &[Row],
    ledger: &ChunkLedger<'_>,
) -> Result<Tally, DirectoryError> {
    let t = &job.tenant;
    let members = by_matricule(columns, rows);
    let mut grants: Vec<Grants> = Vec::with_capacity(members.len());
    for (_, rows) in &members {
        let mut mine = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some((community, _)) = checked.community(row.cell(columns, "community")) {
                let role: Role = row
                    .cell(columns, "role")
                    .parse()
                    .map_err(DirectoryError::Invalid)?;
                mine.push((community.clone(), role));
            }
        }
        grants.push(mine);
    }
    let numbers: Vec<&str> = members.iter().map(|(m, _)| *m).collect();
    let owners = ctx.users.by_employee_numbers(t, &numbers).await?;
    // Each member's wanted user goes to the side it belongs to, existing or new.
    let (mut old, mut new) = (Vec::new(), Vec::new());
    let (mut old_wanted, mut new_wanted) = (Vec::new(), Vec::new());
    for (i, (owner, (_, rows))) in owners.iter().zip(&members).enumerate() {
        let wanted = new_user(columns, rows[0]);
        match owner {
            Some(id) => {
                old.push((i, id.as_str()));
                old_wanted.push(wanted);
            }
            None => {
                new.push(i);
                new_wanted.push(wanted);
            }
        }
    }
    let old_ids: Vec<&str> = old.iter().map(|(_, id)| *id).collect();
    let changes = user_changes(ctx, job, &old_ids, &old_wanted).await?;
    // The forecast, from the state before any write: a new member's memberships are all
    // created; an existing member's are what the preview says, and each counts as updated
    // when only the member's own attributes change.
    let mut planned = Tally::new();
    for i in &new {
        for (community, _) in &grants[*i] {
            planned.entry(community.clone()).or_default()[0] += 1;
        }
    }
    let mut edits: Vec<MembershipEdit> = Vec::new();
    let mut edit_changed = Vec::new();
    for ((i, id), change) in old.iter().zip(&changes) {
        for (community, role) in &grants[*i] {
            let edit = Edit::Grant(Source::File { role: *role });
            edits.push(((*id).to_owned(), community.clone(), edit));
            edit_changed.push(!change.is_empty());
        }
    }
    let preview = ctx.memberships.preview_many(t, &edits).await?;
    for (((_, community, _), change), changed) in edits.iter().zip(&preview).zip(edit_changed) {
        let counts = planned.entry(community.clone()).or_default();
        match change {
            Change::Created => counts[0] += 1,
            Change::Updated => counts[1] += 1,
            _ if changed => counts[1] += 1,
            _ => {}
        }
    }
    let tally = ledger.forecast(planned).await?;
    change_users(ctx, job, &old_ids, &changes).await?;
    let new_grants: Vec<&Grants> = new.iter().map(|i| &grants[*i]).collect();
    let created = create_new(ctx, job, checked, &new_wanted, &new_grants).await?;
    let mut edits = changing(edits, preview);
    for (k, (id, granted)) in created.into_iter().enumerate() {
        if !granted {
            for (community, role) in new_grants[k] {
                let edit = Edit::Grant(Source::File { role: *role });
                edits.push((id.clone(), community.clone(), edit));
            }
        }
    }
    ctx.memberships.apply_many(t, &edits).await?;
    Ok(tally)
}

/// Removes the file source of the listed (user id, community id) memberships; counts the
/// memberships that end (as forecast before the first write, see [`ChunkLedger`]).
pub async fn remove(
    ctx: &ImportContext,
    job: &Job,
    pairs: &[(String, String)],
    ledger: &ChunkLedger<'_>,
) -> Result<Tally, DirectoryError> {
    let origin = Source::File { role: Role::Member };
    let edits: Vec<MembershipEdit> = pairs
        .iter()
        .map(|(u, c)| (u.clone(), c.clone(), Edit::Revoke(origin.clone())))
        .collect();
    let preview = ctx.memberships.preview_many(&job.tenant, &edits).await?;
    let mut planned = Tally::new();
    for ((_, community), change) in pairs.iter().zip(&preview) {
        if *change == Change::Deleted {
            planned.entry(community.clone()).or_default()[2] += 1;
        }
    }
    let tally = ledger.forecast(planned).await?;
    let edits = changing(edits, preview);
    ctx.memberships.apply_many(&job.tenant, &edits).await?;
    Ok(tally)
}

/// Applies one chunk of rows.
pub async fn apply_chunk(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: Vec<Row>,
    ledger: &ChunkLedger<'_>,
) -> Result<Tally, DirectoryError> {
    if job.mode != Mode::Delete {
        return upsert_rows(ctx, job, checked, columns, &rows, ledger).await;
    }
    let numbers: Vec<&str> = rows.iter().map(|r| r.cell(columns, "matricule")).collect();
    let owners = ctx.users.by_employee_numbers(&job.tenant, &numbers).await?;
    let pairs: Vec<(String, String)> = rows
        .iter()
        .zip(owners)
        .filter_map(|(r, user)| {
            let (community, _) = checked.community(r.cell(columns, "community"))?;
            Some((user?, community.clone()))
        })
        .collect();
    remove(ctx, job, &pairs, ledger).await
}
