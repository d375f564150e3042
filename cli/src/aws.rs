//! `muster aws …`: the AWS resources muster needs, for emulators and first tries (production
//! stacks come from `template.yaml`).

use clap::Subcommand;
use serde_json::json;

use crate::output::print;

#[derive(Subcommand)]
pub enum AwsCommand {
    /// Create the DynamoDB table, and the bucket and import queue when named, if missing
    /// (idempotent).
    Bootstrap {
        /// The table.
        #[arg(long, env = "MUSTER_TABLE", default_value = "muster")]
        table: String,
        /// The bucket for member files.
        #[arg(long, env = "MUSTER_BUCKET")]
        bucket: Option<String>,
        /// The name of the import queue (its dead-letter queue is NAME-dlq).
        #[arg(long)]
        queue: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: AwsCommand) -> anyhow::Result<()> {
    match cmd {
        AwsCommand::Bootstrap {
            table,
            bucket,
            queue,
            json,
        } => {
            let client = muster::store::dynamo_client_from_env().await;
            muster::store::create_table_if_missing(&client, &table).await?;
            let mut out = json!({"table": table, "ready": true});
            if let Some(bucket) = bucket {
                let s3 = muster::blob::S3Blobs::from_env(bucket.clone()).await;
                muster::blob::create_bucket_if_missing(s3.client(), &bucket).await?;
                out["bucket"] = json!(bucket);
            }
            if let Some(name) = queue {
                let sqs = muster::queue::SqsQueue::client_from_env().await;
                let url = muster::queue::create_queue_if_missing(&sqs, &name, 5400).await?;
                out["queue_url"] = json!(url);
            }
            print(&out, json);
        }
    }
    Ok(())
}
