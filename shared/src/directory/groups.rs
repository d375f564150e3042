//! The groups of a tenant's directory. A group's own attributes live in its record; its
//! members live in member items ([`Members`]), so member changes never rewrite the group and
//! never read the whole group unless all members are replaced. A rename or a delete records
//! the group's intent in its own transaction (its mappings by name may give other
//! communities); a member change records each user's.

use std::sync::Arc;

use serde_json::Value;

use super::change::Pin;
use super::members::Planned;
use super::records::{Counted, Document, Kind, Record, Records, UniqueValue, pointed_id};
use super::{DirectoryError, Intents, MemberDelta, Members, Reconciler, Target, Unpinned};
use crate::ids::TenantId;
use crate::store::{StoreError, Table, Write, keys};

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
        shards: keys::groups_shards,
        counted: Counted::Counters {
            one: keys::group_counter,
            all: keys::group_counters,
        },
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
        Ok(item.as_ref().and_then(pointed_id))
    }

    /// The ids of a group's members.
    pub async fn members(&self, t: &TenantId, group: &str) -> Result<Vec<String>, DirectoryError> {
        Ok(self.members.of_group(t, group).await?)
    }

    /// Writes the planned member changes (each with its user's intent, an add only while the
    /// user is live), then settles the intents so the caller's answer already reflects them.
    async fn apply(&self, t: &TenantId, group: &str, plan: Planned) -> Result<(), DirectoryError> {
        let Planned { add, remove } = plan;
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
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
        super::names::vet_group(&doc)?;
        let plan = self.members.plan(t, None, members).await?;
        let group = self.records.create(t, doc).await?;
        if let Err(e) = self.apply(t, &group.id, plan).await {
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
        let plan = self.members.plan(t, Some(id), members).await?;
        let mut old = String::new();
        let group = self
            .records
            .update(t, id, pin, |current| -> Result<Option<Document>, E> {
                old = display_name(current).to_owned();
                let doc = change(current)?;
                if let Some(doc) = &doc {
                    super::names::vet_group(doc)?;
                }
                Ok(doc)
            })
            .await?;
        self.apply(t, &group.id, plan).await?;
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
