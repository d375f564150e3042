//! Imports on DynamoDB (moto): every request the SDK sends is counted by an interceptor, to
//! show that member writes go out in batches and that a file of unchanged rows writes nothing.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use muster::store::DynamoTable;
use serde_json::Value;

use crate::import_harness::ImportApp;
use crate::store_dynamo::{emulator_endpoint, table_on};

/// One request sent to DynamoDB: its operation and the keys (PK, SK) it writes.
#[derive(Debug, Clone)]
struct Request {
    operation: String,
    writes: Vec<(String, String)>,
}

impl Request {
    /// Writes of users, their unique indexes and memberships (not of the job's bookkeeping,
    /// the upload or the audit trail).
    fn member_writes(&self) -> usize {
        let member = |(pk, sk): &&(String, String)| {
            ["USER#", "UNAME#", "EMPNO#", "EXTID#"]
                .iter()
                .any(|p| sk.starts_with(p))
                || pk.contains("#U#")
                || pk.contains("#C#")
        };
        self.writes.iter().filter(member).count()
    }

    fn is_read(&self) -> bool {
        matches!(
            self.operation.as_str(),
            "GetItem" | "BatchGetItem" | "Query" | "Scan"
        )
    }
}

#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<Vec<Request>>>);

impl Recorder {
    fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The (PK, SK) of an item or key in DynamoDB's JSON.
fn key_of(v: &Value) -> (String, String) {
    let s = |name: &str| v[name]["S"].as_str().unwrap_or_default().to_owned();
    (s("PK"), s("SK"))
}

/// The keys a request body writes.
fn written(operation: &str, body: &Value) -> Vec<(String, String)> {
    match operation {
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                [("Put", "Item"), ("Delete", "Key"), ("Update", "Key")]
                    .iter()
                    .find(|(op, field)| t[op][field].is_object())
                    .map(|(op, field)| key_of(&t[op][field]))
            })
            .collect(),
        "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|requests| requests.as_array().into_iter().flatten())
            .map(|r| match r["PutRequest"]["Item"].is_object() {
                true => key_of(&r["PutRequest"]["Item"]),
                false => key_of(&r["DeleteRequest"]["Key"]),
            })
            .collect(),
        "PutItem" => vec![key_of(&body["Item"])],
        "DeleteItem" | "UpdateItem" => vec![key_of(&body["Key"])],
        _ => vec![],
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "muster-test-recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let writes = written(&operation, &body);
        self.0.lock().unwrap().push(Request { operation, writes });
        Ok(())
    }
}

fn members_csv(members: usize) -> String {
    let mut csv = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 0..members {
        for community in ["Engineering", "Sales"] {
            csv.push_str(&format!(
                "D{i:05},d{i}@acme.test,First{i},Last{i},{community},member\n"
            ));
        }
    }
    csv
}

/// Prints and returns (member writes, member write requests, read requests).
fn summary(label: &str, rows: usize, requests: &[Request]) -> (usize, usize, usize) {
    let writes: usize = requests.iter().map(Request::member_writes).sum();
    let write_requests = requests.iter().filter(|r| r.member_writes() > 0).count();
    let reads = requests.iter().filter(|r| r.is_read()).count();
    eprintln!(
        "{label}: {rows} rows, {} DynamoDB requests ({:.3}/row): {writes} member items written \
         in {write_requests} requests, {reads} read requests ({:.3}/row)",
        requests.len(),
        requests.len() as f64 / rows as f64,
        reads as f64 / rows as f64
    );
    (writes, write_requests, reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_on_dynamodb_batches_its_writes_and_writes_nothing_for_unchanged_rows() {
    let test = "an_import_on_dynamodb_batches_its_writes_and_writes_nothing_for_unchanged_rows";
    let Some(endpoint) = emulator_endpoint(test) else {
        return;
    };
    let recorder = Recorder::default();
    let plain = DynamoTable::static_client(&endpoint, "us-east-1", "test", "test");
    let config = plain
        .config()
        .to_builder()
        .interceptor(recorder.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let t = ImportApp::on(Arc::new(table_on(client).await)).await;
    let members = 150;
    let rows = members * 2;
    let csv = members_csv(members);

    recorder.take();
    let (_, status) = t.import(&csv, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let first = recorder.take();
    let (writes, write_requests, reads) = summary("UPSERT into an empty tenant", rows, &first);
    // Reads are batched too: one request per row would be 300 and more (the status polls of
    // the harness are among them).
    // A user, its userName and employeeNumber indexes; two items per membership.
    assert_eq!(writes, members * 3 + rows * 2);
    assert!(
        writes >= 25 * write_requests,
        "{writes} member writes in {write_requests} requests: fewer than 25 per request"
    );
    let single = ["PutItem", "DeleteItem", "UpdateItem"];
    assert!(
        !first
            .iter()
            .any(|r| single.contains(&r.operation.as_str()) && r.member_writes() > 0),
        "no member item is written alone"
    );
    assert!(reads * 4 <= rows, "{reads} read requests for {rows} rows");

    let (_, status) = t.import(&csv, "MIRROR", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let again = recorder.take();
    let (writes, _, reads) = summary("the same file again as MIRROR", rows, &again);
    assert_eq!(writes, 0, "unchanged rows write nothing");
    // A MIRROR reads the members in scope: each community's members are spread over
    // `SHARDS` partitions, read at once (listed, then counted), a fixed cost per community
    // that a file of 300 rows does not amortise.
    let scope = 2 * 2 * muster::store::keys::SHARDS as usize;
    assert!(
        reads * 4 <= rows + 4 * scope,
        "{reads} read requests for {rows} rows"
    );
    assert_eq!(t.memberships("D00007").await.len(), 2);
}
