//! A tenant's MIRROR threshold applies to the imports that state none.

use crate::import_harness::ImportApp;

const HEADER: &str = "matricule,email,first_name,last_name,community,role\n";

fn rows(n: usize) -> String {
    let mut csv = HEADER.to_owned();
    for i in 1..=n {
        csv.push_str(&format!(
            "E{i},m{i}@acme.test,M{i},Lee,Engineering,member\n"
        ));
    }
    csv
}

#[tokio::test]
async fn the_tenants_mirror_threshold_guards_imports_that_state_none() {
    let t = ImportApp::new().await;
    let (_, status) = t.import(&rows(5), "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded");
    // One of five (20 %) is within the default threshold of 20 %.
    let (_, status) = t.import(&rows(4), "MIRROR", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");

    let tenants = muster::auth::Tenants::new(t.app.table.clone());
    tenants
        .update(&t.tenant, |tenant| tenant.mirror_threshold = Some(0.1))
        .await
        .unwrap();
    let (_, status) = t.import(&rows(5), "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded");
    let (_, status) = t.import(&rows(4), "MIRROR", "").await;
    assert_eq!(status["state"], "failed", "{status}");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("10.0 % threshold"),
        "{status}"
    );
    let (_, status) = t.import(&rows(4), "MIRROR", "&max_delete_ratio=0.5").await;
    assert_eq!(
        status["state"], "succeeded",
        "a stated ratio still wins: {status}"
    );
}
