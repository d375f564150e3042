//! Planning a chunk: what applying it would create, update and delete in each community,
//! worked out from read-only lookups of the state before its first write, with the writes
//! that make it so. The syncing pass records this forecast and then carries the plan out; a
//! dry run reports the forecast and writes nothing.

use std::collections::HashMap;

use super::Mode;
use super::check::Checked;
use super::jobs::Job;
use super::reader::{Columns, Row};
use super::report::Tally;
use super::worker::ImportContext;
use crate::community::{Change, Edit, MembershipEdit, Role, Source};
use crate::directory::{DirectoryError, NewUser, UserChange};

/// A member's memberships as the file states them: (community id, role) per row.
pub type Grants = Vec<(String, Role)>;

/// What one chunk would change, and the writes that make it so.
#[derive(Default)]
pub struct ChunkPlan {
    /// The forecast: per community id, the memberships created, updated and deleted.
    pub planned: Tally,
    /// Existing members (user ids) with the change each needs (empty when in line).
    pub changes: Vec<(String, UserChange)>,
    /// Members to create, each with its memberships.
    pub new: Vec<(NewUser, Grants)>,
    /// The membership edits of existing members that change something.
    pub edits: Vec<MembershipEdit>,
}

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

/// The memberships a member's rows grant.
fn grants_of(
    checked: &Checked,
    columns: &Columns,
    rows: &[&Row],
) -> Result<Grants, DirectoryError> {
    let mut grants = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some((community, _)) = checked.community(row.cell(columns, "community")) {
            let role: Role = row
                .cell(columns, "role")
                .parse()
                .map_err(DirectoryError::Invalid)?;
            grants.push((community.clone(), role));
        }
    }
    Ok(grants)
}

/// A dry run's account of what its earlier chunks would have written to members: each
/// member's attributes as its rows so far state them, merged as the directory stores them.
/// A real run reads a member back from the directory after an earlier chunk changed it; a
/// dry run, which writes nothing, reads it through this, so that a member whose rows fall in
/// several chunks is counted as the real run counts it.
#[derive(Default)]
pub struct Unwritten {
    members: HashMap<String, NewUser>,
}

impl Unwritten {
    /// Takes in the members a chunk of rows states (planned, or counted by an earlier run).
    pub fn note(&mut self, columns: &Columns, rows: &[Row]) {
        for (matricule, rows) in by_matricule(columns, rows) {
            let mut wanted = new_user(columns, rows[0]);
            if let Some(earlier) = self.members.remove(matricule) {
                // An attribute a row leaves out is left alone (see `NewUser::change_from`).
                let stated = |v: &Option<String>| v.as_ref().is_some_and(|v| !v.trim().is_empty());
                if !stated(&wanted.title) {
                    wanted.title = earlier.title;
                }
                if !stated(&wanted.phone) {
                    wanted.phone = earlier.phone;
                }
            }
            self.members.insert(matricule.to_owned(), wanted);
        }
    }

    /// The change that brings `doc` (as stored) in line with `wanted`, as it would be once
    /// the earlier chunks were written.
    fn change(&self, doc: crate::directory::Document, wanted: &NewUser) -> UserChange {
        let earlier = wanted
            .employee_number
            .as_deref()
            .and_then(|m| self.members.get(m));
        match earlier {
            Some(earlier) => {
                let mut doc = doc;
                earlier.change_from(&doc).apply(&mut doc);
                wanted.change_from(&doc)
            }
            None => wanted.change_from(&doc),
        }
    }
}

/// The changes that bring the existing users in line with their rows (empty for a user
/// already in line), from one batched read. A user deleted since it was looked up makes the
/// chunk [`DirectoryError::Stale`]: it is planned again from a fresh look.
async fn user_changes(
    ctx: &ImportContext,
    job: &Job,
    ids: &[String],
    wanted: &[NewUser],
    unwritten: Option<&Unwritten>,
) -> Result<Vec<UserChange>, DirectoryError> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let current = ctx.users.stated_many(&job.tenant, &ids).await?;
    current
        .into_iter()
        .zip(wanted)
        .map(|(user, wanted)| {
            let doc = user.ok_or(DirectoryError::Stale)?;
            Ok(match unwritten {
                Some(unwritten) => unwritten.change(doc, wanted),
                None => wanted.change_from(&doc),
            })
        })
        .collect()
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

/// Plans the rows of an UPSERT or a MIRROR: a new member's memberships are all created; an
/// existing member's are what the membership preview says, and each counts as updated when
/// only the member's own attributes change.
async fn plan_rows(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: &[Row],
    unwritten: Option<&Unwritten>,
) -> Result<ChunkPlan, DirectoryError> {
    let t = &job.tenant;
    let members = by_matricule(columns, rows);
    let numbers: Vec<&str> = members.iter().map(|(m, _)| *m).collect();
    let owners = ctx.users.by_employee_numbers(t, &numbers).await?;
    let mut plan = ChunkPlan::default();
    let (mut old, mut old_wanted, mut old_grants) = (Vec::new(), Vec::new(), Vec::new());
    for (owner, (_, rows)) in owners.into_iter().zip(&members) {
        let wanted = new_user(columns, rows[0]);
        let grants = grants_of(checked, columns, rows)?;
        match owner {
            Some(id) => {
                old.push(id);
                old_wanted.push(wanted);
                old_grants.push(grants);
            }
            None => {
                for (community, _) in &grants {
                    plan.planned.entry(community.clone()).or_default()[0] += 1;
                }
                plan.new.push((wanted, grants));
            }
        }
    }
    let changes = user_changes(ctx, job, &old, &old_wanted, unwritten).await?;
    let (mut edits, mut edit_changed) = (Vec::new(), Vec::new());
    for ((id, change), grants) in old.iter().zip(&changes).zip(&old_grants) {
        for (community, role) in grants {
            let edit = Edit::Grant(Source::File { role: *role });
            edits.push((id.clone(), community.clone(), edit));
            edit_changed.push(!change.is_empty());
        }
    }
    let preview = ctx.memberships.preview_many(t, &edits).await?;
    for (((_, community, _), change), changed) in edits.iter().zip(&preview).zip(edit_changed) {
        let counts = plan.planned.entry(community.clone()).or_default();
        match change {
            Change::Created => counts[0] += 1,
            Change::Updated => counts[1] += 1,
            _ if changed => counts[1] += 1,
            _ => {}
        }
    }
    plan.edits = changing(edits, preview);
    plan.changes = old.into_iter().zip(changes).collect();
    Ok(plan)
}

/// Plans the removal of the file source of the listed (user id, community id) memberships:
/// counts the memberships that would end (a membership with another source stays).
pub async fn plan_removal(
    ctx: &ImportContext,
    job: &Job,
    pairs: &[(String, String)],
) -> Result<ChunkPlan, DirectoryError> {
    let origin = Source::File { role: Role::Member };
    let edits: Vec<MembershipEdit> = pairs
        .iter()
        .map(|(u, c)| (u.clone(), c.clone(), Edit::Revoke(origin.clone())))
        .collect();
    let preview = ctx.memberships.preview_many(&job.tenant, &edits).await?;
    let mut plan = ChunkPlan::default();
    for ((_, community), change) in pairs.iter().zip(&preview) {
        if *change == Change::Deleted {
            plan.planned.entry(community.clone()).or_default()[2] += 1;
        }
    }
    plan.edits = changing(edits, preview);
    Ok(plan)
}

/// Plans one chunk of a job's rows, writing nothing: in UPSERT and MIRROR mode the members
/// it creates or updates and the memberships it grants, in DELETE mode the memberships it
/// removes. A real run passes no `unwritten`: the directory holds what earlier chunks wrote.
pub async fn plan_chunk(
    ctx: &ImportContext,
    job: &Job,
    checked: &Checked,
    columns: &Columns,
    rows: &[Row],
    unwritten: Option<&Unwritten>,
) -> Result<ChunkPlan, DirectoryError> {
    if job.mode != Mode::Delete {
        return plan_rows(ctx, job, checked, columns, rows, unwritten).await;
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
    plan_removal(ctx, job, &pairs).await
}
