//! `muster aws bootstrap`, `muster tenant create --aws` and `muster serve --aws` against
//! DynamoDB on moto's server (started by scripts/test, which sets
//! MUSTER_TEST_DYNAMODB_ENDPOINT).

use std::process::Command;

use serde_json::json;

mod common;

use common::{MUSTER, http, run_json, start};

fn endpoint() -> Option<String> {
    match std::env::var("MUSTER_TEST_DYNAMODB_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("MUSTER_REQUIRE_EMULATORS").as_deref() == Ok("1") => {
            panic!("MUSTER_TEST_DYNAMODB_ENDPOINT is not set: run scripts/test, which starts moto")
        }
        _ => {
            eprintln!("skipped: no DynamoDB emulator (scripts/test starts one)");
            None
        }
    }
}

fn command(endpoint: &str, table: &str, data: &std::path::Path) -> Command {
    let mut c = Command::new(MUSTER);
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("MUSTER_TABLE", table)
        .env("MUSTER_DATA_DIR", data);
    c
}

#[test]
fn serve_aws_answers_the_scim_round_trip_with_dynamodb() {
    let Some(endpoint) = endpoint() else { return };
    let table = format!("muster-cli-{}", std::process::id());
    let data = std::env::temp_dir().join(format!("muster-aws-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    assert_eq!(
        run_json(command(&endpoint, &table, &data), &["aws", "bootstrap"])["ready"],
        true
    );
    assert_eq!(
        run_json(command(&endpoint, &table, &data), &["aws", "bootstrap"])["ready"],
        true,
        "bootstrap is idempotent"
    );
    let tenant = run_json(
        command(&endpoint, &table, &data),
        &[
            "tenant",
            "create",
            "--aws",
            "--name",
            "Cloud",
            "--domain",
            "cloud.test",
        ],
    );
    let listed = run_json(
        command(&endpoint, &table, &data),
        &["tenant", "list", "--aws"],
    );
    assert_eq!(listed[0]["id"], tenant["tenant_id"]);
    let mut serve = command(&endpoint, &table, &data);
    serve.args(["serve", "--aws", "--addr", "127.0.0.1:0"]);
    let (server, line) = start(serve);
    assert!(line.contains("DynamoDB table"), "{line}");
    let addr = server.addr.clone();
    let (base, token) = (
        tenant["scim_base_url"].as_str().unwrap(),
        tenant["scim_token"].as_str().unwrap(),
    );
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@cloud.test"});
    let (status, created) = http(
        &addr,
        "POST",
        &format!("{base}/Users"),
        token,
        Some(user.clone()),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        http(&addr, "POST", &format!("{base}/Users"), token, Some(user)).0,
        409
    );
    let (status, read) = http(&addr, "GET", &format!("{base}/Users/{id}"), token, None);
    assert_eq!(
        (status, read["userName"].as_str()),
        (200, Some("ada@cloud.test"))
    );
    let (_, found) = http(
        &addr,
        "GET",
        &format!("{base}/Users?filter=userName%20eq%20%22ADA@cloud.test%22"),
        token,
        None,
    );
    assert_eq!(found["totalResults"], 1);
    assert_eq!(
        http(&addr, "DELETE", &format!("{base}/Users/{id}"), token, None).0,
        204
    );
    assert_eq!(
        http(&addr, "GET", &format!("{base}/Users/{id}"), token, None).0,
        404
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn serve_aws_runs_imports_from_the_sqs_queue() {
    let Some(endpoint) = endpoint() else { return };
    let id = muster::ids::random_id();
    let table = format!("muster-cli-q-{id}");
    let data = std::env::temp_dir().join(format!("muster-aws-q-{id}"));
    std::fs::create_dir_all(&data).unwrap();
    let queue = format!("muster-cli-{}", &id[24..]);
    let ready = run_json(
        command(&endpoint, &table, &data),
        &["aws", "bootstrap", "--queue", &queue],
    );
    let queue_url = ready["queue_url"].as_str().unwrap().to_owned();
    let tenant = run_json(
        command(&endpoint, &table, &data),
        &["tenant", "create", "--aws", "--name", "Queued"],
    );
    let t = tenant["tenant_id"].as_str().unwrap();
    run_json(
        command(&endpoint, &table, &data),
        &[
            "community",
            "create",
            "--aws",
            "--tenant",
            t,
            "--name",
            "Ops",
        ],
    );
    let mut serve = command(&endpoint, &table, &data);
    serve
        .env("MUSTER_QUEUE_URL", &queue_url)
        .args(["serve", "--aws", "--addr", "127.0.0.1:0"]);
    let (server, _) = start(serve);
    let file = data.join("members.csv");
    std::fs::write(
        &file,
        "matricule,email,first_name,last_name,community,role\nQ1,q1@queued.test,Q,One,Ops,member\nQ2,q2@queued.test,Q,Two,Ops,contributor\n",
    )
    .unwrap();
    let out = Command::new(MUSTER)
        .arg("import")
        .arg(&file)
        .args(["--mode", "upsert", "--url", &server.url(), "--json"])
        .args(["--client-id", tenant["client_id"].as_str().unwrap()])
        .args(["--client-secret", tenant["client_secret"].as_str().unwrap()])
        .args(["--user-id", tenant["admin_user_id"].as_str().unwrap()])
        .output()
        .unwrap();
    let result: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{result}");
    assert_eq!(result["job"]["state"], "succeeded");
    assert_eq!(result["report"][0]["code"], "CREATE_MEMBER");
    assert_eq!(result["report"][0]["operation_data"]["value"], 2);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// `muster check --aws --tenant T --json [--repair]`: its exit code and report.
fn check_aws(
    endpoint: &str,
    table: &str,
    data: &std::path::Path,
    tenant: &str,
    repair: bool,
) -> (i32, serde_json::Value) {
    let mut c = command(endpoint, table, data);
    c.args(["check", "--aws", "--tenant", tenant, "--json"]);
    if repair {
        c.arg("--repair");
    }
    let out = c.output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn check_aws_finds_drift_on_dynamodb_exits_non_zero_and_repairs_it() {
    let Some(endpoint) = endpoint() else { return };
    let id = muster::ids::random_id();
    let table = format!("muster-cli-check-{id}");
    let data = std::env::temp_dir().join(format!("muster-aws-check-{id}"));
    std::fs::create_dir_all(&data).unwrap();
    run_json(command(&endpoint, &table, &data), &["aws", "bootstrap"]);
    let tenant = run_json(
        command(&endpoint, &table, &data),
        &["tenant", "create", "--aws", "--name", "Checked"],
    );
    let t = tenant["tenant_id"].as_str().unwrap();
    let (code, clean) = check_aws(&endpoint, &table, &data, t, false);
    assert_eq!((code, &clean["drift"]), (0, &json!({})), "{clean}");
    assert_eq!(clean["scanned"]["users"], 1, "the first administrator");
    // The administrator made a member of a group that does not exist, behind the directory's
    // back.
    let admin = tenant["admin_user_id"].as_str().unwrap();
    let tid = muster::ids::TenantId::parse(t).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use muster::store::{Condition, DynamoTable, Item, Table, keys};
        let client = DynamoTable::static_client(&endpoint, "us-east-1", "test", "test");
        let dynamo = DynamoTable::new(client, table.clone(), [0; 32]);
        let ghost = Item::new(keys::user_group(&tid, admin, "g-1"), 1, b"{}".to_vec());
        dynamo.put(ghost, Condition::Always).await.unwrap();
    });
    let (code, drifted) = check_aws(&endpoint, &table, &data, t, false);
    assert_eq!(code, 2, "drift found and not repaired exits 2: {drifted}");
    assert_eq!(
        drifted["drift"]["member_of_deleted_group"]["count"], 1,
        "{drifted}"
    );
    let (code, repaired) = check_aws(&endpoint, &table, &data, t, true);
    assert_eq!(code, 0, "{repaired}");
    assert_eq!(
        repaired["before"]["drift"]["member_of_deleted_group"]["count"],
        1
    );
    assert_eq!(repaired["after"]["drift"], json!({}));
    assert_eq!(check_aws(&endpoint, &table, &data, t, false).0, 0);
    let _ = std::fs::remove_dir_all(&data);
}
