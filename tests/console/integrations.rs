//! The integrations and API connections pages: a token made in the browser works for SCIM
//! until it is revoked there; a connection made in the browser gets an access token until it
//! is revoked; community administrators are kept out.

use base64::Engine;

use crate::harness::{Browser, Service, browser_available, http};

async fn scim_users(service: &Service, token: &str) -> u16 {
    let url = format!("{}/tenants/{}/scim/v2/Users", service.base, service.tenant);
    http(
        "GET",
        &url,
        &[("authorization", format!("Bearer {token}"))],
        "",
    )
    .await
    .0
}

async fn value_of(browser: &Browser, css: &str) -> String {
    browser
        .find(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_token_made_in_the_console_works_for_scim_until_it_is_revoked_there() {
    if !browser_available() {
        return;
    }
    let service = Service::start(1).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser.click("#integrations-link").await;
    browser.wait_for_text("Set up Microsoft Entra ID").await;
    let url = value_of(&browser, "#scim-url").await;
    assert_eq!(
        url,
        format!("{}/tenants/{}/scim/v2", service.base, service.tenant)
    );

    browser
        .find("#token-name")
        .await
        .send_keys("Okta")
        .await
        .unwrap();
    browser.click("#new-token").await;
    browser.wait_for_text("it is shown only this once").await;
    let token = value_of(&browser, "#secret").await;
    assert!(token.starts_with("mst_"), "{token}");
    assert_eq!(scim_users(&service, &token).await, 200);
    // A write the service refuses shows among the latest errors.
    let url = format!("{}/tenants/{}/scim/v2/Users", service.base, service.tenant);
    let dup = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                 "userName": "it@acme.test"});
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", "application/scim+json".to_owned()),
    ];
    assert_eq!(http("POST", &url, &headers, &dup.to_string()).await.0, 409);
    let pushed = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                    "userName": "pushed@acme.test"});
    let user = service.scim("POST", "/Users", pushed).await["id"].clone();
    let group = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                   "displayName": "Pushed", "members": [{"value": user}]});
    service.scim("POST", "/Groups", group).await;

    browser
        .open(&format!("{}/console/integrations", service.base))
        .await;
    let row = browser.text("#tokens tbody tr:last-child").await;
    assert!(
        row.contains("Okta") && !row.contains("never"),
        "used just now: {row}"
    );
    let status = browser.text("#status").await;
    assert!(status.contains("Users received"), "{status}");
    assert_eq!(browser.text("#group-members").await, "1");
    let errors = browser.text("#scim-errors").await;
    assert!(
        errors.contains("POST") && errors.contains("/Users") && errors.contains("409"),
        "{errors}"
    );
    browser.screenshot("integrations").await;

    browser
        .click("#tokens tbody tr:last-child button.danger")
        .await;
    browser.wait_for_text("Token Okta revoked").await;
    assert_eq!(scim_users(&service, &token).await, 401);
    assert!(!browser.text("#tokens").await.contains("Okta"));

    // The activity page lists what was just done, newest first.
    browser
        .open(&format!("{}/console/activity", service.base))
        .await;
    let log = browser.text("#activity tbody").await;
    for what in [
        "SCIM token revoked",
        "SCIM token made",
        "console sign-in",
        "GET",
    ] {
        let seen = log.contains(what);
        assert_eq!(seen, what != "GET", "{what} in {log}");
    }
    let first = browser.text("#activity tbody tr").await;
    assert!(
        first.contains("SCIM token revoked"),
        "newest first: {first}"
    );
    browser.screenshot("activity").await;

    // A community administrator is kept out.
    browser.click("button.link").await;
    browser.wait_for_text("You are signed out").await;
    browser
        .sign_in(&service.link(&service.sales_lead).await)
        .await;
    browser
        .open(&format!("{}/console/integrations", service.base))
        .await;
    browser.wait_for_text("For tenant administrators").await;
    browser.close().await;
}

#[tokio::test]
async fn an_api_connection_made_in_the_console_gets_access_tokens_until_it_is_revoked() {
    if !browser_available() {
        return;
    }
    let service = Service::start(1).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser.click("#connections-link").await;
    browser.wait_for_text("New connection").await;

    // Errors come back next to their fields, with what was typed.
    browser
        .find("#name")
        .await
        .send_keys("HR sync")
        .await
        .unwrap();
    browser.click("#scope-imports").await; // unticks the default
    browser
        .find("#ips")
        .await
        .send_keys("10.0.0.0/8\nnot-an-address")
        .await
        .unwrap();
    browser.click("#create-connection").await;
    assert!(
        browser
            .text("#scope-error")
            .await
            .contains("at least one scope")
    );
    assert!(browser.text("#ips-error").await.contains("not-an-address"));
    assert_eq!(value_of(&browser, "#name").await, "HR sync");

    browser.click("#scope-imports").await;
    let ips = browser.find("#ips").await;
    ips.clear().await.unwrap();
    ips.send_keys("127.0.0.0/8").await.unwrap();
    browser
        .find("#acting")
        .await
        .send_keys("it@acme.test")
        .await
        .unwrap();
    browser.click("#create-connection").await;
    browser.wait_for_text("it is shown only this once").await;
    let (id, secret) = (
        value_of(&browser, "#client-id").await,
        value_of(&browser, "#client-secret").await,
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let token = || async {
        http(
            "POST",
            &format!("{}/oauth/token", service.base),
            &[
                ("authorization", format!("Basic {basic}")),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                ),
            ],
            "grant_type=client_credentials",
        )
        .await
    };
    let (status, body) = token().await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("access_token") && body.contains("imports"),
        "{body}"
    );

    browser
        .open(&format!("{}/console/connections", service.base))
        .await;
    let row = browser.text(&format!("tr[data-client='{id}']")).await;
    assert!(
        row.contains("HR sync") && row.contains("127.0.0.0/8"),
        "{row}"
    );
    assert!(!row.contains("never"), "used just now: {row}");
    browser.screenshot("connections").await;
    browser
        .click(&format!("tr[data-client='{id}'] button.danger"))
        .await;
    browser.wait_for_text("Connection HR sync revoked").await;
    assert_eq!(token().await.0, 401);
    browser.close().await;
}
