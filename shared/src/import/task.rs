//! An import's work run as tasks of their own, so that it shares the runtime's threads (one
//! import's planning, decoding and comparing used one core), yet stops with the import.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::store::StoreError;

/// A task of an import's: awaited, it answers the task's outcome (a task that panicked or was
/// cancelled is a storage failure, logged). Dropped, it aborts the task, so an import that
/// stops early leaves no work of its own running behind it.
pub struct Spawned<T>(tokio::task::JoinHandle<Result<T, StoreError>>);

impl<T: Send + 'static> Spawned<T> {
    /// Runs `work` as a task of its own.
    pub fn new(work: impl Future<Output = Result<T, StoreError>> + Send + 'static) -> Self {
        Self(tokio::spawn(work))
    }
}

impl<T> Future for Spawned<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                tracing::error!(error = %e, "an import's task failed");
                Err(StoreError::Backend("an import's task failed".into()))
            })
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
