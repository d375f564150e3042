//! The SQS adapter of the Notifier port: one message per sent invitation on the
//! notifications queue, for whatever delivers them (e-mail, chat). Sent ten to a request;
//! entries SQS refuses are sent again a few times before the call fails.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use serde_json::json;

use crate::ids::{TenantId, now_rfc3339};
use crate::import::Notifier;
use crate::store::StoreError;

/// Entries in one SendMessageBatch request (the SQS limit).
const BATCH: usize = 10;
/// Requests for one batch (the first and the retries of failed entries).
const ATTEMPTS: usize = 4;

/// Sends invitations to an SQS queue.
#[derive(Clone)]
pub struct SqsNotifier {
    client: Client,
    url: String,
}

impl SqsNotifier {
    /// A notifier sending to the queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

fn failure(what: &str) -> StoreError {
    StoreError::Backend(format!("SQS {what} failed"))
}

fn text(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|_| failure("message attribute"))
}

#[async_trait]
impl Notifier for SqsNotifier {
    /// Each message is `{"type":"invitation","id","tenant","community","user","sent_at"}`;
    /// `id` is the same for a repeated invitation, for consumers to deduplicate on.
    async fn invitations_sent(
        &self,
        t: &TenantId,
        community: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let at = now_rfc3339();
        for chunk in users.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, user) in chunk.iter().enumerate() {
                let body = json!({
                    "type": "invitation",
                    "id": format!("{t}:{community}:{user}"),
                    "tenant": t.as_str(),
                    "community": community,
                    "user": user,
                    "sent_at": at,
                });
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body.to_string())
                    .message_attributes("tenant", text(t.as_str())?)
                    .message_attributes("community", text(community)?)
                    .build()
                    .map_err(|_| failure("message"))?;
                entries.push(entry);
            }
            self.send(entries).await?;
        }
        Ok(())
    }
}

impl SqsNotifier {
    async fn send(&self, mut entries: Vec<SendMessageBatchRequestEntry>) -> Result<(), StoreError> {
        for _ in 0..ATTEMPTS {
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries.clone()))
                .send()
                .await
                .map_err(|e| {
                    tracing::error!(error = ?e, "SQS SendMessageBatch failed");
                    failure("SendMessageBatch")
                })?;
            let failed: Vec<&str> = out.failed.iter().map(|f| f.id.as_str()).collect();
            if failed.is_empty() {
                return Ok(());
            }
            tracing::warn!(
                failed = failed.len(),
                "SQS refused some invitations; retrying"
            );
            entries.retain(|e| failed.contains(&e.id.as_str()));
        }
        Err(failure("SendMessageBatch (entries kept failing)"))
    }
}
