//! List pages at any `startIndex` cost about their own items (issue 18): each full page leaves
//! a hint where the next one resumes, so a client walking a large tenant's users never makes
//! the store read and skip the rows before its page; a walk sees every user once, even when
//! users before its page are deleted meanwhile.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::{Method, StatusCode};

use crate::heat::HeatTable;
use crate::helpers::unlimited;
use crate::import_harness::ImportApp;

const USERS: usize = 3_000;
const PAGE: usize = 100;

async fn tenant_of(users: usize) -> (Arc<HeatTable>, ImportApp) {
    let heat = Arc::new(HeatTable::new());
    let h = ImportApp::on_with(heat.clone(), unlimited()).await;
    let mut csv = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 0..users {
        csv.push_str(&format!(
            "P{i:05},p{i}@acme.test,P,{i},Engineering,member\n"
        ));
    }
    let (_, status) = h.import(&csv, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    (heat, h)
}

fn ids(page: &serde_json::Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn walking_the_pages_reads_about_each_pages_own_items_however_deep() {
    let (heat, h) = tenant_of(USERS).await;
    let mut seen = BTreeSet::new();
    let mut per_page = Vec::new();
    for start in (1..=USERS + 1).step_by(PAGE) {
        heat.take();
        let page = h
            .app
            .get(&format!("/Users?startIndex={start}&count={PAGE}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.body["totalResults"],
            USERS + 1,
            "and the acting administrator"
        );
        let (_, items_read) = heat.take().items();
        per_page.push(items_read);
        seen.extend(ids(&page.body));
    }
    assert_eq!(seen.len(), USERS + 1, "every user listed once");
    let first = per_page[0];
    let deepest = *per_page.iter().max().unwrap();
    println!("items read per page: first {first}, deepest {deepest}, all {per_page:?}");
    assert!(
        deepest <= first * 3 / 2,
        "a deep page reads {deepest} items, the first {first}: {per_page:?}"
    );
    heat.take();
    h.app
        .get(&format!("/Users?startIndex=1501&count={PAGE}"))
        .await;
    let (_, unwalked) = heat.take().items();
    assert!(
        unwalked <= first * 3 / 2,
        "a page walked to by an earlier client resumes too"
    );
}

#[tokio::test]
async fn a_walk_neither_skips_nor_repeats_a_user_when_users_before_its_page_are_deleted() {
    let (_, h) = tenant_of(500).await;
    let first = ids(&h.app.get("/Users?startIndex=1&count=100").await.body);
    for id in &first[..10] {
        let gone = h
            .app
            .call(Method::DELETE, &format!("/Users/{id}"), None)
            .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
    }
    let mut seen: Vec<String> = first.clone();
    for start in (101..=501).step_by(100) {
        seen.extend(ids(&h
            .app
            .get(&format!("/Users?startIndex={start}&count=100"))
            .await
            .body));
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice");
    assert_eq!(
        seen.len(),
        501,
        "every user that was there when the walk began"
    );
}
