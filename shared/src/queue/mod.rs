//! The Queue port: import jobs travel as messages to a worker that may see a message more than
//! once. Adapters: an in-process channel and worker task ([`LocalQueue`]) and SQS ([`SqsQueue`]).

mod batch;
mod local;
#[cfg(feature = "aws")]
mod notify_sqs;
#[cfg(feature = "aws")]
mod poll_sqs;
#[cfg(feature = "aws")]
mod sqs;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

pub use batch::{Delivery, process_batch};
pub use local::{DEFAULT_CONCURRENCY, LocalQueue, Turns};
#[cfg(feature = "aws")]
pub use notify_sqs::SqsNotifier;
#[cfg(feature = "aws")]
pub use poll_sqs::BATCH_TIME;
#[cfg(feature = "aws")]
pub use sqs::{MAX_RECEIVES, SqsQueue, create_queue_if_missing};

/// "Run (or continue) this job."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMessage {
    /// The tenant.
    pub tenant: TenantId,
    /// The job id.
    pub job: u64,
}

/// Failures of the Queue port.
#[derive(Debug, thiserror::Error)]
#[error("the queue refused the message: {0}")]
pub struct QueueError(pub String);

/// The queue port.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Sends a message (at-least-once delivery to the worker).
    async fn send(&self, message: ImportMessage) -> Result<(), QueueError>;
}
