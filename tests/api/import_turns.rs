//! The local worker runs one tenant's imports one after the other but different tenants'
//! side by side: a tenant whose big file is still running never holds back another's.

use std::sync::Arc;

use async_trait::async_trait;
use muster::blob::{BlobError, BlobMeta, Blobs, LocalBlobs, PresignedUpload, UploadSpec};
use muster::http::Imports;
use muster::store::EmbeddedTable;
use tokio::sync::watch;

use crate::import_harness::ImportApp;

/// Local files whose opening, for keys of one tenant, waits until the gate is lifted: a
/// stand-in for a file that takes minutes to import.
struct GatedBlobs {
    inner: LocalBlobs,
    held: std::sync::Mutex<Option<String>>,
    lifted: watch::Sender<bool>,
}

#[async_trait]
impl Blobs for GatedBlobs {
    async fn presign_upload(&self, spec: &UploadSpec) -> Result<PresignedUpload, BlobError> {
        self.inner.presign_upload(spec).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        self.inner.head(key).await
    }
    async fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>, BlobError> {
        let held = self.held.lock().unwrap().clone();
        if held.is_some_and(|prefix| key.starts_with(&prefix)) {
            let mut lifted = self.lifted.subscribe();
            let _ = lifted.wait_for(|up| *up).await;
        }
        self.inner.open(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
}

/// Starts an UPSERT of the uploaded `signed` file through the API; returns the job id.
async fn started(t: &ImportApp, signed: &str) -> u64 {
    let a = t.start(signed, "UPSERT", "").await;
    assert_eq!(a.status, http::StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_u64().unwrap()
}

const HEADER: &str = "matricule,email,first_name,last_name,community,role\n";

#[tokio::test]
async fn a_tenant_waiting_on_a_long_import_does_not_hold_back_another_tenants_file() {
    let table = Arc::new(EmbeddedTable::in_memory());
    let dir = std::env::temp_dir().join(format!("muster-turns-{}", muster::ids::random_id()));
    let local = LocalBlobs::new(&dir, table.clone());
    let (lifted, _) = watch::channel(false);
    let gated = Arc::new(GatedBlobs {
        inner: local.clone(),
        held: std::sync::Mutex::new(None),
        lifted,
    });
    let imports = Imports::in_process(table.clone(), gated.clone(), Some(local)).await;
    let big = ImportApp::with_imports(table.clone(), imports.clone()).await;
    let small = ImportApp::with_imports(table.clone(), imports).await;
    *gated.held.lock().unwrap() = Some(format!("{}-", big.tenant));

    let signed = big
        .upload(&format!("{HEADER}B1,b1@acme.test,B,One,Sales,member\n"))
        .await;
    let big_job = started(&big, &signed).await;
    let second = big
        .upload(&format!("{HEADER}B2,b2@acme.test,B,Two,Sales,member\n"))
        .await;
    let big_second = started(&big, &second).await;
    // `wait` gives up after about ten seconds: run one after the other, this would never end.
    let (_, status) = small
        .import(
            &format!("{HEADER}S1,s1@acme.test,S,One,Legal,member\n"),
            "UPSERT",
            "",
        )
        .await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let waiting = big
        .imports
        .ctx
        .jobs
        .get(&big.tenant, big_second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        waiting.state,
        muster::import::JobState::Created,
        "a tenant's jobs wait their turn"
    );

    gated.lifted.send_replace(true);
    assert_eq!(big.wait(big_job).await["state"], "succeeded");
    assert_eq!(big.wait(big_second).await["state"], "succeeded");
    let _ = std::fs::remove_dir_all(&dir);
}
