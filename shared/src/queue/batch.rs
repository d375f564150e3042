//! Processing a batch of queue deliveries (an SQS event): each message runs or continues its
//! job until the deadline; a job that needs more time is sent again; a message that cannot be
//! processed is reported as failed, so the queue redelivers it and, after a few receives,
//! moves it to the dead-letter queue. Lambda types stay in the function crate.

use std::time::Instant;

use super::{ImportMessage, Queue};
use crate::import::{ImportContext, Outcome, run_job};

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The queue's message id.
    pub id: String,
    /// The message body (an [`ImportMessage`] as JSON).
    pub body: String,
}

/// Runs every delivery; returns the ids of those that failed (for `batchItemFailures`).
pub async fn process_batch(
    ctx: &ImportContext,
    queue: &dyn Queue,
    deliveries: Vec<Delivery>,
    deadline: Instant,
) -> Vec<String> {
    let mut failed = Vec::new();
    for d in deliveries {
        let message: ImportMessage = match serde_json::from_str(&d.body) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(message_id = %d.id, error = %e, "malformed import message");
                failed.push(d.id);
                continue;
            }
        };
        if Instant::now() >= deadline {
            failed.push(d.id);
            continue;
        }
        match run_job(ctx, &message.tenant, message.job, Some(deadline)).await {
            Ok(Outcome::Done) => {}
            Ok(Outcome::Continue) => {
                if let Err(e) = queue.send(message.clone()).await {
                    tracing::error!(message_id = %d.id, error = %e, "cannot send the continuation of an import");
                    failed.push(d.id);
                }
            }
            Err(e) => {
                tracing::error!(message_id = %d.id, tenant = %message.tenant, job = message.job, error = %e, "import step failed; the message will be redelivered");
                failed.push(d.id);
            }
        }
    }
    failed
}
