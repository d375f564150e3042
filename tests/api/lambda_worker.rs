//! The SQS-triggered import worker's handler logic, fed the batch of `events/`: a good message
//! runs its job, a bad one is reported in `batchItemFailures`.

use aws_lambda_events::event::sqs::SqsEvent;
use muster::queue::process_batch;

use crate::import_harness::ImportApp;

#[tokio::test]
async fn a_batch_with_one_bad_message_runs_the_good_job_and_reports_only_the_bad_one() {
    let t = ImportApp::new().await;
    let signed = t.upload("matricule,email,first_name,last_name,community,role\nW1,w1@acme.test,W,One,Legal,member\n").await;
    let job = t.pending_job(&signed, muster::import::Mode::Upsert).await;
    let path = format!(
        "{}/../events/sqs-import-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{tenant}}", t.tenant.as_str())
        .replace("{{job}}", &job.to_string());
    let event: SqsEvent = serde_json::from_str(&raw).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let failed = process_batch(
        &t.imports.ctx,
        &*t.imports.queue,
        muster_lambda::deliveries(event),
        deadline,
    )
    .await;
    assert_eq!(failed, ["22222222-2222-4222-8222-222222222222"]);
    let response = serde_json::to_value(muster_lambda::batch_response(failed)).unwrap();
    assert_eq!(
        response["batchItemFailures"][0]["itemIdentifier"],
        "22222222-2222-4222-8222-222222222222"
    );
    let done = t
        .imports
        .ctx
        .jobs
        .get(&t.tenant, job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, muster::import::JobState::Succeeded);
    assert_eq!(
        t.memberships("W1").await,
        [("Legal".into(), "member".into(), "invited".into())]
    );
}
