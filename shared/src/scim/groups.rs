//! The Groups service. A group's own attributes live in its document; its members live in
//! membership items ([`super::members`]), so member changes never rewrite the group and never
//! read the whole group unless the client replaces all members.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::filter::{CompareOp, Filter, Literal};
use super::patch::{self, Op, Operation};
use super::repo::{Kind, Repo, StoredResource, UniqueValue};
use super::resource::{Document, normalize};
use super::schema::{ResourceType, resource_type};
use super::search::SearchResult;
use super::{ListParams, Preconditions, Projection, ScimError};
use crate::directory::{Intents, Members, Reconciler, Target};
use crate::ids::TenantId;
use crate::store::{Table, Write, keys};

fn group_rt() -> &'static ResourceType {
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

/// Member changes of one request, folded in order.
#[derive(Debug, Default)]
struct MemberDelta {
    reset: bool,
    add: BTreeSet<String>,
    remove: BTreeSet<String>,
}

impl MemberDelta {
    fn add(&mut self, ids: Vec<String>) {
        for id in ids {
            self.remove.remove(&id);
            self.add.insert(id);
        }
    }
    fn remove(&mut self, ids: Vec<String>) {
        for id in ids {
            self.add.remove(&id);
            self.remove.insert(id);
        }
    }
    fn replace(&mut self, ids: Vec<String>) {
        *self = Self {
            reset: true,
            ..Self::default()
        };
        self.add(ids);
    }
}

/// The ids named by a `members` value: `[{"value": id}, …]` or a single object.
fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Null => return Ok(vec![]),
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|m| match m.get("value").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(ScimError::invalid_value(
                "each member needs a value: the member's id",
            )),
        })
        .collect()
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
        self.settle(t, &touched).await;
        Ok(written?)
    }

    /// Settles intents now; what fails stays pending for the background reconciler (the
    /// primary change is committed either way).
    async fn settle(&self, t: &TenantId, targets: &[Target]) {
        if let Err(e) = self.reconciler.settle(t, targets).await {
            tracing::warn!(tenant = %t, error = %e, "derivation left to the reconciler");
        }
    }

    /// After a rename, mappings by displayName may give other communities.
    async fn after_rename(&self, t: &TenantId, old: &str, group: &StoredResource) {
        if old != display_name(group) {
            self.settle(t, &[Target::Group(group.id.clone())]).await;
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
        self.settle(t, &[Target::Group(id.to_owned())]).await;
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

/// Sends member operations to `delta` and the rest to `doc_ops`, keeping their order.
fn route(
    op: Operation,
    delta: &mut MemberDelta,
    doc_ops: &mut Vec<Operation>,
) -> Result<(), ScimError> {
    let Some(path) = &op.path else {
        let Some(Value::Object(fields)) = &op.value else {
            doc_ops.push(op);
            return Ok(());
        };
        let mut rest = Map::new();
        for (k, v) in fields {
            if k.eq_ignore_ascii_case("members") {
                match op.op {
                    Op::Add => delta.add(member_ids(v)?),
                    _ => delta.replace(member_ids(v)?),
                }
            } else {
                rest.insert(k.clone(), v.clone());
            }
        }
        doc_ops.push(Operation {
            value: Some(Value::Object(rest)),
            ..op
        });
        return Ok(());
    };
    let Some(target) = patch::resolve(group_rt(), path)?.filter(|t| t.attr.name == "members")
    else {
        doc_ops.push(op);
        return Ok(());
    };
    if target.sub.is_some() {
        return Err(ScimError::invalid_path(
            "members are added, removed or replaced whole",
        ));
    }
    if let Some(filter) = &target.filter {
        let ids = filtered_ids(&filter.raw).ok_or_else(|| {
            ScimError::invalid_path("a members filter names members by value eq \"id\"")
        })?;
        match op.op {
            Op::Remove => delta.remove(ids),
            Op::Add | Op::Replace => delta.add(ids),
        }
        return Ok(());
    }
    let value = op.value.unwrap_or(Value::Null);
    match op.op {
        Op::Add => delta.add(member_ids(&value)?),
        Op::Replace => delta.replace(member_ids(&value)?),
        Op::Remove if value.is_null() => delta.replace(vec![]),
        Op::Remove => delta.remove(member_ids(&value)?),
    }
    Ok(())
}

/// The ids named by `value eq "id"` (or several joined by `or`), the member filter of Okta.
fn filtered_ids(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, Literal::String(id))
            if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            Some(vec![id.clone()])
        }
        Filter::Or(a, b) => {
            let mut ids = filtered_ids(a)?;
            ids.extend(filtered_ids(b)?);
            Some(ids)
        }
        _ => None,
    }
}

fn display_name(group: &StoredResource) -> &str {
    group
        .doc
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
