//! Errors of the Table port.

/// What a Table operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write's condition did not hold; nothing was written. `index` is the position of the
    /// failing write in a transaction (0 for single-item writes).
    #[error("condition failed on write {index}")]
    ConditionFailed {
        /// Position of the first failing write.
        index: usize,
    },
    /// The request itself was invalid (too many items, duplicate keys, bad cursor, empty key).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// Another writer interfered; the caller may retry.
    #[error("transaction conflict, retry")]
    Conflict,
    /// The storage backend failed.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl StoreError {
    /// True when the error is a failed condition at write `index`.
    pub fn is_condition_failed_at(&self, index: usize) -> bool {
        matches!(self, StoreError::ConditionFailed { index: i } if *i == index)
    }
}
