//! Changes to a stored record that read it first (fetch, update, remove), retried when another
//! writer saves in between, unless the caller pinned a version.

use super::DirectoryError;
use super::records::{Document, Record, Records};
use crate::ids::TenantId;

/// How many times a change is retried when a concurrent writer got there first.
pub const ATTEMPTS: usize = 8;

/// The versions a caller accepts a record at before changing it (HTTP's `If-Match`).
pub trait Pin: Sync {
    /// [`DirectoryError::Precondition`] when the record at `version` may not be changed.
    fn check(&self, version: u64) -> Result<(), DirectoryError>;
    /// Whether the caller named versions, so a concurrent change fails rather than retries.
    fn pinned(&self) -> bool;
}

/// Any version: a change lost to a concurrent writer is read again and retried.
pub struct Unpinned;

impl Pin for Unpinned {
    fn check(&self, _: u64) -> Result<(), DirectoryError> {
        Ok(())
    }
    fn pinned(&self) -> bool {
        false
    }
}

/// What one write attempt settles: its answer, or `None` to read again and retry (another
/// writer saved first and the caller did not pin a version; a pinned one fails).
pub fn settle<T, E: From<DirectoryError>>(
    attempt: Result<T, DirectoryError>,
    pin: &dyn Pin,
) -> Option<Result<T, E>> {
    match attempt {
        Ok(done) => Some(Ok(done)),
        Err(DirectoryError::Stale) if pin.pinned() => Some(Err(DirectoryError::Precondition(
            "the resource changed meanwhile".into(),
        )
        .into())),
        Err(DirectoryError::Stale) => None,
        Err(e) => Some(Err(e.into())),
    }
}

impl Records {
    /// Reads a record or fails with [`DirectoryError::NotFound`].
    pub async fn fetch(&self, t: &TenantId, id: &str) -> Result<Record, DirectoryError> {
        self.get(t, id).await?.ok_or_else(|| {
            DirectoryError::NotFound(format!("no {} with id {id:?}", self.kind.name))
        })
    }

    /// Reads, changes and saves a record, retrying when another writer interleaves (unless
    /// `pin` names versions). `change` returns the new body, or `None` when nothing changes
    /// (then nothing is written, as when the body is unchanged).
    pub async fn update<F, E>(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
        mut change: F,
    ) -> Result<Record, E>
    where
        F: FnMut(&Record) -> Result<Option<Document>, E>,
        E: From<DirectoryError>,
    {
        for _ in 0..ATTEMPTS {
            let current = self.fetch(t, id).await?;
            pin.check(current.version)?;
            let Some(body) = change(&current)? else {
                return Ok(current);
            };
            if body == current.body() {
                return Ok(current);
            }
            if let Some(done) = settle(self.save(t, &current, body).await, pin) {
                return done;
            }
        }
        Err(DirectoryError::Busy.into())
    }

    /// Deletes a record and its indexes, honouring `pin`.
    pub async fn remove(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
    ) -> Result<(), DirectoryError> {
        for _ in 0..ATTEMPTS {
            let current = self.fetch(t, id).await?;
            pin.check(current.version)?;
            if let Some(done) = settle(self.delete(t, &current).await, pin) {
                return done;
            }
        }
        Err(DirectoryError::Busy)
    }
}
