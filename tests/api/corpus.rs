//! A corpus of malformed input, each case sent through the public Router: SCIM filters, bodies
//! and PATCH documents get a 4xx SCIM error, member files get a failed job with a reason, and
//! none of them writes anything or answers 5xx.

use axum::body::Body;
use http::{Method, Request};
use muster::text::percent_encode;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, USER};
use crate::import_harness::ImportApp;

/// A 4xx SCIM error (never a 5xx, never a success).
fn assert_refused(a: &Answer, case: &str) {
    let status = a.status.as_u16();
    assert!(
        (400..500).contains(&status),
        "{case:?} answered {status}: {}",
        a.body
    );
    assert_eq!(a.body["status"], status.to_string(), "{case:?}: {}", a.body);
    assert_eq!(
        a.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[tokio::test]
async fn malformed_filters_are_refused_as_invalid_filters_on_lists_and_searches() {
    let app = TestApp::new().await;
    app.create_user("alice@acme.test").await;
    let deep_open = "(".repeat(100_000);
    let deep_not = "not (".repeat(20_000) + "userName pr" + &")".repeat(20_000);
    let long_and = vec!["userName pr"; 20_000].join(" and ");
    let cases = [
        "userName",
        "userName eq",
        "eq \"a\"",
        "userName eq \"a",
        "userName eq \"a\\\"",
        "userName eq \"\\u12\"",
        "userName zz \"a\"",
        "userName eq 'a'",
        "userName eq a",
        "(userName eq \"a\"",
        "userName eq \"a\")",
        "userName eq \"a\" and",
        "and userName pr",
        "userName eq \"a\" or or userName pr",
        "not userName pr",
        "userName pr pr",
        "emails[type eq \"work\"",
        "emails[type eq \"work\"]]",
        "emails[]",
        "emails[type eq]",
        "emails[type eq \"work\"].",
        "name..givenName pr",
        ".userName pr",
        "userName. pr",
        "urn:ietf:params:scim:schemas:core:2.0:User: pr",
        "userName eq 1e999999",
        "userName eq \"\u{0}\"",
        "userName eq \"a\" \u{1}",
        "\u{feff}userName pr",
        "userName eq \"\u{fffd}\" ) (",
        &deep_open,
        &deep_not,
        &long_and,
    ];
    for filter in cases {
        // URLs stop at 64 kB (the HTTP layer answers 414 before muster sees them); the
        // longest filters go only in search bodies.
        if filter.len() < 8_000 {
            let listed = app
                .get(&format!("/Users?filter={}", percent_encode(filter)))
                .await;
            assert_refused(&listed, filter);
        }
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        let searched = app.call(Method::POST, "/Users/.search", Some(body)).await;
        assert_refused(&searched, &filter[..filter.len().min(200)]);
    }
    assert_eq!(app.get("/Users").await.body["totalResults"], 1);
}

async fn send_raw(app: &TestApp, method: Method, path: &str, body: Vec<u8>) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(format!("{}{path}", app.base()))
        .header("authorization", format!("Bearer {}", app.acme.token))
        .header("content-type", "application/scim+json")
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn malformed_user_bodies_are_refused_and_write_nothing() {
    let app = TestApp::new().await;
    let user = |extra: Value| {
        let mut u = json!({"schemas": [USER], "userName": "bob@acme.test"});
        u.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::to_vec(&u).unwrap()
    };
    let mut cases: Vec<Vec<u8>> = [
        json!({"userName": 123}),
        json!({"userName": ""}),
        json!({"userName": null}),
        json!({"active": "yes"}),
        json!({"emails": [1, 2]}),
        json!({"name": []}),
        json!({"name": {"givenName": {"x": 1}}}),
        json!({"schemas": []}),
        json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User"}),
        json!({"phoneNumbers": [{"value": ["+1"]}]}),
        json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": 5}),
    ]
    .into_iter()
    .map(user)
    .collect();
    cases.push(b"{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"\xff\xfe\"}".to_vec());
    cases.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    cases.push(format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000)).into_bytes());
    cases.push(b"\xef\xbb\xbf{\"userName\": \"bom\"".to_vec());
    cases.push(
        b"{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": 1e999999}"
            .to_vec(),
    );
    cases.push(vec![0u8; 4096]);
    for body in cases {
        let case = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        assert_refused(&send_raw(&app, Method::POST, "/Users", body).await, &case);
    }
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn malformed_patch_documents_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let id = app.create_user("carol@acme.test").await;
    let group = app.create_group("Team", &[&id]).await;
    let op = |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    let cases = [
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": {}}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "add"}),
        op(json!({"op": 5, "path": "displayName", "value": "x"})),
        op(json!({"op": "replace", "path": 5, "value": "x"})),
        op(json!({"op": "replace", "path": "", "value": "x"})),
        op(json!({"op": "remove", "path": "members[value eq ]"})),
        op(json!({"op": "remove", "path": "members[value eq \"x\""})),
        op(json!({"op": "remove", "path": "members[value eq \"x\"]]"})),
        op(json!({"op": "remove", "path": "members[]"})),
        op(json!({"op": "remove", "path": "members[value eq \"x\"].."})),
        op(json!({"op": "add", "path": "members", "value": "not a list"})),
        op(json!({"op": "add", "path": "members", "value": [{"value": 7}]})),
        op(json!({"op": "add", "path": "members", "value": [{"display": "no value"}]})),
        op(json!({"op": "replace", "path": "displayName", "value": ["a", "b"]})),
        op(json!({"op": "replace", "path": "displayName", "value": null})),
        op(json!({"op": "replace", "path": "id", "value": "other"})),
        op(
            json!({"op": "replace", "path": format!("members[{}value pr{}]", "(".repeat(50_000), ")".repeat(50_000)), "value": "x"}),
        ),
        op(
            json!({"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:", "value": "x"}),
        ),
        op(json!({"op": "add", "value": "a bare string"})),
        op(json!({"op": "replace", "value": {"members": "x"}})),
    ];
    for body in cases {
        let answer = app
            .call(
                Method::PATCH,
                &format!("/Groups/{group}"),
                Some(body.clone()),
            )
            .await;
        assert_refused(
            &answer,
            &body.to_string()[..body.to_string().len().min(120)],
        );
    }
    let after = app.get(&format!("/Groups/{group}")).await.body;
    assert_eq!(after["meta"]["version"], r#"W/"1""#, "{after}");
    assert_eq!(after["members"][0]["value"], json!(id));
}

#[tokio::test]
async fn malformed_member_files_fail_their_job_with_a_reason_and_write_nothing() {
    let t = ImportApp::new().await;
    let header = "matricule,email,first_name,last_name,community,role\n";
    let good = format!("{header}E1,e1@acme.test,Eve,One,Engineering,member\n");
    let workbook = muster::import::write_xlsx(
        &good
            .lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect::<Vec<_>>(),
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(good.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let latin1 = [
        header.as_bytes(),
        b"E2,e2@acme.test,Zo\xeb,Two,Engineering,member\n",
    ]
    .concat();
    let long_line = format!(
        "{header}E3,e3@acme.test,{},Three,Engineering,member\n",
        "x".repeat(10 << 20)
    );
    let mut garbage = vec![0u8; 64 << 10];
    let mut x = 0x2545_F491u32;
    for b in &mut garbage {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let csv = muster::import::CSV;
    let xlsx = muster::import::XLSX;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a workbook cut in half",
            workbook[..workbook.len() / 2].to_vec(),
            xlsx,
        ),
        (
            "a workbook without its last byte",
            workbook[..workbook.len() - 1].to_vec(),
            xlsx,
        ),
        ("binary garbage declared as XLSX", garbage.clone(), xlsx),
        ("binary garbage declared as CSV", garbage, csv),
        ("a CSV declared as XLSX", good.clone().into_bytes(), xlsx),
        ("a workbook declared as CSV", workbook.clone(), csv),
        ("a UTF-16 CSV", utf16, csv),
        ("a Latin-1 CSV", latin1, csv),
        ("a CSV with a 10 MB line", long_line.into_bytes(), csv),
        (
            "a CSV with an open quote",
            format!("{header}\"E4,e4@acme.test,A,B,Engineering,member\n").into_bytes(),
            csv,
        ),
        ("only a header", header.as_bytes().to_vec(), csv),
        (
            "a header of unknown columns",
            b"a,b,c\n1,2,3\n".to_vec(),
            csv,
        ),
    ];
    for (case, bytes, content_type) in cases {
        let status = t.import_bytes(&bytes, content_type, "UPSERT", "").await.1;
        assert_eq!(status["state"], "failed", "{case}: {status}");
        let reason = status["reason"].as_str().unwrap_or_default();
        assert!(reason.len() > 10, "{case} fails with a reason: {status}");
        assert!(!reason.to_lowercase().contains("panic"), "{case}: {reason}");
        let users = t.app.get("/Users").await.body["totalResults"].clone();
        assert_eq!(
            users, 1,
            "{case} wrote nothing: only the administrator exists"
        );
    }
    assert_eq!(
        t.import_bytes(good.as_bytes(), csv, "UPSERT", "").await.1["state"],
        "succeeded"
    );
}
