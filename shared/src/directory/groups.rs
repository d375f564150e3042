//! The groups of a tenant's directory. A group's own attributes live in its record; its
//! members live in member items ([`Members`]), so member changes never rewrite the group and
//! never read the whole group unless all members are replaced. A rename or a delete records
//! the group's intent in its own transaction (its mappings by name may give other
//! communities); a member change records each user's.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::change::Pin;
use super::records::{Document, Kind, Record, Records, UniqueValue};
use super::{DirectoryError, Intents, Members, Reconciler, Target, Unpinned};
use crate::ids::TenantId;
use crate::store::{StoreError, Table, Write, keys};

/// A change of a group's member set: ids to add and to remove, or a reset to exactly the ids
/// added. Folded in order: the last word on an id wins.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemberDelta {
    reset: bool,
    add: BTreeSet<String>,
    remove: BTreeSet<String>,
}

impl MemberDelta {
    /// Adds users (an add after a remove of the same id cancels the remove).
    pub fn add(&mut self, ids: Vec<String>) {
        for id in ids {
            self.remove.remove(&id);
            self.add.insert(id);
        }
    }

    /// Removes users (a remove after an add of the same id cancels the add).
    pub fn remove(&mut self, ids: Vec<String>) {
        for id in ids {
            self.add.remove(&id);
            self.remove.insert(id);
        }
    }

    /// Makes the members exactly `ids`.
    pub fn replace(&mut self, ids: Vec<String>) {
        *self = Self {
            reset: true,
            ..Self::default()
        };
        self.add(ids);
    }

    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.reset && self.add.is_empty() && self.remove.is_empty()
    }
}

fn unique_values(t: &TenantId, doc: &Document) -> Vec<UniqueValue> {
    let mut out = Vec::new();
    if let Some(name) = doc.get("displayName").and_then(Value::as_str) {
        out.push(UniqueValue {
            key: keys::group_name(t, name),
            attribute: "displayName",
        });
    }
    if let Some(ext) = doc.get("externalId").and_then(Value::as_str) {
        out.push(UniqueValue {
            key: keys::group_external_id(t, ext),
            attribute: "externalId",
        });
    }
    out
}

/// A rename or a delete changes what the group's mappings by name give: its intent goes in the
/// same transaction.
fn intents(t: &TenantId, id: &str, old: &Document, new: Option<&Document>) -> Vec<Write> {
    let renamed = new.is_none_or(|new| new.get("displayName") != old.get("displayName"));
    if renamed {
        vec![Intents::mark(t, &Target::Group(id.to_owned()))]
    } else {
        Vec::new()
    }
}

/// How groups are kept.
pub fn kind() -> Kind {
    Kind {
        name: "Group",
        key: keys::group,
        prefix: keys::GROUP_PREFIX,
        count_prefix: keys::GROUP_NAME_PREFIX,
        unique: unique_values,
        indexed: &["displayName", "externalId"],
        index: |t, attribute, value| match attribute {
            "displayName" => Some(keys::group_name(t, value)),
            "externalId" => Some(keys::group_external_id(t, value)),
            _ => None,
        },
        intents,
    }
}

/// The groups of every tenant over one table.
pub struct GroupDirectory {
    records: Records,
    members: Members,
    reconciler: Reconciler,
}

fn display_name(group: &Record) -> &str {
    group
        .doc
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl GroupDirectory {
    /// Groups kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            members: Members::new(table.clone()),
            reconciler: Reconciler::new(table.clone()),
            records: Records::new(table, kind()),
        }
    }

    /// The stored groups, for reads a protocol shapes itself (lists, filters).
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// The id of the group named `name` (ignoring case), if any.
    pub async fn by_display_name(
        &self,
        t: &TenantId,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let item = self.records.table().get(&keys::group_name(t, name)).await?;
        Ok(item
            .and_then(|i| serde_json::from_slice::<Value>(&i.body).ok())
            .and_then(|v| v["id"].as_str().map(str::to_owned)))
    }

    /// The ids of a group's members.
    pub async fn members(&self, t: &TenantId, group: &str) -> Result<Vec<String>, DirectoryError> {
        Ok(self.members.of_group(t, group).await?)
    }

    /// [`DirectoryError::Invalid`] naming the first id that is no live user. A fast refusal
    /// before any write; the add itself checks again in its transaction.
    async fn check_users(
        &self,
        t: &TenantId,
        ids: &BTreeSet<String>,
    ) -> Result<(), DirectoryError> {
        let keys: Vec<_> = ids.iter().map(|id| keys::user(t, id)).collect();
        let found = self.records.table().get_many(&keys).await?;
        if let Some((id, _)) = ids.iter().zip(found).find(|(_, item)| item.is_none()) {
            return Err(DirectoryError::Invalid(format!(
                "member {id:?} is not a user of this tenant"
            )));
        }
        Ok(())
    }

    /// Writes member changes (each with its user's intent, an add only while the user is
    /// live), then settles the intents so the caller's answer already reflects them.
    async fn apply_delta(
        &self,
        t: &TenantId,
        group: &str,
        delta: MemberDelta,
    ) -> Result<(), DirectoryError> {
        if delta.is_empty() {
            return Ok(());
        }
        let remove: Vec<String> = if delta.reset {
            let current = self.members.of_group(t, group).await?;
            current
                .into_iter()
                .filter(|id| !delta.add.contains(id))
                .collect()
        } else {
            delta.remove.into_iter().collect()
        };
        let add: Vec<String> = delta.add.into_iter().collect();
        let touched: Vec<Target> = remove
            .iter()
            .chain(&add)
            .cloned()
            .map(Target::User)
            .collect();
        let written = async {
            self.members.remove(t, group, &remove).await?;
            self.members.add(t, group, &add).await
        }
        .await;
        self.reconciler.settle_or_defer(t, &touched).await;
        written
    }

    /// After a rename, mappings by displayName may give other communities.
    async fn after_rename(&self, t: &TenantId, old: &str, group: &Record) {
        if old != display_name(group) {
            self.reconciler
                .settle_or_defer(t, &[Target::Group(group.id.clone())])
                .await;
        }
    }

    /// Creates a group with its members; when a member cannot be added, the group is removed
    /// again and the error answered.
    pub async fn create(
        &self,
        t: &TenantId,
        doc: Document,
        members: MemberDelta,
    ) -> Result<Record, DirectoryError> {
        self.check_users(t, &members.add).await?;
        let group = self.records.create(t, doc).await?;
        if let Err(e) = self.apply_delta(t, &group.id, members).await {
            let _ = self.records.remove(t, &group.id, &Unpinned).await;
            return Err(e);
        }
        Ok(group)
    }

    /// Reads a group or fails with [`DirectoryError::NotFound`].
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<Record, DirectoryError> {
        self.records.fetch(t, id).await
    }

    /// Changes a group: `change` makes its new body from the stored group (`None`: the body
    /// stays), then `members` is applied. Retried on a concurrent write unless `pin` names
    /// versions.
    pub async fn change<F, E>(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
        mut change: F,
        members: MemberDelta,
    ) -> Result<Record, E>
    where
        F: FnMut(&Record) -> Result<Option<Document>, E>,
        E: From<DirectoryError>,
    {
        self.check_users(t, &members.add).await?;
        let mut old = String::new();
        let group = self
            .records
            .update(t, id, pin, |current| {
                old = display_name(current).to_owned();
                change(current)
            })
            .await?;
        self.apply_delta(t, &group.id, members).await?;
        self.after_rename(t, &old, &group).await;
        Ok(group)
    }

    /// Deletes a group; its members leave it through the group's intent, recorded in the
    /// delete's transaction and settled before this returns (or left to the reconciler).
    pub async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
    ) -> Result<(), DirectoryError> {
        self.records.remove(t, id, pin).await?;
        self.reconciler
            .settle_or_defer(t, &[Target::Group(id.to_owned())])
            .await;
        Ok(())
    }
}
