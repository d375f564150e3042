//! Lambda entry point of `directory-maintenance`: EventBridge schedules whose event is a task
//! (`{"task": "drain"}`, `{"task": "check"}`, `{"task": "purge"}`).

#[tokio::main]
async fn main() -> Result<(), muster_lambda::Error> {
    muster_lambda::run_maintenance().await
}
