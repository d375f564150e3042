//! Member-file imports end to end: presign, upload, start, follow, report, row errors.

use http::{Method, StatusCode};
use serde_json::json;

use crate::import_harness::ImportApp;

const HEADER: &str = "matricule,email,first_name,last_name,community,role";

pub fn csv(rows: &[&str]) -> String {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

fn counts(rows: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    v.sort();
    v
}

pub const BASE: &[&str] = &[
    "E1,ann@acme.test,Ann,Lee,Engineering,member",
    "E1,ann@acme.test,Ann,Lee,Sales,contributor",
    "E2,bob@acme.test,Bob,Ray,Engineering,administrator",
    "E3,cyd@acme.test,Cyd,Moe,Sales,member",
];

#[tokio::test]
async fn an_upsert_creates_members_with_pending_invitations_and_reports_per_community() {
    let t = ImportApp::new().await;
    let (id, status) = t.import(&csv(BASE), "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        (
            status["rows_total"].clone(),
            status["rows_applied"].clone(),
            status["rows_failed"].clone()
        ),
        (json!(4), json!(4), json!(0))
    );
    assert_eq!(
        t.report(id).await,
        counts(&[
            ("CREATE_MEMBER", "Engineering", 2),
            ("CREATE_MEMBER", "Sales", 2)
        ])
    );
    assert_eq!(
        t.memberships("E1").await,
        [
            ("Engineering".into(), "member".into(), "invited".into()),
            ("Sales".into(), "contributor".into(), "invited".into())
        ]
    );
    let report = t
        .v1(
            Method::GET,
            &format!(
                "/member_provisionings/reports?id={id}&user_id={}",
                t.admin_user
            ),
            None,
            &[],
        )
        .await
        .body;
    assert_eq!(
        report["meta"]["pagination"],
        json!({"total": 2, "page": 1, "per_page": 20})
    );
    let row = &report["data"][0];
    assert!(
        row["id"].is_u64() && row["created_at"].as_i64().unwrap() > 1_700_000_000_000,
        "{row}"
    );
    let ann = t
        .app
        .get("/Users?filter=userName%20eq%20%22ann@acme.test%22")
        .await
        .body;
    assert_eq!(
        ann["Resources"][0]["name"],
        json!({"givenName": "Ann", "familyName": "Lee"})
    );
}

#[tokio::test]
async fn the_same_file_again_in_mirror_mode_changes_nothing_and_reports_nothing() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let before = t.app.get("/Users").await.body;
    let (id, status) = t.import(&csv(BASE), "MIRROR", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(t.report(id).await, vec![]);
    assert_eq!(
        t.app.get("/Users").await.body["Resources"],
        before["Resources"],
        "no user was rewritten"
    );
}

#[tokio::test]
async fn a_mirror_updates_what_changed_and_deletes_file_memberships_the_file_lacks() {
    let t = ImportApp::new().await;
    t.import(
        &csv(&[
            BASE[0],
            BASE[1],
            BASE[2],
            BASE[3],
            "E4,dee@acme.test,Dee,Kay,Engineering,member",
            "E5,eve@acme.test,Eve,Fox,Legal,member",
        ]),
        "UPSERT",
        "",
    )
    .await;
    let next = csv(&[
        "E1,ann@acme.test,Ann,Lee-Smith,Engineering,member",
        "E1,ann@acme.test,Ann,Lee-Smith,Sales,contributor",
        "E2,bob@acme.test,Bob,Ray,Engineering,member",
        "E4,dee@acme.test,Dee,Kay,Engineering,member",
        "E5,eve@acme.test,Eve,Fox,Legal,member",
    ]);
    let (id, status) = t.import(&next, "MIRROR", "&max_delete_ratio=0.5").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        t.report(id).await,
        counts(&[
            ("UPDATE_MEMBER", "Engineering", 2),
            ("UPDATE_MEMBER", "Sales", 1),
            ("DELETE_MEMBER", "Sales", 1)
        ])
    );
    assert_eq!(t.memberships("E3").await, vec![]);
    assert_eq!(
        t.memberships("E2").await,
        [("Engineering".into(), "member".into(), "invited".into())]
    );
}

#[tokio::test]
async fn a_mirror_removing_more_than_the_threshold_fails_and_changes_nothing_unless_allowed() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let only_one = csv(&[BASE[2]]);
    let (_, status) = t.import(&only_one, "MIRROR", "").await;
    assert_eq!(status["state"], "failed");
    assert!(
        status["reason"].as_str().unwrap().contains("threshold"),
        "{status}"
    );
    assert_eq!(t.memberships("E1").await.len(), 2, "nothing was deleted");
    let (id, status) = t
        .import(&only_one, "MIRROR", "&allow_mass_delete=true")
        .await;
    assert_eq!(status["state"], "succeeded");
    assert_eq!(
        t.report(id).await,
        counts(&[
            ("DELETE_MEMBER", "Engineering", 1),
            ("DELETE_MEMBER", "Sales", 2)
        ])
    );
}

#[tokio::test]
async fn a_delete_file_removes_only_the_listed_memberships() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let (id, status) = t
        .import("matricule;community\nE1;sales\nE9;Sales\n", "DELETE", "")
        .await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(t.report(id).await, counts(&[("DELETE_MEMBER", "Sales", 1)]));
    assert_eq!(
        t.memberships("E1").await,
        [("Engineering".into(), "member".into(), "invited".into())]
    );
    assert_eq!(t.memberships("E3").await.len(), 1);
}

#[tokio::test]
async fn checking_lists_every_bad_row_and_nothing_is_written() {
    let t = ImportApp::new().await;
    let bad = csv(&[
        "E1,ann@acme.test,Ann,Lee,Engineering,member",
        "E2,not-an-email,Bob,Ray,Engineering,member",
        "E3,cyd@acme.test,Cyd,Moe,Marketing,member",
        "E4,dee@acme.test,Dee,Kay,Sales,owner",
        "E1,ann@acme.test,Ann,Lee,Engineering,member",
        ",eve@acme.test,Eve,Fox,Sales,member",
        "E6,ann@acme.test,Ann,Other,Sales,member",
    ]);
    let (id, status) = t.import(&bad, "UPSERT", "").await;
    assert_eq!(status["state"], "failed");
    assert!(
        status["reason"].as_str().unwrap().contains("rejected"),
        "{status}"
    );
    let errors = t
        .v1(
            Method::GET,
            &format!(
                "/member_provisionings/errors?id={id}&user_id={}&per_page=50",
                t.admin_user
            ),
            None,
            &[],
        )
        .await
        .body;
    let found: Vec<(u64, String, String)> = errors["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        (3, "email", "invalid_email"),
        (4, "community", "unknown_community"),
        (5, "role", "unknown_role"),
        (6, "matricule", "duplicate_row"),
        (7, "matricule", "missing_value"),
    ] {
        assert!(
            found.contains(&(want.0, want.1.into(), want.2.into())),
            "{want:?} not in {found:?}"
        );
    }
    assert_eq!(
        errors["meta"]["pagination"]["total"].as_u64().unwrap() as usize,
        found.len()
    );
    assert_eq!(t.memberships("E1").await, vec![], "nothing was written");
    assert_eq!(
        t.app.get("/Users").await.body["totalResults"],
        1,
        "only the administrator exists"
    );
}

#[tokio::test]
async fn structurally_broken_files_fail_with_a_reason() {
    let t = ImportApp::new().await;
    for (file, mode, words) in [
        (
            "matricule,email\nE1,a@acme.test\n",
            "UPSERT",
            "missing required column",
        ),
        ("\0\u{1}\u{2}garbage\n", "DELETE", "not text"),
        ("matricule,community\n", "DELETE", "no rows"),
    ] {
        let (_, status) = t.import(file, mode, "").await;
        assert_eq!(status["state"], "failed", "{file:?}");
        assert!(
            status["reason"].as_str().unwrap().contains(words),
            "{status}"
        );
    }
}

#[tokio::test]
async fn templates_give_each_modes_empty_file() {
    let t = ImportApp::new().await;
    let a = t
        .v1(
            Method::GET,
            "/member_provisionings/templates?operation=DELETE&format=csv",
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, json!("matricule,community\n"));
    assert_eq!(a.header("content-type"), Some("text/csv; charset=utf-8"));
    let bad = t
        .v1(
            Method::GET,
            "/member_provisionings/templates?operation=MERGE",
            None,
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pending_invitations_are_sent_per_community_by_an_administrator() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let sales = t.community_id("Sales").await;
    let sent = t.send_invitations(&sales).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.body["sent"], 2);
    assert_eq!(
        t.memberships("E3").await,
        [("Sales".into(), "member".into(), "invitation_sent".into())]
    );
    assert_eq!(
        t.memberships("E2").await[0].2,
        "invited",
        "other communities wait"
    );
    let again = t.send_invitations(&sales).await;
    assert_eq!(again.body["sent"], 0);
    let recorded = muster::import::LocalNotifier::new(t.app.table.clone())
        .recorded(&t.tenant)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 2);
}

/// A notifications channel that is down.
struct Down;

#[async_trait::async_trait]
impl muster::import::Notifier for Down {
    async fn invitations_sent(
        &self,
        _: &muster::ids::TenantId,
        _: &str,
        _: &[String],
    ) -> Result<(), muster::store::StoreError> {
        Err(muster::store::StoreError::Backend(
            "notifications are down".into(),
        ))
    }
}

#[tokio::test]
async fn invitations_that_could_not_be_sent_stay_pending() {
    let t = ImportApp::notifying(std::sync::Arc::new(Down)).await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let sales = t.community_id("Sales").await;
    let sent = t.send_invitations(&sales).await;
    assert_eq!(sent.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !sent.body.to_string().contains("notifications are down"),
        "internals stay in the logs: {}",
        sent.body
    );
    assert_eq!(
        t.memberships("E3").await,
        [("Sales".into(), "member".into(), "invited".into())],
        "still pending, to be sent again"
    );
}
