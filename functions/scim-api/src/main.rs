//! Lambda entry point of the SCIM API: configuration, storage, and the shared Router.

use std::sync::Arc;

use muster::auth::SigningKeys;
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
    let data = std::path::Path::new(&data);
    let table = EmbeddedTable::open(&data.join("muster.redb"))?;
    let keys = match std::env::var("MUSTER_SIGNING_KEYS") {
        Ok(json) => SigningKeys::from_json(&json)?,
        Err(_) => SigningKeys::load_or_create(&data.join("signing-keys.json"))?,
    };
    let state = AppState::new(Arc::new(table), Config::from_env()).with_keys(keys);
    lambda_http::run(app(state)).await
}
