//! The checking pass: every row is validated and resolved (community by name or id, member by
//! matricule) before anything is written; MIRROR deletions and their threshold are computed
//! here too, so a file that would remove too many members changes nothing.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::reader::{Columns, Row};
use super::report::RowError;
use super::worker::ImportContext;
use super::{Mode, jobs::Job};
use crate::community::Role;
use crate::store::{StoreError, keys};

/// What checking learned.
#[derive(Debug, Default)]
pub struct Checked {
    /// Data rows seen.
    pub rows_total: u64,
    /// Every rejected row.
    pub errors: Vec<RowError>,
    /// Community id by lowercased name and by id.
    pub communities: HashMap<String, (String, String)>,
    /// The existing user of each matricule of the file.
    pub members: HashMap<String, String>,
    /// (user id, community id) memberships a MIRROR must delete.
    pub deletions: Vec<(String, String)>,
    /// Members of the communities in scope before the import.
    pub members_in_scope: u64,
}

fn error(row: &Row, column: &str, code: &str, message: String) -> RowError {
    RowError {
        line: row.line,
        column: column.to_owned(),
        code: code.to_owned(),
        message,
    }
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254
}

impl Checked {
    /// The community id a cell names, if any.
    pub fn community(&self, cell: &str) -> Option<&(String, String)> {
        self.communities
            .get(&cell.to_lowercase())
            .or_else(|| self.communities.get(cell))
    }
}

/// Loads the tenant's communities, keyed by id and by lowercased name.
async fn communities(
    ctx: &ImportContext,
    job: &Job,
) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut map = HashMap::new();
    let list = ctx
        .communities
        .list(&job.tenant)
        .await
        .map_err(|e| StoreError::Backend(e.detail))?;
    for c in list {
        let name = c
            .doc
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        map.insert(c.id.clone(), (c.id.clone(), name.clone()));
        map.insert(name.to_lowercase(), (c.id.clone(), name));
    }
    Ok(map)
}

async fn index_owner(
    ctx: &ImportContext,
    key: crate::store::Key,
) -> Result<Option<String>, StoreError> {
    Ok(ctx
        .table
        .get(&key)
        .await?
        .and_then(|i| serde_json::from_slice::<Value>(&i.body).ok())
        .and_then(|v| v["id"].as_str().map(str::to_owned)))
}

/// Validates every row of the file.
pub async fn check(
    ctx: &ImportContext,
    job: &Job,
    columns: &Columns,
    rows: impl Iterator<Item = Row>,
    domains: &[String],
) -> Result<Checked, StoreError> {
    let mut out = Checked {
        communities: communities(ctx, job).await?,
        ..Checked::default()
    };
    let scope: HashSet<&str> = job.scope.iter().map(String::as_str).collect();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut identity: HashMap<String, (String, u64)> = HashMap::new();
    let mut keep: HashSet<(String, String)> = HashSet::new();
    let full = job.mode != Mode::Delete;
    for row in rows {
        out.rows_total += 1;
        if let Some(why) = &row.unreadable {
            out.errors
                .push(error(&row, "", "unreadable_row", why.clone()));
            continue;
        }
        let cell = |name: &str| row.cell(columns, name);
        let before = out.errors.len();
        let required: &[&str] = if full {
            &[
                "matricule",
                "email",
                "first_name",
                "last_name",
                "community",
                "role",
            ]
        } else {
            &["matricule", "community"]
        };
        for name in required {
            if cell(name).is_empty() {
                out.errors.push(error(
                    &row,
                    name,
                    "missing_value",
                    format!("{name} is empty"),
                ));
            }
        }
        let matricule = cell("matricule").to_owned();
        let community = match out.community(cell("community")).cloned() {
            Some(c) => Some(c),
            None if cell("community").is_empty() => None,
            None => {
                out.errors.push(error(
                    &row,
                    "community",
                    "unknown_community",
                    format!("no community named {:?} in this tenant", cell("community")),
                ));
                None
            }
        };
        if let Some((id, name)) = &community
            && !scope.contains(id.as_str())
        {
            out.errors.push(error(
                &row,
                "community",
                "community_out_of_scope",
                format!("the acting administrator does not administer {name:?}"),
            ));
        }
        if full {
            let email = cell("email");
            if !email.is_empty() && !valid_email(email) {
                out.errors.push(error(
                    &row,
                    "email",
                    "invalid_email",
                    format!("{email:?} is not an e-mail address"),
                ));
            } else if !email.is_empty()
                && !domains.is_empty()
                && !crate::auth::address_allowed(domains, email)
            {
                out.errors.push(error(
                    &row,
                    "email",
                    "email_domain_not_allowed",
                    format!(
                        "the domain of {email:?} is not one of the tenant's domains ({})",
                        domains.join(", ")
                    ),
                ));
            }
            if !cell("role").is_empty() && cell("role").parse::<Role>().is_err() {
                out.errors.push(error(
                    &row,
                    "role",
                    "unknown_role",
                    format!(
                        "{:?} is not member, contributor or administrator",
                        cell("role")
                    ),
                ));
            }
            if !matricule.is_empty() && !email.is_empty() {
                match identity.get(&matricule) {
                    Some((e, line)) if !e.eq_ignore_ascii_case(email) => out.errors.push(error(
                        &row,
                        "email",
                        "conflicting_member",
                        format!("matricule {matricule} has e-mail {e} on line {line}"),
                    )),
                    Some(_) => {}
                    None => {
                        identity.insert(matricule.clone(), (email.to_owned(), row.line));
                    }
                }
            }
        }
        if let (false, Some((cid, name))) = (matricule.is_empty(), &community)
            && let Some(line) = seen.insert((matricule.clone(), cid.clone()), row.line)
        {
            out.errors.push(error(
                &row,
                "matricule",
                "duplicate_row",
                format!("matricule {matricule} is already listed for {name:?} on line {line}"),
            ));
        }
        if !matricule.is_empty()
            && !out.members.contains_key(&matricule)
            && let Some(user) =
                index_owner(ctx, keys::employee_number(&job.tenant, &matricule)).await?
        {
            out.members.insert(matricule.clone(), user);
        }
        if full && out.errors.len() == before {
            let email = cell("email");
            let owner = index_owner(ctx, keys::user_name(&job.tenant, email)).await?;
            if let Some(owner) = owner
                && out.members.get(&matricule) != Some(&owner)
            {
                out.errors.push(error(
                    &row,
                    "email",
                    "email_taken",
                    format!("{email} belongs to another member"),
                ));
            }
        }
        if let (Some(user), Some((cid, _))) = (out.members.get(&matricule), &community) {
            keep.insert((user.clone(), cid.clone()));
        }
    }
    if job.mode == Mode::Mirror && out.errors.is_empty() {
        for community in &job.scope {
            let mut cursor = None;
            loop {
                let (page, next) = ctx
                    .memberships
                    .of_community(&job.tenant, community, cursor, 1000)
                    .await?;
                out.members_in_scope += page.len() as u64;
                for (user, from_file) in page {
                    if from_file && !keep.contains(&(user.clone(), community.clone())) {
                        out.deletions.push((user, community.clone()));
                    }
                }
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
    }
    Ok(out)
}
