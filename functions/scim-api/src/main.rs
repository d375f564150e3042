//! Lambda entry point of the SCIM API: configuration, storage, and the shared Router.

use std::sync::Arc;

use muster::config::Config;
use muster::http::{AppState, app};
use muster::store::EmbeddedTable;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let data = std::env::var("MUSTER_DATA_DIR").unwrap_or_else(|_| "/tmp/muster".into());
    std::fs::create_dir_all(&data)?;
    let table = EmbeddedTable::open(&std::path::Path::new(&data).join("muster.redb"))?;
    let state = AppState::new(Arc::new(table), Config::from_env());
    lambda_http::run(app(state)).await
}
