//! What one SCIM operation costs in DynamoDB requests and capacity units, measured at the
//! Table port on a tenant of 2,000 users and 20 groups: the per-operation table of
//! BENCHMARKS.md, priced at on-demand list prices.

use std::sync::Arc;

use http::Method;
use serde_json::json;

use crate::heat::{Heat, HeatTable};
use crate::helpers::{TestApp, patch, unlimited, user};

/// On-demand prices (us-east-1), dollars per million request units.
const WRITE_PRICE: f64 = 0.625;
const READ_PRICE: f64 = 0.125;

fn line(name: &str, heat: &Heat) -> String {
    let (w, r) = heat.capacity();
    let dollars = (w * WRITE_PRICE + r * READ_PRICE) / 1e6;
    format!(
        "| {name} | {} | {w:.0} | {r:.0} | ${:.2} |",
        heat.requests,
        dollars * 1e6
    )
}

#[tokio::test]
async fn a_lookup_costs_three_requests_and_each_operation_is_priced() {
    let heat = Arc::new(HeatTable::new());
    let app = TestApp::with_parts(heat.clone(), unlimited()).await;
    let mut users = Vec::new();
    for u in 0..2_000 {
        users.push(app.create_user(&format!("user{u}@acme.test")).await);
    }
    let group = app.create_group("Everyone", &[]).await;
    // Warm: the token and the tenant's first reads, as a running process has them.
    app.get("/ServiceProviderConfig").await;
    heat.take();

    let mut rows = Vec::new();
    let created = app.post("/Users", user("new@acme.test")).await;
    assert_eq!(created.status, 201);
    rows.push(("POST /Users", heat.take()));
    let id = &users[1_234];
    assert_eq!(app.get(&format!("/Users/{id}")).await.status, 200);
    rows.push(("GET /Users/{id}", heat.take()));
    let eq = "/Users?filter=userName%20eq%20%22user1234@acme.test%22";
    assert_eq!(app.get(eq).await.body["totalResults"], 1);
    rows.push(("GET /Users?filter=userName eq", heat.take()));
    let value: Vec<_> = users[..50].iter().map(|u| json!({"value": u})).collect();
    let ops = json!([{"op": "add", "path": "members", "value": value}]);
    let a = app
        .call(Method::PATCH, &format!("/Groups/{group}"), Some(patch(ops)))
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    rows.push(("PATCH /Groups, 50 members added", heat.take()));
    for start in [1, 1_901] {
        let page = app
            .get(&format!("/Users?startIndex={start}&count=100"))
            .await;
        assert_eq!(page.body["Resources"].as_array().unwrap().len(), 100);
        rows.push((
            if start == 1 {
                "GET /Users page 1 (100)"
            } else {
                "GET /Users page 20 (100)"
            },
            heat.take(),
        ));
    }
    println!("| operation | requests | WCU | RCU | $ per million |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, h) in &rows {
        println!("{}", line(name, h));
    }
    let requests = |name: &str| rows.iter().find(|(n, _)| *n == name).unwrap().1.requests;
    // A known token costs no read; the user and its links (groups and memberships) are one
    // read each, behind the index for a lookup.
    assert!(requests("GET /Users?filter=userName eq") <= 3);
    assert!(requests("GET /Users/{id}") <= 2);
    // The members are checked in one batch and settled together: one links query each, the
    // rest in batches and shared transactions (it was 209 when each was settled on its own).
    assert!(requests("PATCH /Groups, 50 members added") <= 70);
}
