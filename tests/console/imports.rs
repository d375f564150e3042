//! The import page: a mode, a file chosen through the file input, a preview (dry run) that
//! changes nothing, then Apply, the report and the history.

use muster::console::members::{MemberQuery, page};

use crate::harness::{Browser, Service, browser_available};

async fn member_count(service: &Service) -> usize {
    let q = MemberQuery {
        limit: 200,
        ..MemberQuery::default()
    };
    page(&service.table, &service.tenant, &service.engineering, &q)
        .await
        .unwrap()
        .rows
        .len()
}

#[tokio::test]
async fn a_file_chosen_in_the_browser_is_previewed_without_a_change_then_applied() {
    if !browser_available() {
        return;
    }
    let service = Service::start(3).await;
    let dir = std::env::temp_dir().join(format!("muster-console-csv-{}", muster::ids::random_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("new-hires.csv");
    let mut csv = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 1..=5 {
        csv.push_str(&format!(
            "N{i:03},new{i}@acme.test,New{i},Hire,Engineering,member\n"
        ));
    }
    csv.push_str("M001,member001@acme.test,Member001,Example,Engineering,member\n");
    std::fs::write(&file, csv).unwrap();

    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser
        .open(&format!(
            "{}/console/communities/{}/imports",
            service.base, service.engineering
        ))
        .await;
    browser
        .wait_for_text("No file was imported into Engineering yet")
        .await;
    let template = browser
        .find("a[href*='operation=UPSERT'][href*='format=csv']")
        .await;
    assert!(template.attr("download").await.unwrap().is_some());

    browser.click("#mode-UPSERT").await;
    browser
        .find("#file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser.click("#preview").await;
    browser
        .wait_for_text("Applying this file would make these changes.")
        .await;
    let report = browser.text("#report tbody").await;
    assert!(
        report.contains("Create") && report.contains("Engineering") && report.contains('5'),
        "{report}"
    );
    browser.screenshot("import-preview").await;
    assert_eq!(member_count(&service).await, 3, "a preview changes nothing");

    browser.click("#apply").await;
    browser.wait_for_text("Import applied").await;
    assert_eq!(member_count(&service).await, 8);
    browser.screenshot("import-applied").await;

    browser.click("#again").await;
    let history = browser.text("#history").await;
    assert!(
        history.contains("UPSERT") && history.contains("Succeeded"),
        "{history}"
    );
    assert!(history.contains("it@acme.test"), "who: {history}");
    assert!(history.contains("new-hires.csv"), "the file: {history}");
    browser.click("#history a").await;
    let result = browser.text("#job-result").await;
    assert_eq!(result, "Succeeded");
    assert!(browser.text("#job-report").await.contains("Create"));
    browser.screenshot("import-job").await;
    browser.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
