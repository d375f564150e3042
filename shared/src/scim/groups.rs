//! The Groups endpoint: SCIM Groups of a tenant, their members folded from PUT bodies and
//! PATCH operations into the directory's member changes.

use std::sync::Arc;

use serde_json::{Value, json};

use super::group_members::{member_ids, route};
use super::patch;
use super::repo::{Repo, render};
use super::resource::{Document, normalize};
use super::schema::{ResourceType, resource_type};
use super::search::SearchResult;
use super::{ListParams, Preconditions, Projection, ScimError, StoredResource};
use crate::directory::{GroupDirectory, MemberDelta};
use crate::ids::TenantId;
use crate::store::Table;

pub(super) fn group_rt() -> &'static ResourceType {
    resource_type("Group")
}

/// The Groups endpoint of every tenant: SCIM bodies and PATCH operations translated into the
/// directory's group commands, member operations into one [`MemberDelta`].
pub struct Groups {
    repo: Repo,
    directory: GroupDirectory,
}

impl Groups {
    /// Groups kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let directory = GroupDirectory::new(table);
        Self {
            repo: Repo::new(directory.records().clone(), group_rt()),
            directory,
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
        let (doc, members) = Self::split(normalize(group_rt(), body)?)?;
        Ok(self.directory.create(t, doc, members).await?)
    }

    /// Reads a group or answers 404.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        Ok(self.directory.get(t, id).await?)
    }

    /// Replaces a group, members included (RFC 7644 §3.5.1).
    pub async fn replace(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let (doc, members) = Self::split(normalize(group_rt(), body)?)?;
        let change = |_: &StoredResource| Ok::<_, ScimError>(Some(doc.clone()));
        self.directory.change(t, id, pre, change, members).await
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
        let mut members = MemberDelta::default();
        let mut doc_ops = Vec::new();
        for op in ops {
            route(op, &mut members, &mut doc_ops)?;
        }
        let change = |current: &StoredResource| {
            if doc_ops.is_empty() {
                return Ok(None);
            }
            let mut doc = current.body();
            for op in &doc_ops {
                patch::apply(group_rt(), &mut doc, op)?;
            }
            Ok::<_, ScimError>(Some(normalize(group_rt(), Value::Object(doc))?))
        };
        self.directory.change(t, id, pre, change, members).await
    }

    /// Deletes a group; its members leave it through the group's intent, recorded in the
    /// delete's transaction and settled before the answer.
    pub async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        pre: &Preconditions,
    ) -> Result<(), ScimError> {
        Ok(self.directory.delete(t, id, pre).await?)
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
        let mut value = render(group, base, "/Groups");
        if projection.includes("members") {
            let members: Vec<Value> = self
                .directory
                .members(t, &group.id)
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
