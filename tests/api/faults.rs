//! Faults in the middle of an import, on the worker Lambda's path (`process_batch`): the store
//! refuses every write after a budget, the message is redelivered, and the job is run again
//! until it succeeds. The end state and the report must equal those of one clean run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use muster::import::{JobState, Mode};
use muster::queue::{Delivery, ImportMessage, process_batch};
use muster::store::EmbeddedTable;
use serde_json::Value;

use crate::counting::CountingTable;
use crate::import_harness::ImportApp;

const HEADER: &str = "matricule,email,first_name,last_name,community,role\n";
const COMMUNITIES: [&str; 3] = ["Engineering", "Sales", "Legal"];

/// Members M0..M2999, one community each, and a second community for every tenth.
fn base_file() -> String {
    let mut file = String::from(HEADER);
    for i in 0..3000 {
        let c = COMMUNITIES[i % 3];
        file.push_str(&format!("M{i},m{i}@acme.test,F{i},L{i},{c},member\n"));
        if i % 10 == 0 {
            let other = COMMUNITIES[(i + 1) % 3];
            file.push_str(&format!("M{i},m{i}@acme.test,F{i},L{i},{other},member\n"));
        }
    }
    file
}

/// Drops M0..M1499 (1,500 deletions and more), promotes M1500..M1999, renames M2000..M2199
/// and adds M3000..M3999.
fn mirror_file() -> String {
    let mut file = String::from(HEADER);
    for i in 1500..4000 {
        let c = COMMUNITIES[i % 3];
        let role = if i < 2000 { "contributor" } else { "member" };
        let last = if (2000..2200).contains(&i) {
            format!("Renamed{i}")
        } else {
            format!("L{i}")
        };
        file.push_str(&format!("M{i},m{i}@acme.test,F{i},{last},{c},{role}\n"));
    }
    file
}

/// One SQS delivery of job `job`'s message.
fn delivery(t: &ImportApp, job: u64) -> Delivery {
    let message = ImportMessage {
        tenant: t.tenant.clone(),
        job,
    };
    Delivery {
        id: format!("message-of-job-{job}"),
        body: serde_json::to_string(&message).unwrap(),
    }
}

/// Runs one delivery like the worker Lambda; true when the message must be redelivered.
async fn deliver(t: &ImportApp, job: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(600);
    let ctx = &t.imports.ctx;
    !process_batch(ctx, &*t.imports.queue, vec![delivery(t, job)], deadline)
        .await
        .is_empty()
}

/// Every user as (employeeNumber, userName, name, memberships), in order: what an import
/// leaves behind, without ids or timestamps.
async fn members(t: &ImportApp) -> Vec<Value> {
    let ext = "urn:muster:params:scim:schemas:extension:community:2.0:User";
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let mut out = Vec::new();
    let mut start = 1;
    loop {
        let page = t
            .app
            .get(&format!("/Users?startIndex={start}&count=500"))
            .await;
        let resources = page.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if resources.is_empty() {
            break;
        }
        start += resources.len();
        for u in resources {
            let mut memberships: Vec<Value> = u[ext]["memberships"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|m| serde_json::json!([m["display"], m["role"], m["status"]]))
                .collect();
            memberships.sort_by_key(|m| m.to_string());
            out.push(serde_json::json!([
                u[enterprise]["employeeNumber"],
                u["userName"],
                u["name"],
                memberships
            ]));
        }
    }
    out.sort_by_key(|m| m.to_string());
    out
}

/// A harness over a table whose writes can be cut, with the base file imported cleanly.
async fn tenant_with_base() -> (ImportApp, Arc<CountingTable>) {
    let table = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
    let t = ImportApp::on(table.clone()).await;
    let signed = t.upload(&base_file()).await;
    let job = t.pending_job(&signed, Mode::Upsert).await;
    assert!(!deliver(&t, job).await, "the base import succeeds");
    (t, table)
}

/// Job `job` as stored.
async fn job_of(t: &ImportApp, job: u64) -> muster::import::Job {
    t.imports
        .ctx
        .jobs
        .get(&t.tenant, job)
        .await
        .unwrap()
        .unwrap()
}

fn writes(table: &CountingTable) -> usize {
    table.calls.lock().unwrap().writes
}

#[tokio::test]
async fn a_mirror_cut_short_again_and_again_then_redelivered_ends_exactly_like_a_clean_run() {
    let (clean, clean_table) = tenant_with_base().await;
    let signed = clean.upload(&mirror_file()).await;
    let clean_job = clean.pending_job(&signed, Mode::Mirror).await;
    let before = writes(&clean_table);
    assert!(!deliver(&clean, clean_job).await);
    let clean_writes = writes(&clean_table) - before;

    let (cut, table) = tenant_with_base().await;
    let signed = cut.upload(&mirror_file()).await;
    let job = cut.pending_job(&signed, Mode::Mirror).await;
    let mut cuts = 0;
    for attempt in 1..=40 {
        table.allow_writes(Some(attempt * clean_writes / 8));
        if !deliver(&cut, job).await {
            break;
        }
        cuts += 1;
        let status = job_of(&cut, job).await;
        assert!(
            !status.state.is_terminal(),
            "a cut run leaves the job to be redelivered"
        );
    }
    table.allow_writes(None);
    assert!(cuts >= 3, "the store was cut {cuts} times mid-job");

    let done = job_of(&cut, job).await;
    let clean_done = job_of(&clean, clean_job).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(
        (
            done.counters.rows_total,
            done.counters.rows_applied,
            done.counters.rows_failed
        ),
        (
            clean_done.counters.rows_total,
            clean_done.counters.rows_applied,
            clean_done.counters.rows_failed
        )
    );
    let report = cut.report(job).await;
    assert_eq!(report, clean.report(clean_job).await);
    assert!(
        report
            .iter()
            .any(|(code, _, n)| code == "DELETE_MEMBER" && *n > 0),
        "the deletions are part of what is compared: {report:?}"
    );
    let state = members(&cut).await;
    assert_eq!(state.len(), 4001, "4,000 members and the administrator");
    assert_eq!(state, members(&clean).await);

    let before = writes(&table);
    assert!(!deliver(&cut, job).await);
    assert_eq!(
        writes(&table),
        before,
        "a redelivered message writes nothing"
    );
    assert_eq!(cut.report(job).await, report);
}

#[tokio::test]
async fn a_tenant_read_that_fails_sends_the_job_back_and_never_drops_the_domain_check() {
    let table = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
    let t = ImportApp::on(table.clone()).await;
    muster::auth::Tenants::new(t.app.table.clone())
        .update(&t.tenant, |x| x.domains = vec!["acme.test".into()])
        .await
        .unwrap();
    let file = format!(
        "{HEADER}A1,a1@acme.test,A,One,Sales,member\nX1,x1@elsewhere.test,X,One,Sales,member\n"
    );
    let signed = t.upload(&file).await;
    let job = t.pending_job(&signed, Mode::Upsert).await;
    table.fail_reads_of(Some(muster::store::keys::tenant(&t.tenant)));
    assert!(deliver(&t, job).await, "the message goes back to the queue");
    assert!(!job_of(&t, job).await.state.is_terminal());
    let outsider = t
        .app
        .get("/Users?filter=userName%20eq%20%22x1@elsewhere.test%22")
        .await;
    assert_eq!(outsider.body["totalResults"], 0, "nothing ran unchecked");
    table.fail_reads_of(None);
    assert!(!deliver(&t, job).await);
    // Read this time, the allowlist refuses the outsider's row, and with it the whole file.
    assert_eq!(job_of(&t, job).await.state, JobState::Failed);
    let outsider = t
        .app
        .get("/Users?filter=userName%20eq%20%22x1@elsewhere.test%22")
        .await;
    assert_eq!(outsider.body["totalResults"], 0);
}
