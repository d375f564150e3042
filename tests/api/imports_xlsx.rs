//! XLSX member files: imported like CSV; zip bombs and damaged workbooks fail with a reason.

use http::{Method, StatusCode};

use crate::import_harness::ImportApp;
use crate::imports::{BASE, csv};

#[tokio::test]
async fn an_xlsx_file_imports_like_its_csv_twin_and_the_xlsx_template_reads_back() {
    let t = ImportApp::new().await;
    let rows: Vec<Vec<String>> = csv(BASE)
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let book = muster::import::write_xlsx(&rows);
    let (_, status) = t
        .import_bytes(&book, muster::import::XLSX, "UPSERT", "")
        .await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        t.memberships("E2").await,
        [(
            "Engineering".into(),
            "administrator".into(),
            "invited".into()
        )]
    );
    let template = t
        .v1(
            Method::GET,
            "/member_provisionings/templates?operation=MIRROR&format=xlsx",
            None,
            &[],
        )
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert_eq!(template.header("content-type"), Some(muster::import::XLSX));
}

#[tokio::test]
async fn a_zip_bomb_or_a_damaged_workbook_fails_the_job_with_a_reason() {
    use std::io::Write;
    let t = ImportApp::new().await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(&vec![b' '; 20 << 20]).unwrap();
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 200_000);
    for (file, words) in [
        (bomb, "zip bomb"),
        (b"PK\x03\x04 truncated".to_vec(), "XLSX"),
    ] {
        let (_, status) = t
            .import_bytes(&file, muster::import::XLSX, "UPSERT", "")
            .await;
        assert_eq!(status["state"], "failed");
        assert!(
            status["reason"].as_str().unwrap().contains(words),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_workbook_of_bad_rows_stores_the_first_thousand_errors_and_counts_them_all() {
    let t = ImportApp::new().await;
    let mut rows: Vec<Vec<String>> = vec![
        [
            "matricule",
            "email",
            "first_name",
            "last_name",
            "community",
            "role",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for i in 0..1500 {
        let row = [
            format!("E{i}"),
            format!("not-an-email-{i}"),
            "A".into(),
            "B".into(),
            "Sales".into(),
            "member".into(),
        ];
        rows.push(row.to_vec());
    }
    let book = muster::import::write_xlsx(&rows);
    let (id, status) = t
        .import_bytes(&book, muster::import::XLSX, "UPSERT", "")
        .await;
    assert_eq!(status["state"], "failed", "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(
        reason.contains("1500 row(s) rejected (1500 error(s): invalid_email 1500)"),
        "{reason}"
    );
    assert!(reason.contains("the first 1000 are listed"), "{reason}");
    let errors = t
        .v1(
            Method::GET,
            &format!(
                "/member_provisionings/errors?id={id}&user_id={}&per_page=100",
                t.admin_user
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(errors.body["meta"]["pagination"]["total"], 1000);
    assert_eq!(errors.body["data"][0]["line"], 2);
}
