//! The activity log through `GET /v1/activity`: every SCIM write and import is recorded once,
//! newest first, paged by cursor as SCIM pages are; filters keep exactly their kind; a cursor
//! it did not answer is refused; only tenant administrators may read it; no secret or body is
//! recorded.

use http::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::user;
use crate::import_harness::ImportApp;

async fn all_pages(t: &ImportApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/activity?user_id={}&count=3{query}{cursor}", t.admin_user);
        let a = t.v1(Method::GET, &path, None, &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let page = a.body["data"].as_array().unwrap();
        assert!(page.len() <= 3);
        out.extend(page.iter().cloned());
        match a.body["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return out,
        }
    }
}

#[tokio::test]
async fn every_write_is_recorded_once_newest_first_and_paged_by_cursor() {
    let t = ImportApp::new().await;
    for i in 0..7 {
        let a = t
            .app
            .call(
                Method::POST,
                "/Users",
                Some(user(&format!("u{i}@acme.test"))),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let read = t.app.call(Method::GET, "/Users", None).await;
    assert_eq!(read.status, StatusCode::OK);
    let (job, _) = t
        .import("matricule,email,first_name,last_name,community,role\nE1,ann@acme.test,Ann,Lee,Engineering,member\n", "UPSERT", "")
        .await;

    // The end of a job is recorded just after its state is (a client may see `succeeded` a
    // moment before the entry).
    let mut events = all_pages(&t, "").await;
    for _ in 0..50 {
        if events.iter().any(|e| e["action"] == "import ended") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        events = all_pages(&t, "").await;
    }
    let scim: Vec<&Value> = events.iter().filter(|e| e["kind"] == "scim").collect();
    // The harness made its administrator through SCIM before the test's seven users.
    assert_eq!(scim.len(), 8, "writes only, each once: {events:#?}");
    assert!(
        scim.iter()
            .all(|e| e["action"] == "POST" && e["resource"] == "/Users" && e["result"] == "201")
    );
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut newest_first = times.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first);
    let imports: Vec<&Value> = events.iter().filter(|e| e["kind"] == "import").collect();
    assert_eq!(imports.len(), 2, "started and ended: {imports:#?}");
    assert_eq!(imports[0]["action"], "import ended");
    assert_eq!(imports[0]["resource"], format!("job {job}"));

    let only_imports = all_pages(&t, "&kind=import").await;
    assert_eq!(only_imports.len(), 2);
    let text = serde_json::to_string(&events).unwrap();
    let secret = t.app.acme.token.split('.').nth(1).unwrap();
    assert!(
        !text.contains(secret) && !text.contains("u3@acme.test"),
        "no secret, no body"
    );

    let bad = t
        .v1(
            Method::GET,
            &format!("/activity?user_id={}&cursor=forged", t.admin_user),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_cursor"))
    );
}

#[tokio::test]
async fn only_tenant_administrators_read_the_activity_log() {
    let t = ImportApp::new().await;
    let lead = t.app.create_user("lead@acme.test").await;
    let engineering = t.community_id("Engineering").await;
    muster::admin::Admin::new(t.app.table.clone())
        .add_admin(&t.tenant, &lead, Some(&engineering))
        .await
        .unwrap();
    let a = t
        .v1(Method::GET, &format!("/activity?user_id={lead}"), None, &[])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
}
