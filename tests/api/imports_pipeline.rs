//! Chunks of an import overlap (issue 18), yet each member's rows apply in file order: a
//! member listed in rows far apart, in chunks that would run at once, is created once, gets
//! every membership, takes its later row's values, and is counted once. The checking pass
//! reads a block of rows while the block before it is looked up, yet keeps and lists its row
//! errors as a pass one block at a time would.

use serde_json::json;

use crate::import_harness::ImportApp;

const HEADER: &str = "matricule,email,first_name,last_name,community,role\n";

fn row(i: usize, community: &str) -> String {
    format!("E{i:05},e{i}@acme.test,E,{i},{community},member\n")
}

#[tokio::test]
async fn a_member_listed_in_several_chunks_is_created_once_with_every_membership() {
    let h = ImportApp::new().await;
    let mut csv = String::from(HEADER);
    for i in 0..4_500 {
        csv.push_str(&row(i, "Engineering"));
        if i == 1_700 {
            // E00007 again, for Sales and with a new last name, in the second chunk.
            csv.push_str("E00007,e7@acme.test,E,Later,Sales,member\n");
        }
    }
    let (id, status) = h.import(&csv, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["rows_applied"], json!(4_501));
    let mut report = h.report(id).await;
    report.retain(|(code, _, _)| code == "CREATE_MEMBER");
    assert_eq!(
        report,
        [
            ("CREATE_MEMBER".into(), "Engineering".into(), 4_500),
            ("CREATE_MEMBER".into(), "Sales".into(), 1)
        ]
    );
    let communities: Vec<String> = h
        .memberships("E00007")
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(communities, ["Engineering", "Sales"]);
    let found = h
        .app
        .get("/Users?filter=employeeNumber%20eq%20%22E00007%22")
        .await
        .body;
    assert_eq!(
        found["Resources"][0]["name"]["familyName"], "Later",
        "the later row wins"
    );
    let users = h.app.get("/Users?count=0").await.body;
    assert_eq!(
        users["totalResults"], 4_501,
        "4,500 members and the administrator"
    );
}

#[tokio::test]
async fn the_same_file_again_changes_nothing_and_a_mirror_without_half_of_it_removes_that_half() {
    let h = ImportApp::new().await;
    let rows: Vec<String> = (0..3_000).map(|i| row(i, "Engineering")).collect();
    let full = format!("{HEADER}{}", rows.concat());
    let (_, first) = h.import(&full, "UPSERT", "").await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let (again, status) = h.import(&full, "MIRROR", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(h.report(again).await, vec![], "nothing changed");
    let half = format!("{HEADER}{}", rows[..1_500].concat());
    let (cut, status) = h.import(&half, "MIRROR", "&allow_mass_delete=true").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let removed: u64 = h
        .report(cut)
        .await
        .iter()
        .filter(|(code, _, _)| code == "DELETE_MEMBER")
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(removed, 1_500);
    assert!(h.memberships("E02999").await.is_empty());
    assert_eq!(h.memberships("E00000").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_checked_while_earlier_ones_are_looked_up_and_the_first_errors_kept_are_the_files_first()
 {
    let h = ImportApp::new().await;
    let (_, first) = h
        .import(&format!("{HEADER}{}", row(0, "Engineering")), "UPSERT", "")
        .await;
    assert_eq!(first["state"], "succeeded", "{first}");
    // Line 501 takes E00000's e-mail, which the first block's lookups find while the second
    // block (lines 1,002 to 2,001, every one a bad e-mail) is read: 1,001 errors, of which the
    // first 1,000 are kept, so line 501's must be.
    let mut csv = String::from(HEADER);
    for i in 1..2_500 {
        match i {
            500 => csv.push_str("X00500,e0@acme.test,X,500,Engineering,member\n"),
            1_001..=2_000 => csv.push_str(&format!("E{i:05},bad,E,{i},Engineering,member\n")),
            _ => csv.push_str(&row(i, "Engineering")),
        }
    }
    let (id, status) = h.import(&csv, "UPSERT", "").await;
    assert_eq!(status["state"], "failed", "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(
        reason.contains("1001 row(s) rejected") && reason.contains("the first 1000 are listed"),
        "{reason}"
    );
    let path = format!(
        "/member_provisionings/errors?id={id}&user_id={}&per_page=2",
        h.admin_user
    );
    let errors = h.v1(http::Method::GET, &path, None, &[]).await.body;
    let listed: Vec<(u64, &str)> = errors["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(501, "email_taken"), (1_002, "invalid_email")]);
    assert_eq!(h.memberships("E00001").await, vec![], "nothing was written");
}
