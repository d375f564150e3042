//! Names that look alike are one name: userName and group displayName are unique under
//! NFKC with full case folding and trimmed outer whitespace, and names holding control or
//! invisible characters are refused.

use http::StatusCode;
use serde_json::json;

use crate::helpers::{GROUP, TestApp, USER, user};

#[tokio::test]
async fn a_second_user_whose_name_folds_to_the_first_is_a_uniqueness_conflict() {
    let app = TestApp::new().await;
    let pairs = [
        ("dave", "ｄａｖｅ"),
        ("strauss@acme.test", "STRAUß@acme.test"),
        ("jos\u{e9}", "jose\u{301}"),
        ("ivan", "İvan"),
        ("paul", " Paul "),
        ("file", "\u{FB01}le"),
    ];
    for (first, second) in pairs {
        let a = app.post("/Users", user(first)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{first:?}: {}", a.body);
        let b = app.post("/Users", user(second)).await;
        b.assert_scim_error(409, Some("uniqueness"));
    }
    let found = app
        .get("/Users?filter=userName%20eq%20%22%EF%BD%84%EF%BD%81%EF%BD%96%EF%BD%85%22")
        .await;
    assert_eq!(found.body["totalResults"], 1, "ｄａｖｅ finds dave");
    assert_eq!(found.body["Resources"][0]["userName"], "dave");
    // A Cyrillic а is another letter: the README says why such names stay apart.
    let cyrillic = app.post("/Users", user("d\u{430}ve")).await;
    assert_eq!(cyrillic.status, StatusCode::CREATED);
}

#[tokio::test]
async fn invisible_and_control_characters_in_names_are_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    for bad in [
        "d\u{200B}ave",
        "d\u{200D}ave",
        "da\u{AD}ve",
        "dave\u{0}",
        "\u{7}dave",
    ] {
        let a = app.post("/Users", user(bad)).await;
        a.assert_scim_error(400, Some("invalidValue"));
    }
    let nul_in_name =
        json!({"schemas": [USER], "userName": "ann", "name": {"givenName": "A\u{0}nn"}});
    app.post("/Users", nul_in_name)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let zwsp_email = json!({"schemas": [USER], "userName": "bob", "emails": [{"value": "b\u{200B}ob@acme.test"}]});
    app.post("/Users", zwsp_email)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn group_names_fold_too_and_an_invisible_character_is_refused() {
    let app = TestApp::new().await;
    let group = |name: &str| json!({"schemas": [GROUP], "displayName": name});
    assert_eq!(
        app.post("/Groups", group("Ops")).await.status,
        StatusCode::CREATED
    );
    app.post("/Groups", group("Ops "))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    app.post("/Groups", group("D\u{200B}ev"))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let dev = app.create_group("Dev", &[]).await;
    let rename = json!({"schemas": [GROUP], "displayName": "D\u{200B}ev"});
    app.call(http::Method::PUT, &format!("/Groups/{dev}"), Some(rename))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}
