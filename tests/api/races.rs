//! Races through the public Router, at the sizes the reliability issue names: concurrent
//! requests end as some serial order of them would.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, patch, user};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_creates_of_one_user_name_in_any_case_make_exactly_one_user() {
    let app = Arc::new(TestApp::unlimited().await);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let app = app.clone();
            let name = if i % 2 == 0 {
                "same@acme.test"
            } else {
                "SAME@acme.test"
            };
            tokio::spawn(async move { app.post("/Users", user(name)).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status.as_u16() {
            201 => created += 1,
            409 => answer.assert_scim_error(409, Some("uniqueness")),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_member_adds_and_removes_leave_the_serial_result() {
    let app = Arc::new(TestApp::unlimited().await);
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(app.create_user(&format!("member{i:03}")).await);
    }
    let refs: Vec<&str> = users[..50].iter().map(String::as_str).collect();
    let group = app.create_group("Racers", &refs).await;
    let path = format!("/Groups/{group}");
    // Members 0–49 leave while 50–99 join, one PATCH each, all at once: every serial order
    // of these requests ends with exactly members 50–99.
    let tasks: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (app, path) = (app.clone(), path.clone());
            let op = if i < 50 { "Remove" } else { "Add" };
            let body = patch(json!([{"op": op, "path": "members", "value": [{"value": id}]}]));
            tokio::spawn(async move { app.call(Method::PATCH, &path, Some(body)).await })
        })
        .collect();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    }
    let read = app.get(&path).await.body;
    let mut members: Vec<String> = read["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut expected = users[50..].to_vec();
    expected.sort();
    assert_eq!(members, expected);
}
