//! The import API's guards: uploads accept only the declared bytes, presigning validates the
//! declaration, only administrators act, a repeated start is one job, and a redelivered or
//! interrupted job applies and counts nothing twice.

use http::{Method, StatusCode};
use muster::blob::md5_base64;
use muster::import::run_job;
use serde_json::json;

use crate::import_harness::ImportApp;

const FILE: &str = "matricule,email,first_name,last_name,community,role\nE1,ann@acme.test,Ann,Lee,Engineering,member\n";

fn headers_of(p: &serde_json::Value) -> Vec<(&str, String)> {
    p["direct_upload"]["headers_for_direct_upload"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn an_upload_is_refused_unless_body_type_and_checksum_are_exactly_the_declared_ones() {
    let t = ImportApp::new().await;
    let p = t.presign(FILE.as_bytes(), "text/csv").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(
        p.body["direct_upload"]["headers_for_direct_upload"]["Content-MD5"],
        md5_base64(FILE.as_bytes())
    );
    assert!(
        p.body["direct_upload"]["headers_for_direct_upload"]["Content-Disposition"]
            .as_str()
            .unwrap()
            .contains("filename=\"members.csv\"")
    );
    let url = p.body["direct_upload"]["url_for_direct_upload"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://api.test/uploads/"), "{url}");
    let good = headers_of(&p.body);
    let tampered = FILE.replace("Ann", "Anne");
    let same_length = FILE.replace("Ann", "Bob");
    assert_eq!(
        t.put(&url, &good, tampered.as_bytes()).await,
        StatusCode::BAD_REQUEST,
        "wrong size"
    );
    assert_eq!(
        t.put(&url, &good, same_length.as_bytes()).await,
        StatusCode::BAD_REQUEST,
        "BadDigest"
    );
    let mut other_md5 = good.clone();
    other_md5[1].1 = md5_base64(same_length.as_bytes());
    assert_eq!(
        t.put(&url, &other_md5, same_length.as_bytes()).await,
        StatusCode::FORBIDDEN,
        "a changed Content-MD5"
    );
    let mut other_type = good.clone();
    other_type[0].1 = "text/plain".into();
    assert_eq!(
        t.put(&url, &other_type, FILE.as_bytes()).await,
        StatusCode::FORBIDDEN,
        "a changed Content-Type"
    );
    let forged = format!("{}x", url);
    assert_eq!(
        t.put(&forged, &good, FILE.as_bytes()).await,
        StatusCode::FORBIDDEN,
        "a tampered URL"
    );
    let signed = p.body["signed_id"].as_str().unwrap();
    let early = t.start(signed, "UPSERT", "").await;
    assert_eq!(
        (early.status, early.body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("blob_not_uploaded")),
        "nothing was stored"
    );
    assert_eq!(t.put(&url, &good, FILE.as_bytes()).await, StatusCode::OK);
    assert_eq!(
        t.put(&url, &good, FILE.as_bytes()).await,
        StatusCode::FORBIDDEN,
        "an upload URL is used once"
    );
}

#[tokio::test]
async fn presigning_checks_the_declared_file() {
    let t = ImportApp::new().await;
    let path = format!("/blobs?user_id={}", t.admin_user);
    let blob = |ct: &str, size: u64, sum: &str| json!({"blob": {"filename": "f.csv", "content_type": ct, "byte_size": size, "checksum": sum}});
    let ok_sum = md5_base64(b"x");
    for (body, status, code) in [
        (
            blob("application/pdf", 10, &ok_sum),
            400,
            "unsupported_content_type",
        ),
        (
            blob("text/csv", 10, "bm90IG1kNQ=="),
            400,
            "invalid_checksum",
        ),
        (blob("text/csv", 10, "%%%"), 400, "invalid_checksum"),
        (blob("text/csv", 0, &ok_sum), 413, "invalid_byte_size"),
        (blob("text/csv", 1 << 40, &ok_sum), 413, "invalid_byte_size"),
        (json!({"file": {}}), 400, "invalid_blob"),
    ] {
        let a = t.v1(Method::POST, &path, Some(body), &[]).await;
        assert_eq!(
            (a.status.as_u16(), a.body["error"].as_str()),
            (status, Some(code)),
            "{}",
            a.body
        );
    }
    let via_get = t
        .v1(Method::GET, &path, Some(blob("text/csv", 10, &ok_sum)), &[])
        .await;
    assert_eq!(
        via_get.status,
        StatusCode::OK,
        "the documented GET with a body works too"
    );
    assert!(via_get.body["max_byte_size"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn only_administrators_with_an_imports_token_may_import() {
    let t = ImportApp::new().await;
    let someone = t.app.create_user("someone@acme.test").await;
    let a = t
        .v1(
            Method::GET,
            &format!("/member_provisionings?id=1&user_id={someone}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let no_token = t
        .app
        .send(
            http::Request::get("/v1/member_provisionings?id=1")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    let scim_token = t
        .app
        .call_as(
            &t.app.acme.token,
            Method::GET,
            "/v1/member_provisionings?id=1",
            None,
            &[],
        )
        .await;
    assert_eq!(
        scim_token.status,
        StatusCode::UNAUTHORIZED,
        "a SCIM secret token does not open /v1"
    );
    let unknown = t.start("nope", "UPSERT", "").await;
    assert_eq!(
        (unknown.status, unknown.body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_blob"))
    );
    let signed = t.upload(FILE).await;
    let bad_mode = t.start(&signed, "MERGE", "").await;
    assert_eq!(bad_mode.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_job_for_a_repeated_start() {
    let t = ImportApp::new().await;
    let signed = t.upload(FILE).await;
    let path = format!(
        "/member_provisionings?signed_id={signed}&user_id={}&operation=UPSERT",
        t.admin_user
    );
    let first = t
        .v1(Method::POST, &path, None, &[("idempotency-key", "run-42")])
        .await;
    let again = t
        .v1(Method::POST, &path, None, &[("idempotency-key", "run-42")])
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(first.body["id"], again.body["id"]);
    let other = t
        .v1(Method::POST, &path, None, &[("idempotency-key", "run-43")])
        .await;
    assert_ne!(other.body["id"], first.body["id"]);
    t.wait(first.body["id"].as_u64().unwrap()).await;
    t.wait(other.body["id"].as_u64().unwrap()).await;
}

#[tokio::test]
async fn an_interrupted_then_redelivered_job_counts_and_applies_nothing_twice() {
    let t = ImportApp::new().await;
    let mut file = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 0..2500 {
        file.push_str(&format!(
            "M{i},m{i}@acme.test,F{i},L{i},Engineering,member\n"
        ));
    }
    let ctx = t.ctx();
    let signed = t.upload(&file).await;
    let job = t.pending_job(&signed, muster::import::Mode::Upsert).await;
    let past = Some(std::time::Instant::now());
    let first = run_job(&ctx, &t.tenant, job, past).await.unwrap();
    assert_eq!(
        first,
        muster::import::Outcome::Continue,
        "the deadline stops it after one chunk"
    );
    let mid = ctx.jobs.get(&t.tenant, job).await.unwrap().unwrap();
    assert_eq!(
        (mid.state, mid.counters.rows_applied),
        (muster::import::JobState::Syncing, 1000)
    );
    assert_eq!(
        run_job(&ctx, &t.tenant, job, None).await.unwrap(),
        muster::import::Outcome::Done
    );
    assert_eq!(
        run_job(&ctx, &t.tenant, job, None).await.unwrap(),
        muster::import::Outcome::Done,
        "a redelivered message changes nothing"
    );
    let done = ctx.jobs.get(&t.tenant, job).await.unwrap().unwrap();
    assert_eq!(done.state, muster::import::JobState::Succeeded);
    assert_eq!(done.counters.rows_applied, 2500);
    assert_eq!(
        t.report(job).await,
        vec![("CREATE_MEMBER".to_owned(), "Engineering".to_owned(), 2500)]
    );
}

#[tokio::test]
async fn an_ended_jobs_file_is_deleted_and_its_report_stays() {
    let t = ImportApp::new().await;
    let bad = "matricule,email,first_name,last_name,community,role\nE9,not-an-email,A,B,Engineering,member\n";
    for (file, state) in [(FILE, "succeeded"), (bad, "failed")] {
        let (id, status) = t.import(file, "UPSERT", "").await;
        assert_eq!(status["state"], state, "{status}");
        let job = t
            .imports
            .ctx
            .jobs
            .get(&t.tenant, id)
            .await
            .unwrap()
            .unwrap();
        // The file goes right after the job's last state is written.
        let mut left = t.imports.blobs.head(&job.blob_key).await.unwrap();
        for _ in 0..100 {
            if left.is_none() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            left = t.imports.blobs.head(&job.blob_key).await.unwrap();
        }
        assert_eq!(left, None, "the file of the {state} job");
    }
    assert_eq!(
        t.report(1).await,
        vec![("CREATE_MEMBER".into(), "Engineering".into(), 1)]
    );
}

/// 60 members in Engineering and 10 in Sales, the first `sales` of Sales kept.
fn big_and_small(sales: usize) -> String {
    let mut file = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 0..60 {
        file.push_str(&format!("B{i},b{i}@acme.test,B,{i},Engineering,member\n"));
    }
    for i in 0..sales {
        file.push_str(&format!("S{i},s{i}@acme.test,S,{i},Sales,member\n"));
    }
    file
}

#[tokio::test]
async fn a_mirror_that_would_empty_or_gut_one_community_is_refused_with_its_name_and_counts() {
    let t = ImportApp::new().await;
    let (_, status) = t.import(&big_and_small(10), "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    // 10 of the 70 members in scope (14 %) is under the 20 % threshold, but it empties Sales.
    let (_, status) = t.import(&big_and_small(0), "MIRROR", "").await;
    assert_eq!(status["state"], "failed", "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(
        reason.contains("Sales: 10 of its 10 file-sourced members, emptying it"),
        "{reason}"
    );
    assert!(!reason.contains("Engineering"), "{reason}");
    // 3 of Sales' 10 (30 %) is over the threshold for that community alone.
    let (_, status) = t.import(&big_and_small(7), "MIRROR", "").await;
    assert_eq!(status["state"], "failed", "{status}");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("Sales: 3 of its 10"),
        "{status}"
    );
    assert_eq!(t.memberships("S0").await.len(), 1, "nothing was deleted");
    assert_eq!(t.memberships("S9").await.len(), 1, "nothing was deleted");
    // With the override, the same file goes through.
    let (id, status) = t
        .import(&big_and_small(0), "MIRROR", "&allow_mass_delete=true")
        .await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        t.report(id).await,
        vec![("DELETE_MEMBER".into(), "Sales".into(), 10)]
    );
}
