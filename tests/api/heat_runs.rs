//! The three workloads of the heat test and the assertion that no partition key takes more
//! than 5 % of the item writes or reads of any of them (see `heat.rs` for the recorder).

use std::sync::Arc;

use http::{Method, StatusCode};
use muster::admin::Admin;
use muster::community::{GroupSelector, Role};
use muster::ids::TenantId;
use serde_json::json;

use crate::heat::{Heat, HeatTable};
use crate::helpers::{TestApp, patch, unlimited};
use crate::import_harness::ImportApp;

const ROWS: usize = 20_000;
const USERS: usize = 2_000;
const GROUPS: usize = 20;

fn member_file() -> String {
    let mut csv = String::from("matricule,email,first_name,last_name,community,role\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "M{i:06},m{i}@acme.test,First{i},Last{i},Engineering,member\n"
        ));
    }
    csv
}

/// UPSERT of 20,000 new rows, then the same file as MIRROR.
async fn imports() -> (Heat, Heat) {
    let heat = Arc::new(HeatTable::new());
    let t = ImportApp::on_with(heat.clone(), unlimited()).await;
    let file = member_file();
    heat.take();
    let (_, status) = t.import(&file, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let upsert = heat.take();
    let (_, status) = t.import(&file, "MIRROR", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    (upsert, heat.take())
}

/// An identity provider's first sync: 2,000 users, 20 groups mapped to 4 communities,
/// members added 50 per PATCH, each user looked up by userName, every list page read.
async fn initial_sync() -> Heat {
    let heat = Arc::new(HeatTable::new());
    let app = TestApp::with_parts(heat.clone(), unlimited()).await;
    let t = TenantId::parse(&app.acme.id).unwrap();
    let admin = Admin::new(heat.clone());
    let mut communities = Vec::new();
    for name in ["North", "South", "East", "West"] {
        let c = admin.create_community(&t, name).await.unwrap();
        communities.push(c["id"].as_str().unwrap().to_owned());
    }
    for g in 0..GROUPS {
        let name = GroupSelector::DisplayName(format!("Team {g}"));
        let community = &communities[g % communities.len()];
        admin
            .set_mapping(&t, name, community, Role::Member)
            .await
            .unwrap();
    }
    heat.take();
    let mut users = Vec::new();
    for u in 0..USERS {
        users.push(app.create_user(&format!("user{u}@acme.test")).await);
    }
    for (g, members) in users.chunks(USERS / GROUPS).enumerate() {
        let group = app.create_group(&format!("Team {g}"), &[]).await;
        for batch in members.chunks(50) {
            let value: Vec<_> = batch.iter().map(|u| json!({"value": u})).collect();
            let ops = json!([{"op": "add", "path": "members", "value": value}]);
            let path = format!("/Groups/{group}");
            let a = app.call(Method::PATCH, &path, Some(patch(ops))).await;
            assert!(a.status.is_success(), "{}", a.body);
        }
    }
    for u in 0..USERS {
        let path = format!("/Users?filter=userName%20eq%20%22user{u}@acme.test%22");
        assert_eq!(app.get(&path).await.body["totalResults"], 1);
    }
    for page in 0..USERS / 100 {
        let path = format!("/Users?startIndex={}&count=100", page * 100 + 1);
        assert_eq!(app.get(&path).await.status, StatusCode::OK);
    }
    heat.take()
}

/// A workload's writes (or reads) count towards heat once there are enough of them to load a
/// partition at all: the MIRROR of an unchanged file writes a few dozen items of its own job's
/// bookkeeping, a twentieth of a second of one partition's capacity.
const ENOUGH: u64 = 1_000;

#[tokio::test]
async fn no_partition_key_takes_more_than_5_percent_of_any_workload() {
    let (upsert, mirror) = imports().await;
    let sync = initial_sync().await;
    println!(
        "| workload | requests | item writes / reads | hottest write key | hottest read key | throttle-bound | capacity |"
    );
    println!("| --- | ---: | ---: | --- | --- | --- | --- |");
    for (name, heat, scale) in [
        ("UPSERT of 20,000 new rows", &upsert, 50.0),
        ("the same file as MIRROR", &mirror, 50.0),
        ("IdP initial sync, 2,000 users, 20 groups", &sync, 50.0),
    ] {
        println!("{}", heat.report(name, scale));
        let hot = heat.hottest_read_key();
        eprintln!(
            "  {name}: reads of {hot} by kind: {:?}",
            heat.read_kinds(&hot)
        );
    }
    for (name, heat) in [("upsert", &upsert), ("mirror", &mirror), ("sync", &sync)] {
        let (writes, reads) = heat.worst_shares();
        let (items_written, items_read) = heat.items();
        assert!(
            writes <= 0.05 || items_written < ENOUGH,
            "{name}: one key takes {:.1} % of the writes",
            writes * 100.0
        );
        assert!(
            reads <= 0.05 || items_read < ENOUGH,
            "{name}: one key takes {:.1} % of the reads",
            reads * 100.0
        );
    }
}
