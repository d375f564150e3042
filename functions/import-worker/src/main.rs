//! Lambda entry point of `import-worker`: SQS batches of import messages, partial failures.

#[tokio::main]
async fn main() -> Result<(), muster_lambda::Error> {
    muster_lambda::run_import_worker().await
}
