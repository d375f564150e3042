//! The Users endpoint: create, read, list, replace, patch and delete SCIM Users of a tenant.

use std::sync::Arc;

use http::StatusCode;
use serde_json::Value;

use super::repo::Repo;
use super::resource::normalize;
use super::schema::{ResourceType, resource_type};
use super::search::SearchResult;
use super::{ListParams, Preconditions, ScimError, StoredResource, patch};
use crate::community::Communities;
use crate::directory::{ATTEMPTS, DirectoryError, Document, UserDirectory};
use crate::ids::TenantId;
use crate::store::Table;

pub(super) fn user_rt() -> &'static ResourceType {
    resource_type("User")
}

/// The Users endpoint of every tenant: SCIM bodies and PATCH operations translated into the
/// directory's user commands.
pub struct Users {
    pub(super) repo: Repo,
    directory: UserDirectory,
    pub(super) communities: Communities,
}

/// The status a membership reads as while its user is inactive: it grants no access and no
/// invitation is sent for it.
pub const SUSPENDED: &str = "suspended";

impl Users {
    /// Users kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let directory = UserDirectory::new(table.clone());
        Self {
            repo: Repo::new(directory.records().clone(), user_rt()),
            directory,
            communities: Communities::new(table),
        }
    }

    /// The directory's users behind this endpoint.
    pub fn directory(&self) -> &UserDirectory {
        &self.directory
    }

    /// Creates a user from a POST body (RFC 7644 §3.3). A soft-deleted user with the same
    /// userName (or else one of the same e-mail addresses) is restored instead: same id,
    /// updated from the body.
    pub async fn create(&self, t: &TenantId, body: Value) -> Result<StoredResource, ScimError> {
        let doc = normalize(user_rt(), body)?;
        Ok(self.directory.create(t, doc).await?)
    }

    /// Reads a user or answers 404.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        Ok(self.directory.get(t, id).await?)
    }

    /// Replaces a user with a PUT body (RFC 7644 §3.5.1); unknown attributes are ignored.
    pub async fn replace(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let doc = normalize(user_rt(), body)?;
        self.directory
            .change(t, id, pre, |_| Ok::<_, ScimError>(Some(doc.clone())))
            .await
    }

    /// Applies a PatchOp body (RFC 7644 §3.5.2), all operations or none. On a soft-deleted
    /// user, a PATCH that sets `active` to true restores it (same id) with the patch applied,
    /// as identity providers reactivate users; any other PATCH of it answers 404.
    pub async fn patch(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let ops = patch::parse_request(body)?;
        let patched = |mut doc: Document| -> Result<Document, ScimError> {
            for op in &ops {
                patch::apply(user_rt(), &mut doc, op)?;
            }
            normalize(user_rt(), Value::Object(doc))
        };
        for _ in 0..ATTEMPTS {
            let changed: Result<StoredResource, ScimError> = self
                .directory
                .change(t, id, pre, |current| Ok(Some(patched(current.body())?)))
                .await;
            let missing = match changed {
                Err(e) if e.status == StatusCode::NOT_FOUND => e,
                done => return done,
            };
            let Some(deleted) = self.directory.deleted(t, id).await? else {
                return Err(missing);
            };
            let mut body = deleted.doc.clone();
            body.remove("id");
            body.remove("meta");
            body.remove("active");
            let doc = patched(body)?;
            if doc.get("active") != Some(&Value::Bool(true)) {
                return Err(missing);
            }
            match self.directory.restore(t, &deleted, doc).await {
                Err(DirectoryError::Stale) => continue,
                restored => return Ok(restored?),
            }
        }
        Err(DirectoryError::Busy.into())
    }

    /// Soft-deletes a user (RFC 7644 §3.6: it is no longer returned): it leaves every group
    /// and every group-derived membership; a POST with its userName restores it.
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
}
