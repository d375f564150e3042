//! The import worker outside Lambda (`muster serve --aws`): a loop that long-polls the SQS
//! queue and runs what it receives exactly as the worker Lambda does, through
//! [`process_batch`]. Processed messages are deleted; failed ones are left to come back after
//! their visibility timeout and, after a few receives, to move to the dead-letter queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Delivery, Queue, SqsQueue, process_batch};
use crate::import::ImportContext;

/// How long one received batch may run before its jobs save their progress and continue in
/// a follow-up message (as a Lambda's deadline does).
pub const BATCH_TIME: Duration = Duration::from_secs(300);
/// Long-poll wait of one receive, in seconds (SQS's maximum).
const WAIT_SECS: i32 = 20;

impl SqsQueue {
    /// Receives and runs import messages until the task is dropped. Receive errors are logged
    /// and retried after a pause; they never stop the loop.
    pub async fn poll(self: Arc<Self>, ctx: ImportContext) {
        loop {
            if let Err(pause) = self.poll_once(&ctx, WAIT_SECS).await {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// One receive (waiting up to `wait_secs` for messages) and its processing; answers how
    /// many messages were handled, or the pause to take after a failed receive.
    pub async fn poll_once(&self, ctx: &ImportContext, wait_secs: i32) -> Result<usize, Duration> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .visibility_timeout(i32::try_from(BATCH_TIME.as_secs() * 2).unwrap_or(600))
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "SQS ReceiveMessage failed");
                Duration::from_secs(2)
            })?;
        let messages = received.messages.unwrap_or_default();
        let deliveries = messages
            .iter()
            .map(|m| Delivery {
                id: m.message_id.clone().unwrap_or_default(),
                body: m.body.clone().unwrap_or_default(),
            })
            .collect();
        let queue: &dyn Queue = self;
        let failed = process_batch(ctx, queue, deliveries, Instant::now() + BATCH_TIME).await;
        for m in &messages {
            let id = m.message_id.as_deref().unwrap_or_default();
            let Some(receipt) = m.receipt_handle.as_deref() else {
                continue;
            };
            if failed.iter().any(|f| f == id) {
                continue;
            }
            let deleted = self
                .client
                .delete_message()
                .queue_url(&self.url)
                .receipt_handle(receipt)
                .send()
                .await;
            if let Err(e) = deleted {
                // Redelivered later; running a finished job again changes nothing.
                tracing::warn!(message_id = id, error = ?e, "SQS DeleteMessage failed");
            }
        }
        Ok(messages.len())
    }
}
