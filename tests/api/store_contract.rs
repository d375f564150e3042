//! The Table contract suite on every adapter available without external services.

use muster::store::{EmbeddedTable, contract};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_in_memory_redb_table_passes_the_table_contract() {
    contract::run_all(|| async { EmbeddedTable::in_memory() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_file_backed_redb_table_passes_the_table_contract() {
    let dir = std::env::temp_dir().join(format!("muster-contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("contract.redb");
    let _ = std::fs::remove_file(&path);
    contract::run_all(|| async { EmbeddedTable::open(&path).unwrap() }).await;
    std::fs::remove_dir_all(&dir).unwrap();
}
