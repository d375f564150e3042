//! Changes to a stored resource that read it first: fetch (or 404), update and remove,
//! retried when another writer saves in between, unless the client pinned a version.

use super::ScimError;
use super::repo::{Repo, SaveError, StoredResource};
use super::resource::Document;
use super::schema::ResourceType;
use crate::ids::TenantId;

/// How many times a change is retried when a concurrent writer got there first.
pub(super) const ATTEMPTS: usize = 8;

fn not_found(rt: &ResourceType, id: &str) -> ScimError {
    ScimError::not_found(format!("no {} with id {id:?}", rt.name))
}

/// What one write attempt settles: its answer, or `None` to read again and retry (another
/// writer saved first and the client did not pin a version; a pinned one answers 412).
pub(super) fn settle<T>(
    attempt: Result<T, SaveError>,
    pre: &super::Preconditions,
) -> Option<Result<T, ScimError>> {
    match attempt {
        Ok(done) => Some(Ok(done)),
        Err(SaveError::Stale) if pre.pinned() => Some(Err(ScimError::precondition_failed(
            "the resource changed meanwhile",
        ))),
        Err(SaveError::Stale) => None,
        Err(SaveError::Scim(e)) => Some(Err(e)),
    }
}

/// The answer when every attempt lost to another writer.
pub(super) fn busy() -> ScimError {
    ScimError::conflict("the resource is being changed by others; retry")
}

impl Repo {
    /// Reads a resource or answers 404.
    pub async fn fetch(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        self.get(t, id)
            .await?
            .ok_or_else(|| not_found(self.kind.rt, id))
    }

    /// Reads, changes and saves a resource, retrying when another writer interleaves (unless
    /// the client pinned a version with `If-Match`, which then answers 412). `change` returns
    /// the new body, or `None` when nothing changes (then nothing is written).
    pub async fn update<F>(
        &self,
        t: &TenantId,
        id: &str,
        pre: &super::Preconditions,
        mut change: F,
    ) -> Result<StoredResource, ScimError>
    where
        F: FnMut(&StoredResource) -> Result<Option<Document>, ScimError>,
    {
        for _ in 0..ATTEMPTS {
            let current = self.fetch(t, id).await?;
            pre.check_match(current.version)?;
            let Some(body) = change(&current)? else {
                return Ok(current);
            };
            if body == current.body() {
                return Ok(current);
            }
            if let Some(done) = settle(self.save(t, &current, body).await, pre) {
                return done;
            }
        }
        Err(busy())
    }

    /// Deletes a resource (and its indexes), honouring `If-Match`.
    pub async fn remove(
        &self,
        t: &TenantId,
        id: &str,
        pre: &super::Preconditions,
    ) -> Result<(), ScimError> {
        for _ in 0..ATTEMPTS {
            let current = self.fetch(t, id).await?;
            pre.check_match(current.version)?;
            if let Some(done) = settle(self.delete(t, &current).await, pre) {
                return done;
            }
        }
        Err(busy())
    }
}
