//! The checking pass: every row is validated and resolved (community by name or id, member by
//! matricule) before anything is written; MIRROR deletions and their threshold are computed
//! after it (see `scope`), so a file that would remove too many members changes nothing.
//!
//! Rows are looked up in blocks (one batched read per block, run on another thread while the
//! next block is read and checked), and what must be remembered across the whole file is kept
//! as 64-bit fingerprints, so checking a million rows takes tens of megabytes, not the file's
//! size several times over.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::BuildHasher;

use super::fingerprints::Fingerprints;
use super::reader::{Columns, Row};
use super::row_errors::RowErrors;
use super::rules::{Rules, error};
use super::scope::deletions;
use super::task::Spawned;
use super::worker::ImportContext;
use super::{Mode, jobs::Job};
use crate::store::StoreError;

/// Rows resolved together with one batched read.
const BLOCK_ROWS: usize = 1000;

/// What checking learned.
#[derive(Debug, Default)]
pub struct Checked {
    /// Data rows seen.
    pub rows_total: u64,
    /// Every rejected row: the first in full, all counted.
    pub errors: RowErrors,
    /// Community (id, name) by lowercased name and by id.
    pub communities: HashMap<String, (String, String)>,
    /// The tenant's allowed e-mail domains (empty: any).
    pub domains: Vec<String>,
    /// (user id, community id) memberships a MIRROR must delete.
    pub deletions: Vec<(String, String)>,
    /// Members of the communities in scope before the import.
    pub members_in_scope: u64,
    /// What a MIRROR would remove from each community in scope, for the per-community guard.
    pub per_community: Vec<CommunityLoss>,
}

/// One community's members before a MIRROR, and how many it would lose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunityLoss {
    /// The community id.
    pub community: String,
    /// Its members, whatever their source.
    pub members: u64,
    /// Its members that a file put there (the only ones a MIRROR removes).
    pub from_file: u64,
    /// The memberships the MIRROR would delete.
    pub deletions: u64,
}

impl Checked {
    /// The community (id, name) a cell names, if any.
    pub fn community(&self, cell: &str) -> Option<&(String, String)> {
        self.communities
            .get(&crate::unicode::fold(cell))
            .or_else(|| self.communities.get(cell))
    }
}

/// What is known of one matricule of the file (fingerprints; 0 is "none").
#[derive(Clone, Copy)]
struct Identity {
    /// Its e-mail, lowercased.
    email: u64,
    /// The line that gave the e-mail.
    line: u32,
    /// The existing user with this matricule.
    owner: u64,
    /// Looked up in storage.
    resolved: bool,
    /// Its e-mail was checked against other users' userNames.
    email_checked: bool,
}

/// A row of the current block that needs storage to be checked.
struct Pending {
    row: Row,
    matricule: u64,
    community: Option<u32>,
    /// Clean so far, so its e-mail is worth checking.
    clean: bool,
}

/// The whole-file memory of the pass.
struct Pass<'a> {
    ctx: &'a ImportContext,
    job: &'a Job,
    columns: &'a Columns,
    hasher: RandomState,
    /// Community ids as small numbers.
    community_ids: HashMap<String, u32>,
    /// (matricule, community) → line of its first row.
    seen: Fingerprints<u32>,
    identity: Fingerprints<Identity>,
    /// (existing user, community) pairs the file lists, for MIRROR.
    keep: Fingerprints<()>,
    /// The rows of the block being read, and the row errors they have shown so far.
    block: Vec<Pending>,
    errors: RowErrors,
    /// The block before it, whose lookups are under way.
    looking: Option<(Block, Lookups)>,
}

/// A block of rows whose lookups were sent: the rows, the positions of those that resolve their
/// matricule and of those that check their e-mail, and the row errors found reading them.
struct Block {
    rows: Vec<Pending>,
    unresolved: Vec<usize>,
    to_check: Vec<usize>,
    errors: RowErrors,
}

/// What a block's lookups found: the owner of each matricule resolved and the holder of each
/// e-mail checked (user ids).
type Found = (Vec<Option<String>>, Vec<Option<String>>);

/// A block's lookups, running as a task of their own.
type Lookups = Spawned<Found>;

/// A nonzero fingerprint of `value` under `hasher`'s keys (see [`Pass::fingerprint`]).
pub(super) fn fingerprint(hasher: &RandomState, value: impl std::hash::Hash) -> u64 {
    hasher.hash_one(value) | 1
}

fn line32(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

impl Pass<'_> {
    /// A nonzero fingerprint of `value`. Two different values share one with odds of about
    /// n²/2⁶⁴ over n values, under keys drawn for this pass alone.
    fn fingerprint(&self, value: impl std::hash::Hash) -> u64 {
        fingerprint(&self.hasher, value)
    }

    /// What is known of the matricule of fingerprint `fp`, which a row of the file has.
    fn identity(&self, fp: u64) -> Identity {
        *self.identity.get(fp).expect("every matricule read has one")
    }

    fn community_index(&mut self, id: &str) -> u32 {
        let next = self.community_ids.len() as u32;
        *self.community_ids.entry(id.to_owned()).or_insert(next)
    }

    /// Checks what one row can tell alone or against earlier rows; queues the rest.
    fn row(&mut self, out: &Checked, rules: &Rules<'_>, row: Row) {
        let before = self.errors.total();
        let cell = |name: &str| row.cell(self.columns, name);
        let community = out.community(cell("community")).cloned();
        rules.check(&row, community.as_ref(), &mut self.errors);
        let matricule = cell("matricule");
        let email = cell("email");
        let key = self.fingerprint(matricule);
        let community = community.map(|(id, name)| (self.community_index(&id), name));
        if let (false, Some((index, name))) = (matricule.is_empty(), &community) {
            let line = line32(row.line);
            let pair = self.fingerprint((matricule, *index));
            match self.seen.entry(pair) {
                Entry::Occupied(first) => self.errors.push(error(
                    &row,
                    "matricule",
                    "duplicate_row",
                    format!(
                        "matricule {matricule} is already listed for {name:?} on line {}",
                        first.get()
                    ),
                )),
                Entry::Vacant(v) => {
                    v.insert(line);
                }
            }
        }
        if matricule.is_empty() {
            return;
        }
        let email_fp = if email.is_empty() || rules.mode == Mode::Delete {
            0
        } else {
            self.fingerprint(crate::unicode::fold(email))
        };
        let identity = self.identity.entry(key).or_insert(Identity {
            email: email_fp,
            line: line32(row.line),
            owner: 0,
            resolved: false,
            email_checked: false,
        });
        if identity.email == 0 && email_fp != 0 {
            identity.email = email_fp;
            identity.line = line32(row.line);
        } else if email_fp != 0 && identity.email != email_fp {
            self.errors.push(error(
                &row,
                "email",
                "conflicting_member",
                format!(
                    "matricule {matricule} is listed with another e-mail on line {}",
                    identity.line
                ),
            ));
        }
        let clean = self.errors.total() == before && rules.mode != Mode::Delete;
        self.block.push(Pending {
            row,
            matricule: key,
            community: community.map(|(i, _)| i),
            clean,
        });
    }

    /// The positions in `block` of the rows for which `first` holds; `first` sees each row
    /// with its matricule's identity and marks there what it took care of, so a later row of
    /// the same matricule is not taken again.
    fn firsts(
        &mut self,
        block: &[Pending],
        first: impl Fn(&Pending, &mut Identity) -> bool,
    ) -> Vec<usize> {
        let mut taken = Vec::new();
        for (i, p) in block.iter().enumerate() {
            let identity = self.identity.get_mut(p.matricule).expect("queued with one");
            if first(p, identity) {
                taken.push(i);
            }
        }
        taken
    }

    /// Sends the lookups of the block read so far (the owners of its matricules, then of its
    /// e-mails, which must be free or already the member's), after taking in those of the
    /// block before it: a block's rows are checked while the block before it is looked up.
    async fn flush(&mut self, out: &mut Checked) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.block);
        let unresolved = self.firsts(&rows, |_, id| !std::mem::replace(&mut id.resolved, true));
        let to_check = self.firsts(&rows, |p, id| {
            p.clean && !std::mem::replace(&mut id.email_checked, true)
        });
        let cells = |at: &[usize], column: &str| -> Vec<String> {
            at.iter()
                .map(|&i| rows[i].row.cell(self.columns, column).to_owned())
                .collect()
        };
        let (numbers, emails) = (cells(&unresolved, "matricule"), cells(&to_check, "email"));
        let (users, t) = (self.ctx.users.clone(), self.job.tenant.clone());
        let lookups = Spawned::new(async move {
            let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
            let owners = users.by_employee_numbers(&t, &numbers).await?;
            let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
            Ok((owners, users.by_user_names(&t, &emails).await?))
        });
        let block = Block {
            rows,
            unresolved,
            to_check,
            errors: std::mem::take(&mut self.errors),
        };
        self.settle(out).await?;
        self.looking = Some((block, lookups));
        Ok(())
    }

    /// Takes in the lookups under way, if any: the block's row errors in order, then the
    /// e-mails its lookups found taken.
    async fn settle(&mut self, out: &mut Checked) -> Result<(), StoreError> {
        let Some((block, lookups)) = self.looking.take() else {
            return Ok(());
        };
        let (owners, holders) = lookups.await?;
        out.errors.extend(block.errors);
        let rows = &block.rows;
        for (&i, owner) in block.unresolved.iter().zip(owners) {
            if let Some(owner) = owner {
                let fp = self.fingerprint(owner.as_str());
                self.identity
                    .get_mut(rows[i].matricule)
                    .expect("queued with one")
                    .owner = fp;
            }
        }
        for (&i, holder) in block.to_check.iter().zip(holders) {
            let owner = self.identity(rows[i].matricule).owner;
            if let Some(holder) = holder
                && self.fingerprint(holder.as_str()) != owner
            {
                let email = rows[i].row.cell(self.columns, "email");
                out.errors.push(error(
                    &rows[i].row,
                    "email",
                    "email_taken",
                    format!("{email} belongs to another member"),
                ));
            }
        }
        if self.job.mode == Mode::Mirror {
            for p in rows {
                let owner = self.identity(p.matricule).owner;
                if let (true, Some(c)) = (owner != 0, p.community) {
                    let pair = self.fingerprint((owner, c));
                    self.keep.insert(pair, ());
                }
            }
        }
        Ok(())
    }
}

/// Loads the tenant's communities, keyed by id and by lowercased name.
async fn communities(
    ctx: &ImportContext,
    job: &Job,
) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut map = HashMap::new();
    let list = ctx.communities.list(&job.tenant).await?;
    for c in list {
        map.insert(c.id.clone(), (c.id.clone(), c.name.clone()));
        map.insert(crate::unicode::fold(&c.name), (c.id, c.name));
    }
    Ok(map)
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
        domains: domains.to_vec(),
        ..Checked::default()
    };
    let rules = Rules {
        columns,
        mode: job.mode,
        domains,
        scope: job.scope.iter().map(String::as_str).collect(),
    };
    let mut pass = Pass {
        ctx,
        job,
        columns,
        hasher: RandomState::new(),
        community_ids: HashMap::new(),
        seen: Fingerprints::default(),
        identity: Fingerprints::default(),
        keep: Fingerprints::default(),
        block: Vec::with_capacity(BLOCK_ROWS),
        errors: RowErrors::default(),
        looking: None,
    };
    for row in rows {
        out.rows_total += 1;
        if let Some(why) = &row.unreadable {
            pass.errors
                .push(error(&row, "", "unreadable_row", why.clone()));
            continue;
        }
        pass.row(&out, &rules, row);
        if pass.block.len() >= BLOCK_ROWS {
            pass.flush(&mut out).await?;
        }
    }
    pass.flush(&mut out).await?;
    pass.settle(&mut out).await?;
    if job.mode == Mode::Mirror && out.errors.is_empty() {
        let scope: Vec<(String, u32)> = job
            .scope
            .iter()
            .map(|c| (c.clone(), pass.community_index(c)))
            .collect();
        // What the rows showed is of no more use, and the scope is read by the page.
        let keep = std::mem::take(&mut pass.keep);
        (pass.seen, pass.identity) = Default::default();
        deletions(ctx, job, &pass.hasher, keep, scope, &mut out).await?;
    }
    Ok(out)
}
