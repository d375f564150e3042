//! The SQS adapter of the Queue port: messages carry the job as JSON, with the tenant and job
//! id as message attributes for operators reading the queue or its dead-letter queue.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};

use super::{ImportMessage, Queue, QueueError};

/// How many receives before a message moves to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

/// An SQS queue.
#[derive(Clone)]
pub struct SqsQueue {
    pub(super) client: Client,
    pub(super) url: String,
}

fn attribute(value: String) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError(e.to_string()))
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// A client from the standard AWS environment (`AWS_ENDPOINT_URL` honoured).
    pub async fn client_from_env() -> Client {
        Client::new(&crate::sdk::config_from_env().await)
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, message: ImportMessage) -> Result<(), QueueError> {
        let body = serde_json::to_string(&message).map_err(|e| QueueError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes("tenant", attribute(message.tenant.to_string())?)
            .message_attributes("job", attribute(message.job.to_string())?)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "SQS SendMessage failed");
                QueueError("SQS SendMessage failed".into())
            })?;
        Ok(())
    }
}

fn fail<E: std::fmt::Debug>(what: &'static str) -> impl Fn(E) -> QueueError {
    move |e| {
        tracing::error!(error = ?e, "{what} failed");
        QueueError(format!("{what} failed"))
    }
}

/// Creates (or finds) the queue `name` with its dead-letter queue `name-dlq`, a redrive policy
/// after [`MAX_RECEIVES`] receives, and a visibility timeout of `visibility_secs`; returns the
/// queue URL. Idempotent.
pub async fn create_queue_if_missing(
    client: &Client,
    name: &str,
    visibility_secs: u32,
) -> Result<String, QueueError> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(fail("CreateQueue (dead-letter)"))?;
    let dlq_url = dlq.queue_url().unwrap_or_default().to_owned();
    let attrs = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(fail("GetQueueAttributes"))?;
    let dlq_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    let redrive =
        serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
            .to_string();
    let queue = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_secs.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(fail("CreateQueue"))?;
    Ok(queue.queue_url().unwrap_or_default().to_owned())
}
