//! `muster aws …`: the AWS resources muster needs, for emulators and first tries (production
//! stacks come from `template.yaml`).

use clap::Subcommand;
use serde_json::json;

use crate::output::print;

#[derive(Subcommand)]
pub enum AwsCommand {
    /// Create the DynamoDB table when it is missing (idempotent).
    Bootstrap {
        /// The table.
        #[arg(long, env = "MUSTER_TABLE", default_value = "muster")]
        table: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: AwsCommand) -> anyhow::Result<()> {
    match cmd {
        AwsCommand::Bootstrap { table, json } => {
            let client = muster::store::dynamo_client_from_env().await;
            muster::store::create_table_if_missing(&client, &table).await?;
            print(&json!({"table": table, "ready": true}), json);
        }
    }
    Ok(())
}
