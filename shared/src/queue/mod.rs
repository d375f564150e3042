//! The Queue port: import jobs travel as messages to a worker that may see a message more than
//! once. Adapters: an in-process channel and worker task ([`LocalQueue`]) and SQS ([`SqsQueue`]).

mod batch;
#[cfg(feature = "aws")]
mod notify_sqs;
#[cfg(feature = "aws")]
mod poll_sqs;
#[cfg(feature = "aws")]
mod sqs;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::import::{ImportContext, run_job};

pub use batch::{Delivery, process_batch};
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

/// An in-process queue with one worker task running jobs one after the other.
#[derive(Clone)]
pub struct LocalQueue {
    tx: tokio::sync::mpsc::UnboundedSender<ImportMessage>,
}

impl LocalQueue {
    /// Starts the worker task and re-queues every job left unfinished by a previous process.
    pub async fn start(ctx: ImportContext) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ImportMessage>();
        let queue = Self { tx: tx.clone() };
        match ctx.jobs.active().await {
            Ok(active) => {
                for (tenant, job) in active {
                    let _ = tx.send(ImportMessage { tenant, job });
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list unfinished imports"),
        }
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                match run_job(&ctx, &m.tenant, m.job, None).await {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(tenant = %m.tenant, job = m.job, error = %e, "import stopped by an internal error");
                        ctx.jobs.fail_internally(&m.tenant, m.job).await;
                    }
                }
            }
        });
        queue
    }
}

#[async_trait]
impl Queue for LocalQueue {
    async fn send(&self, message: ImportMessage) -> Result<(), QueueError> {
        self.tx
            .send(message)
            .map_err(|_| QueueError("the import worker stopped".into()))
    }
}
