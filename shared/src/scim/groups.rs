//! The Groups service. A group's own attributes live in its document; its members live in
//! membership items ([`super::members`]), so member changes never rewrite the group and never
//! read the whole group unless the client replaces all members.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::group_members::{MemberDelta, member_ids, route};
use super::patch;
use super::repo::{Kind, Repo, StoredResource, UniqueValue};
use super::resource::{Document, normalize};
use super::schema::{ResourceType, resource_type};
use super::search::SearchResult;
use super::{ListParams, Preconditions, Projection, ScimError};
use crate::directory::{Intents, Members, Reconciler, Target};
use crate::ids::TenantId;
use crate::store::{Table, Write, keys};

pub(super) fn group_rt() -> &'static ResourceType {
    resource_type("Group")
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

/// The Groups service of every tenant.
pub struct Groups {
    repo: Repo,
    members: Members,
    reconciler: Reconciler,
}

impl Groups {
    /// Groups kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let kind = Kind {
            rt: group_rt(),
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
        };
        Self {
            members: Members::new(table.clone()),
            reconciler: Reconciler::new(table.clone()),
            repo: Repo::new(table, kind),
        }
    }

    async fn check_users(&self, t: &TenantId, ids: &BTreeSet<String>) -> Result<(), ScimError> {
        let keys: Vec<_> = ids.iter().map(|id| keys::user(t, id)).collect();
        let found = self.repo.table().get_many(&keys).await?;
        if let Some((id, _)) = ids.iter().zip(found).find(|(_, item)| item.is_none()) {
            return Err(ScimError::invalid_value(format!(
                "member {id:?} is not a user of this tenant"
            )));
        }
        Ok(())
    }

    /// Writes member changes (each with its user's intent, an add only while the user is
    /// live), then settles the intents so the answer already reflects them.
    async fn apply_delta(
        &self,
        t: &TenantId,
        group: &StoredResource,
        delta: MemberDelta,
    ) -> Result<(), ScimError> {
        let id = group.id.as_str();
        let remove: Vec<String> = if delta.reset {
            let current = self.members.of_group(t, id).await?;
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
            self.members.remove(t, id, &remove).await?;
            self.members.add(t, id, &add).await
        }
        .await;
        self.reconciler.settle_or_defer(t, &touched).await;
        Ok(written?)
    }

    /// After a rename, mappings by displayName may give other communities.
    async fn after_rename(&self, t: &TenantId, old: &str, group: &StoredResource) {
        if old != display_name(group) {
            self.reconciler
                .settle_or_defer(t, &[Target::Group(group.id.clone())])
                .await;
        }
    }

    /// Splits a normalized body into the group document and its members.
    fn split(mut doc: Document) -> Result<(Document, MemberDelta), ScimError> {
        let mut delta = MemberDelta::default();
        delta.replace(member_ids(&doc.remove("members").unwrap_or(Value::Null))?);
        Ok((doc, delta))
    }

    /// Creates a group with its members (RFC 7644 §3.3).
    pub async fn create(&self, t: &TenantId, body: Value) -> Result<StoredResource, ScimError> {
        let (doc, delta) = Self::split(normalize(group_rt(), body)?)?;
        self.check_users(t, &delta.add).await?;
        let group = self.repo.create(t, doc).await?;
        if let Err(e) = self.apply_delta(t, &group, delta).await {
            let _ = self
                .repo
                .remove(t, &group.id, &Preconditions::default())
                .await;
            return Err(e);
        }
        Ok(group)
    }

    /// Reads a group or answers 404.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        self.repo.fetch(t, id).await
    }

    /// Replaces a group, members included (RFC 7644 §3.5.1).
    pub async fn replace(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let (doc, delta) = Self::split(normalize(group_rt(), body)?)?;
        self.check_users(t, &delta.add).await?;
        let mut old = String::new();
        let group = self
            .repo
            .update(t, id, pre, |current| {
                old = display_name(current).to_owned();
                Ok(Some(doc.clone()))
            })
            .await?;
        self.apply_delta(t, &group, delta).await?;
        self.after_rename(t, &old, &group).await;
        Ok(group)
    }

    /// Applies a PatchOp body; member operations touch only the members named.
    pub async fn patch(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let ops = patch::parse_request(body)?;
        let mut delta = MemberDelta::default();
        let mut doc_ops = Vec::new();
        for op in ops {
            route(op, &mut delta, &mut doc_ops)?;
        }
        self.check_users(t, &delta.add).await?;
        let mut old = String::new();
        let group = self
            .repo
            .update(t, id, pre, |current| {
                old = display_name(current).to_owned();
                if doc_ops.is_empty() {
                    return Ok(None);
                }
                let mut doc = current.body();
                for op in &doc_ops {
                    patch::apply(group_rt(), &mut doc, op)?;
                }
                Ok(Some(normalize(group_rt(), Value::Object(doc))?))
            })
            .await?;
        self.apply_delta(t, &group, delta).await?;
        self.after_rename(t, &old, &group).await;
        Ok(group)
    }

    /// Deletes a group; its members leave it through the group's intent, recorded in the
    /// delete's transaction and settled before the answer.
    pub async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        pre: &Preconditions,
    ) -> Result<(), ScimError> {
        self.repo.remove(t, id, pre).await?;
        self.reconciler
            .settle_or_defer(t, &[Target::Group(id.to_owned())])
            .await;
        Ok(())
    }

    /// The resources matching a list or search request.
    pub async fn search(
        &self,
        t: &TenantId,
        params: &ListParams,
    ) -> Result<SearchResult, ScimError> {
        self.repo.search(t, params).await
    }

    /// The group as answered; members are read only when the projection keeps them.
    pub async fn render(
        &self,
        t: &TenantId,
        group: &StoredResource,
        base: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let mut value = group.render(base, "/Groups");
        if projection.includes("members") {
            let members: Vec<Value> = self
                .members
                .of_group(t, &group.id)
                .await?
                .into_iter()
                .map(
                    |id| json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"}),
                )
                .collect();
            if !members.is_empty() {
                value["members"] = Value::Array(members);
            }
        }
        Ok(projection.apply(value))
    }
}

fn display_name(group: &StoredResource) -> &str {
    group
        .doc
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
