//! Dry runs of member-file imports (`dry_run=true`): the same checks and forecast as the real
//! import, nothing written to the directory, the MIRROR guard's verdict in the status, and the
//! file kept so that the real import can start from the same `signed_id`.

use http::{Method, StatusCode};
use muster::import::{Mode, Outcome, run_job};
use serde_json::{Value, json};

use crate::import_harness::ImportApp;
use crate::imports::{BASE, csv};

/// Starts an import of the uploaded `signed` and waits for it; answers (job id, status).
async fn run(t: &ImportApp, signed: &str, operation: &str, extra: &str) -> (u64, Value) {
    let started = t.start(signed, operation, extra).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let id = started.body["id"].as_u64().unwrap();
    (id, t.wait(id).await)
}

/// A report as (code, community, count), sorted as [`ImportApp::report`] answers.
fn report(rows: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|(code, name, n)| (code.to_string(), name.to_string(), *n))
        .collect();
    v.sort();
    v
}

/// The row errors of job `id` as (line, column, code).
async fn errors(t: &ImportApp, id: u64) -> Vec<(u64, String, String)> {
    let path = format!(
        "/member_provisionings/errors?id={id}&user_id={}&per_page=100",
        t.admin_user
    );
    let answer = t.v1(Method::GET, &path, None, &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap().to_owned();
            (e["line"].as_u64().unwrap(), text("column"), text("code"))
        })
        .collect()
}

#[tokio::test]
async fn a_dry_run_of_an_upsert_writes_nothing_and_reports_what_the_real_run_then_does() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let before = t.app.get("/Users").await.body;
    let signed = t
        .upload(&csv(&[
            "E1,ann@acme.test,Ann,Lee-Smith,Engineering,member",
            "E1,ann@acme.test,Ann,Lee-Smith,Sales,contributor",
            "E2,bob@acme.test,Bob,Ray,Engineering,member",
            "E2,bob@acme.test,Bob,Ray,Legal,member",
            "E4,dee@acme.test,Dee,Kay,Sales,member",
        ]))
        .await;
    let (dry, status) = run(&t, &signed, "UPSERT", "&dry_run=true").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    for (key, want) in [
        ("dry_run", json!(true)),
        ("would_apply", json!(true)),
        ("reason", Value::Null),
        ("rows_total", json!(5)),
        ("rows_applied", json!(0)),
        ("rows_failed", json!(0)),
    ] {
        assert_eq!(status[key], want, "{key} in {status}");
    }
    let forecast = t.report(dry).await;
    assert_eq!(
        forecast,
        report(&[
            ("CREATE_MEMBER", "Legal", 1),
            ("CREATE_MEMBER", "Sales", 1),
            ("UPDATE_MEMBER", "Engineering", 2),
            ("UPDATE_MEMBER", "Sales", 1),
        ])
    );
    assert_eq!(
        t.app.get("/Users").await.body,
        before,
        "no user and no membership was written"
    );
    assert_eq!(t.memberships("E4").await, vec![]);
    let (real, status) = run(&t, &signed, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "the file was kept: {status}");
    assert_eq!(status["dry_run"], false);
    assert!(status.get("would_apply").is_none() && status.get("reason").is_none());
    assert_eq!(t.report(real).await, forecast);
    assert_eq!(
        t.memberships("E2").await,
        [
            ("Engineering".into(), "member".into(), "invited".into()),
            ("Legal".into(), "member".into(), "invited".into())
        ]
    );
    // The file is deleted just after the job is marked succeeded (a crash in between must
    // not fail a job that applied everything), so a start may still find it for a moment.
    let mut again = t.start(&signed, "UPSERT", "&dry_run=true").await;
    for _ in 0..50 {
        if again.status == StatusCode::UNPROCESSABLE_ENTITY {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        again = t.start(&signed, "UPSERT", "&dry_run=true").await;
    }
    assert_eq!(
        (again.status, again.body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("blob_not_uploaded")),
        "the real import deleted the file"
    );
}

#[tokio::test]
async fn a_dry_run_of_a_mirror_the_guard_refuses_succeeds_with_the_refusal_and_the_deletions() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    let only_one = csv(&[BASE[2]]);
    let signed = t.upload(&only_one).await;
    let (dry, status) = run(&t, &signed, "MIRROR", "&dry_run=true").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["would_apply"], false, "{status}");
    let reason = status["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("threshold"), "{reason}");
    let forecast = t.report(dry).await;
    assert_eq!(
        forecast,
        report(&[
            ("DELETE_MEMBER", "Engineering", 1),
            ("DELETE_MEMBER", "Sales", 2)
        ])
    );
    assert_eq!(t.memberships("E1").await.len(), 2, "nothing was deleted");
    let (_, refused) = run(&t, &signed, "MIRROR", "").await;
    assert_eq!(refused["state"], "failed");
    assert_eq!(
        refused["reason"], reason,
        "the verdict is the real job's refusal"
    );
    let (real, allowed) = t
        .import(&only_one, "MIRROR", "&allow_mass_delete=true")
        .await;
    assert_eq!(allowed["state"], "succeeded", "{allowed}");
    assert_eq!(t.report(real).await, forecast);
}

#[tokio::test]
async fn a_dry_run_of_a_file_with_row_errors_would_not_apply_and_lists_the_errors() {
    let t = ImportApp::new().await;
    let signed = t
        .upload(&csv(&[
            "E1,ann@acme.test,Ann,Lee,Engineering,member",
            "E2,not-an-email,Bob,Ray,Engineering,member",
            "E3,cyd@acme.test,Cyd,Moe,Marketing,member",
        ]))
        .await;
    let (dry, status) = run(&t, &signed, "UPSERT", "&dry_run=true").await;
    assert_eq!(
        (
            &status["state"],
            &status["would_apply"],
            &status["rows_failed"]
        ),
        (&json!("succeeded"), &json!(false), &json!(2)),
        "{status}"
    );
    let reason = status["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("rejected"), "{reason}");
    let listed = errors(&t, dry).await;
    assert_eq!(
        listed,
        [
            (3, "email".into(), "invalid_email".into()),
            (4, "community".into(), "unknown_community".into())
        ]
    );
    assert_eq!(t.report(dry).await, vec![], "nothing would be applied");
    assert_eq!(t.memberships("E1").await, vec![], "nothing was written");
    let (real, refused) = run(&t, &signed, "UPSERT", "").await;
    assert_eq!(refused["reason"], reason);
    assert_eq!(errors(&t, real).await, listed);
}

#[tokio::test]
async fn a_dry_run_parameter_other_than_true_or_false_is_a_400() {
    let t = ImportApp::new().await;
    let signed = t.upload(&csv(&[BASE[0]])).await;
    let maybe = t.start(&signed, "UPSERT", "&dry_run=maybe").await;
    assert_eq!(
        (maybe.status, maybe.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_parameter")),
        "{}",
        maybe.body
    );
    assert!(maybe.body["message"].as_str().unwrap().contains("dry_run"));
    let (_, status) = run(&t, &signed, "UPSERT", "&dry_run=false").await;
    assert_eq!(
        (&status["state"], &status["dry_run"]),
        (&json!("succeeded"), &json!(false))
    );
}

/// Starts an UPSERT of `signed` with idempotency key `hr-7`; answers (status, job id).
async fn start_keyed(t: &ImportApp, signed: &str, dry_run: bool) -> (StatusCode, u64) {
    let path = format!(
        "/member_provisionings?signed_id={signed}&user_id={}&operation=UPSERT&dry_run={dry_run}",
        t.admin_user
    );
    let answer = t
        .v1(Method::POST, &path, None, &[("idempotency-key", "hr-7")])
        .await;
    (answer.status, answer.body["id"].as_u64().unwrap())
}

#[tokio::test]
async fn an_idempotency_key_starts_one_dry_run_and_one_real_import_never_one_for_the_other() {
    let t = ImportApp::new().await;
    let signed = t.upload(&csv(&[BASE[0]])).await;
    let (created, dry) = start_keyed(&t, &signed, true).await;
    assert_eq!(created, StatusCode::CREATED);
    assert_eq!(start_keyed(&t, &signed, true).await, (StatusCode::OK, dry));
    assert_eq!(t.wait(dry).await["dry_run"], true);
    let (created, real) = start_keyed(&t, &signed, false).await;
    assert_eq!(
        created,
        StatusCode::CREATED,
        "the dry run's key starts no real job"
    );
    assert_ne!(real, dry);
    assert_eq!(
        start_keyed(&t, &signed, false).await,
        (StatusCode::OK, real)
    );
    assert_eq!(start_keyed(&t, &signed, true).await, (StatusCode::OK, dry));
    assert_eq!(t.wait(real).await["dry_run"], false);
}

#[tokio::test]
async fn a_dry_run_cut_short_counts_a_member_whose_rows_span_chunks_as_the_real_run_does() {
    let t = ImportApp::new().await;
    t.import(&csv(BASE), "UPSERT", "").await;
    // Ann's new name comes in the first chunk of 1,000 rows and again in the second: the
    // real run updates her in the first, and finds her Sales row already in line.
    let mut rows = vec!["E1,ann@acme.test,Ann,Lee-Smith,Engineering,member".to_owned()];
    rows.extend((0..1000).map(|i| format!("M{i},m{i}@acme.test,F{i},L{i},Legal,member")));
    rows.push("E1,ann@acme.test,Ann,Lee-Smith,Sales,contributor".into());
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let signed = t.upload(&csv(&rows)).await;
    let ctx = t.ctx();
    let dry = t.pending_job(&signed, Mode::Upsert).await;
    let mut job = ctx.jobs.get(&t.tenant, dry).await.unwrap().unwrap();
    ctx.jobs
        .update(&mut job, |j| j.dry_run = true)
        .await
        .unwrap();
    let past = Some(std::time::Instant::now());
    let first = run_job(&ctx, &t.tenant, dry, past).await.unwrap();
    assert_eq!(
        first,
        Outcome::Continue,
        "the deadline stops it after one chunk"
    );
    let mid = ctx.jobs.get(&t.tenant, dry).await.unwrap().unwrap();
    assert_eq!(
        (mid.counters.rows_read, mid.counters.rows_applied),
        (1000, 0)
    );
    assert_eq!(
        run_job(&ctx, &t.tenant, dry, None).await.unwrap(),
        Outcome::Done
    );
    let done = ctx.jobs.get(&t.tenant, dry).await.unwrap().unwrap();
    assert_eq!(done.would_apply(), Some(true), "{:?}", done.reason);
    let forecast = t.report(dry).await;
    assert_eq!(
        forecast,
        report(&[
            ("CREATE_MEMBER", "Legal", 1000),
            ("UPDATE_MEMBER", "Engineering", 1)
        ])
    );
    assert_eq!(t.memberships("M0").await, vec![], "nothing was written");
    let (real, status) = run(&t, &signed, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(t.report(real).await, forecast);
}
