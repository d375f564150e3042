//! The console's member table: one community's members joined with their users, in user-id
//! order, searched and filtered on the server, a page at a time.
//!
//! A page reads the community's member entries in slices, then the slice's users and
//! memberships in two batched reads. Without a search or filter a page is one slice. A
//! search of one word that is exactly a member's matricule or e-mail (userName) finds that
//! member through the directory's unique indexes, at once. Otherwise slices are read until
//! the page is full or [`SCAN_BUDGET`] entries were looked at; the page then says where to go
//! on, so no request ever walks a whole large community.

use std::sync::Arc;

use serde_json::Value;

use crate::community::{Membership, Role, Source, Status, decode_membership};
use crate::ids::TenantId;
use crate::store::{Key, SkRange, StoreError, Table, keys};
use crate::unicode::fold;

/// Entries one request looks at, at most, while searching or filtering.
pub const SCAN_BUDGET: usize = 20_000;
/// Entries read per slice while searching or filtering.
const SLICE: usize = 500;

/// Where a membership comes from, as the table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A mapped IdP group.
    Group,
    /// A member-file import.
    File,
    /// An administrator's direct grant.
    Manual,
}

impl Origin {
    /// Parses `group`, `file` or `manual`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "group" => Some(Origin::Group),
            "file" => Some(Origin::File),
            "manual" => Some(Origin::Manual),
            _ => None,
        }
    }

    /// The name used in URLs and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Group => "group",
            Origin::File => "file",
            Origin::Manual => "manual",
        }
    }

    fn of(source: &Source) -> Self {
        match source {
            Source::Group { .. } => Origin::Group,
            Source::File { .. } => Origin::File,
            Source::Admin { .. } => Origin::Manual,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// The user's id.
    pub user: String,
    /// Display name (or given and family names).
    pub name: String,
    /// The primary e-mail (else the userName).
    pub email: String,
    /// The employee number.
    pub matricule: String,
    /// The effective role.
    pub role: Role,
    /// The invitation status.
    pub status: Status,
    /// Where the membership comes from, each origin once.
    pub origins: Vec<Origin>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    /// Words every one of which must appear in the name, e-mail or matricule (folded).
    pub search: String,
    /// Only this status.
    pub status: Option<Status>,
    /// Only memberships with this origin.
    pub origin: Option<Origin>,
    /// Start after this user id.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: usize,
}

impl MemberQuery {
    fn filters(&self) -> bool {
        !self.search.trim().is_empty() || self.status.is_some() || self.origin.is_some()
    }
}

/// One page.
#[derive(Debug, Clone, Default)]
pub struct MemberPage {
    /// The rows, in user-id order.
    pub rows: Vec<MemberRow>,
    /// Where the next page starts (a user id), if there may be more.
    pub next: Option<String>,
    /// The scan budget ran out before the page was full.
    pub budget_spent: bool,
}

fn text(doc: &Value, pointer: &str) -> String {
    doc.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn name_of(doc: &Value) -> String {
    let display = text(doc, "/displayName");
    if !display.is_empty() {
        return display;
    }
    let full = format!(
        "{} {}",
        text(doc, "/name/givenName"),
        text(doc, "/name/familyName")
    );
    full.trim().to_owned()
}

fn email_of(doc: &Value) -> String {
    let emails = doc["emails"].as_array().cloned().unwrap_or_default();
    emails
        .iter()
        .find(|e| e["primary"] == Value::Bool(true))
        .or_else(|| emails.first())
        .and_then(|e| e["value"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| text(doc, "/userName"))
}

fn row(user: &Value, m: &Membership) -> MemberRow {
    let mut origins: Vec<Origin> = Vec::new();
    for o in m.sources.iter().map(Origin::of) {
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    MemberRow {
        user: m.user.clone(),
        name: name_of(user),
        email: email_of(user),
        matricule: text(
            user,
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber",
        ),
        role: m.role,
        status: m.status,
        origins,
    }
}

fn matches(row: &MemberRow, words: &[String], q: &MemberQuery) -> bool {
    if q.status.is_some_and(|s| s != row.status) {
        return false;
    }
    if q.origin.is_some_and(|o| !row.origins.contains(&o)) {
        return false;
    }
    let hay = fold(&format!("{} {} {}", row.name, row.email, row.matricule));
    words.iter().all(|w| hay.contains(w.as_str()))
}

/// The member whose matricule or userName is exactly `word`, if `word` is one of a member
/// of `community` (a lookup in the unique indexes, never a scan).
async fn exact(
    table: &Arc<dyn Table>,
    t: &TenantId,
    community: &str,
    word: &str,
) -> Result<Option<String>, StoreError> {
    let keys = [keys::employee_number(t, word), keys::user_name(t, word)];
    for item in table.get_many(&keys).await?.into_iter().flatten() {
        let v: Value = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt index item: {e}")))?;
        let Some(id) = v["id"].as_str() else { continue };
        if table
            .get(&keys::community_member(t, community, id))
            .await?
            .is_some()
        {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

/// One page of community `community`'s members of tenant `t`.
pub async fn page(
    table: &Arc<dyn Table>,
    t: &TenantId,
    community: &str,
    q: &MemberQuery,
) -> Result<MemberPage, StoreError> {
    let limit = q.limit.clamp(1, 200);
    let words: Vec<String> = q.search.split_whitespace().map(fold).collect();
    let slice = if q.filters() { SLICE } else { limit };
    let shards = keys::community_members_shards(t, community);
    let mut after = q.after.clone();
    let mut out = MemberPage::default();
    let search = q.search.trim();
    let one_word = !search.is_empty() && !search.contains(char::is_whitespace);
    let hit = match (after.is_none() && one_word, search) {
        (true, word) => exact(table, t, community, word).await?,
        (false, _) => None,
    };
    if let Some(id) = hit {
        let user = table.get(&keys::user(t, &id)).await?;
        let member = table.get(&keys::membership(t, &id, community)).await?;
        if let (Some(user), Some(member)) = (user, member) {
            let doc: Value = serde_json::from_slice(&user.body)
                .map_err(|e| StoreError::Backend(format!("corrupt user: {e}")))?;
            let (m, _) = decode_membership(&member)?;
            let r = row(&doc, &m);
            if q.status.is_none_or(|s| s == r.status)
                && q.origin.is_none_or(|o| r.origins.contains(&o))
            {
                out.rows.push(r);
            }
            return Ok(out);
        }
    }
    let mut scanned = 0usize;
    loop {
        let from = format!("{}{}", keys::MEMBER_PREFIX, after.as_deref().unwrap_or(""));
        let range = SkRange::Between {
            from,
            to: "M$".into(),
        };
        let (items, _) = crate::store::first_merged(&**table, &shards, &range, slice + 1).await?;
        let ids: Vec<String> = items
            .iter()
            .map(|i| i.key.sk[keys::MEMBER_PREFIX.len()..].to_owned())
            .filter(|id| Some(id) != after.as_ref())
            .take(slice)
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let more = items.len() > ids.len();
        let user_keys: Vec<Key> = ids.iter().map(|u| keys::user(t, u)).collect();
        let member_keys: Vec<Key> = ids
            .iter()
            .map(|u| keys::membership(t, u, community))
            .collect();
        let users = table.get_many(&user_keys).await?;
        let members = table.get_many(&member_keys).await?;
        let last = ids.len() - 1;
        for (i, ((id, user), member)) in ids.iter().zip(users).zip(members).enumerate() {
            after = Some(id.clone());
            scanned += 1;
            let (Some(user), Some(member)) = (user, member) else {
                continue;
            };
            let doc: Value = serde_json::from_slice(&user.body)
                .map_err(|e| StoreError::Backend(format!("corrupt user: {e}")))?;
            let (m, _) = decode_membership(&member)?;
            let r = row(&doc, &m);
            if matches(&r, &words, q) {
                out.rows.push(r);
                if out.rows.len() == limit {
                    out.next = (i < last || more).then(|| id.clone());
                    return Ok(out);
                }
            }
        }
        if !more {
            return Ok(out);
        }
        if scanned >= SCAN_BUDGET {
            out.next = after;
            out.budget_spent = true;
            return Ok(out);
        }
    }
}
