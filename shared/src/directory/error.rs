//! The directory core's error: what went wrong in domain terms, keeping the storage cause.

use crate::store::StoreError;

/// Why a directory command failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A named user, group or community does not exist (or is soft-deleted).
    #[error("{0}")]
    NotFound(String),
    /// The command names something that cannot be used (a member that is not a live user).
    #[error("{0}")]
    Invalid(String),
    /// A unique value is taken by another resource.
    #[error("{0}")]
    Uniqueness(String),
    /// The record is not at a version the caller accepts (`If-Match`).
    #[error("{0}")]
    Precondition(String),
    /// A tenant's policy refuses the value (an e-mail outside its allowed domains).
    #[error("{0}")]
    Refused(String),
    /// The resource changed since it was read; read it again (or answer 412 when pinned).
    #[error("the resource changed meanwhile")]
    Stale,
    /// Other writers kept winning; the caller may retry.
    #[error("the resource is being changed by others; retry")]
    Busy,
    /// The storage backend failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
