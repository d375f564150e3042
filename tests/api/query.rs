//! Filters, sorting, cursor paging and `.search`, through the Router.

use http::{Method, StatusCode};
use muster::text::percent_encode;
use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, GROUP, TestApp, USER};

async fn seed(app: &TestApp) {
    let people = [
        (
            "bjensen@example.com",
            "Barbara",
            "Jensen",
            "work",
            true,
            "701984",
            "2",
        ),
        (
            "jsmith@example.com",
            "John",
            "Smith",
            "home",
            false,
            "100200",
            "10",
        ),
        (
            "Ann.O'Malley@example.org",
            "Ann",
            "O'Malley",
            "work",
            true,
            "555",
            "1",
        ),
    ];
    for (user, given, family, email_type, active, number, title) in people {
        let body = json!({
            "schemas": [USER, ENTERPRISE], "userName": user, "externalId": format!("ext-{number}"),
            "name": {"givenName": given, "familyName": family}, "active": active, "title": title,
            "emails": [{"value": user.to_lowercase(), "type": email_type, "primary": true}, {"value": format!("{given}@personal.test"), "type": "other"}],
            ENTERPRISE: {"employeeNumber": number},
        });
        assert_eq!(app.post("/Users", body).await.status, StatusCode::CREATED);
    }
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let a = app.get(&format!("/Users?{query}")).await;
    assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.body);
    a.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn q(filter: &str) -> String {
    format!("filter={}", percent_encode(filter))
}

#[tokio::test]
async fn filters_select_users_by_every_operator_with_each_attributes_case_rules() {
    let app = TestApp::new().await;
    seed(&app).await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            r#"userName eq "BJENSEN@example.com""#,
            vec!["bjensen@example.com"],
        ),
        (r#"externalId eq "EXT-701984""#, vec![]),
        (r#"externalId eq "ext-701984""#, vec!["bjensen@example.com"]),
        (
            r#"name.familyName co "malley""#,
            vec!["Ann.O'Malley@example.org"],
        ),
        (r#"userName sw "J""#, vec!["jsmith@example.com"]),
        (r#"userName ew ".ORG""#, vec!["Ann.O'Malley@example.org"]),
        (
            r#"emails[type eq "work" and value co "example.com"]"#,
            vec!["bjensen@example.com"],
        ),
        (
            r#"emails.value eq "john@personal.test""#,
            vec!["jsmith@example.com"],
        ),
        (
            r#"emails[type eq "work"].value co "example.com""#,
            vec!["bjensen@example.com"],
        ),
        (
            r#"emails co "personal""#,
            vec![
                "bjensen@example.com",
                "jsmith@example.com",
                "Ann.O'Malley@example.org",
            ],
        ),
        (r#"active eq "False""#, vec!["jsmith@example.com"]),
        (
            "active eq true and not (name.givenName sw \"A\")",
            vec!["bjensen@example.com"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "555""#,
            vec!["Ann.O'Malley@example.org"],
        ),
        (r#"title gt "10""#, vec!["bjensen@example.com"]),
        ("title pr and nickName pr", vec![]),
        (
            r#"userName eq "jsmith@example.com" or name.givenName eq "ann""#,
            vec!["jsmith@example.com", "Ann.O'Malley@example.org"],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            vec![
                "bjensen@example.com",
                "jsmith@example.com",
                "Ann.O'Malley@example.org",
            ],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, vec![]),
        (
            r#"USERNAME Eq "jsmith@example.com""#,
            vec!["jsmith@example.com"],
        ),
    ];
    for (filter, want) in cases {
        let mut got = names(&app, &q(filter)).await;
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{filter}");
    }
}

#[tokio::test]
async fn a_filter_that_matches_nothing_is_an_empty_200_list() {
    let app = TestApp::new().await;
    let a = app
        .get(&format!(
            "/Users?{}",
            q(r#"userName eq "4f1c2d3e-0000-4000-8000-1234567890ab""#)
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["totalResults"], 0);
    assert_eq!(a.body["Resources"], json!([]));
}

#[tokio::test]
async fn bad_filters_are_400_invalid_filter_with_the_position() {
    let app = TestApp::new().await;
    for filter in [
        r#"userName eq"#,
        r#"userName zz "x""#,
        r#"nope eq "x""#,
        r#"active gt true"#,
        r#"meta.created gt "yesterday""#,
    ] {
        let a = app.get(&format!("/Users?{}", q(filter))).await;
        a.assert_scim_error(400, Some("invalidFilter"));
    }
    let a = app.get(&format!("/Users?{}", q(r#"userName eq"#))).await;
    assert!(
        a.body["detail"].as_str().unwrap().contains("position 11"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn groups_filter_by_display_name_ignoring_case() {
    let app = TestApp::new().await;
    app.create_group("Engineering", &[]).await;
    app.create_group("Sales", &[]).await;
    let a = app
        .get(&format!(
            "/Groups?{}&excludedAttributes=members",
            q(r#"displayName eq "engineering""#)
        ))
        .await;
    assert_eq!(a.body["totalResults"], 1);
    assert_eq!(a.body["Resources"][0]["displayName"], "Engineering");
}

#[tokio::test]
async fn sort_by_orders_results_and_sort_order_reverses_them() {
    let app = TestApp::new().await;
    seed(&app).await;
    assert_eq!(
        names(&app, "sortBy=name.givenName").await,
        [
            "Ann.O'Malley@example.org",
            "bjensen@example.com",
            "jsmith@example.com"
        ]
    );
    assert_eq!(
        names(&app, "sortBy=userName&sortOrder=descending").await,
        [
            "jsmith@example.com",
            "bjensen@example.com",
            "Ann.O'Malley@example.org"
        ]
    );
    assert_eq!(
        names(&app, "sortBy=emails&count=1&startIndex=2").await,
        ["bjensen@example.com"]
    );
    app.get("/Users?sortBy=nope")
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.get("/Users?sortBy=userName&sortOrder=sideways")
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

async fn follow_cursor(app: &TestApp, query: &str) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let a = app
            .get(&format!(
                "/Users?{query}&count=2&cursor={}",
                percent_encode(&cursor)
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(a.body.get("startIndex").is_none());
        pages += 1;
        seen.extend(
            a.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["userName"].as_str().unwrap().to_owned()),
        );
        match a.body.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = next.to_owned(),
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn cursor_paging_visits_every_result_once() {
    let app = TestApp::new().await;
    for i in 0..7 {
        app.create_user(&format!("u{i}")).await;
    }
    let (plain, pages) = follow_cursor(&app, "").await;
    assert_eq!((plain.len(), pages), (7, 4));
    let mut unique = plain.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);
    let (sorted, _) = follow_cursor(&app, "sortBy=userName&sortOrder=descending").await;
    assert_eq!(sorted, ["u6", "u5", "u4", "u3", "u2", "u1", "u0"]);
    let (filtered, _) = follow_cursor(&app, &q(r#"userName sw "u""#)).await;
    assert_eq!(filtered.len(), 7);
    app.get("/Users?cursor=not-a-cursor!")
        .await
        .assert_scim_error(400, Some("invalidCursor"));
}

#[tokio::test]
async fn post_search_takes_the_same_parameters_in_a_body() {
    let app = TestApp::new().await;
    seed(&app).await;
    app.create_group("Example", &[]).await;
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"b\"", "attributes": ["userName", "name.familyName"], "startIndex": 1, "count": 10,
    });
    let a = app.call(Method::POST, "/Users/.search", Some(search)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["totalResults"], 1);
    let r = &a.body["Resources"][0];
    assert_eq!(r["name"], json!({"familyName": "Jensen"}));
    assert!(r.get("emails").is_none());
    let root = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "meta.created pr"});
    let all = app.call(Method::POST, "/.search", Some(root)).await;
    assert_eq!(all.body["totalResults"], 4, "{}", all.body);
    let types: Vec<&str> = all.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "User", "User", "Group"]);
    let bad = app
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({"filter": "userName pr"})),
        )
        .await;
    bad.assert_scim_error(400, Some("invalidSyntax"));
    let _ = GROUP;
}

#[tokio::test]
async fn value_path_attributes_project_only_the_matching_values() {
    let app = TestApp::new().await;
    seed(&app).await;
    let list = app
        .get(&format!(
            "/Users?{}&attributes={}",
            q(r#"userName eq "bjensen@example.com""#),
            percent_encode(r#"emails[type eq "work"]"#)
        ))
        .await;
    assert_eq!(
        list.body["Resources"][0]["emails"],
        json!([{"value": "bjensen@example.com", "type": "work", "primary": true}])
    );
    let excluded = app
        .get(&format!(
            "/Users?{}&excludedAttributes={}",
            q(r#"userName eq "bjensen@example.com""#),
            percent_encode(r#"emails[type eq "work"]"#)
        ))
        .await;
    assert_eq!(
        excluded.body["Resources"][0]["emails"],
        json!([{"value": "Barbara@personal.test", "type": "other"}])
    );
}
