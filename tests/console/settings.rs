//! The settings page: errors come back next to their fields; saved values show again; with
//! automatic invitations ticked, a member the identity provider pushes is invited unasked.

use std::sync::Arc;

use muster::community::{GroupSelector, Role};
use muster::directory::{Maintenance, Task};
use muster::import::LocalNotifier;
use serde_json::json;

use crate::harness::{Browser, Service, browser_available};

/// The service, and a browser signed in as its tenant administrator on the settings page.
async fn on_the_settings_page() -> (Service, Browser) {
    let service = Service::start(0).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser.click("#settings-link").await;
    (service, browser)
}

#[tokio::test]
async fn settings_are_checked_field_by_field_then_saved() {
    if !browser_available() {
        return;
    }
    let (service, browser) = on_the_settings_page().await;
    browser.wait_for_text("MIRROR safety threshold").await;
    browser.find("#mirror").await.send_keys("5").await.unwrap();
    browser
        .find("#per_second")
        .await
        .send_keys("50")
        .await
        .unwrap();
    browser.click("#save-settings").await;
    let error = browser.text("#limits-error").await;
    assert!(error.contains("all three"), "{error}");
    browser.find("#burst").await.send_keys("100").await.unwrap();
    browser
        .find("#concurrent")
        .await
        .send_keys("8")
        .await
        .unwrap();
    browser.click("#save-settings").await;
    browser.wait_for_text("Settings saved.").await;
    let tenant = service.admin.tenant(&service.tenant).await.unwrap();
    assert_eq!(tenant.mirror_threshold, Some(0.05));
    let limits = tenant.limits.unwrap();
    assert_eq!(
        (limits.per_second, limits.burst, limits.concurrent),
        (50, 100, 8)
    );
    let shown = browser.find("#mirror").await.prop("value").await.unwrap();
    assert_eq!(shown.as_deref(), Some("5"));
    browser.screenshot("settings").await;
    browser.close().await;
}

#[tokio::test]
async fn a_member_pushed_after_ticking_automatic_invitations_is_invited_unasked() {
    if !browser_available() {
        return;
    }
    let (service, browser) = on_the_settings_page().await;
    browser
        .wait_for_text("Send invitations automatically")
        .await;
    let ticked = || async { browser.find("#auto_invite").await.prop("checked").await };
    assert_eq!(
        ticked().await.unwrap().as_deref(),
        Some("false"),
        "off by default"
    );
    browser.click("#auto_invite").await;
    browser.click("#save-settings").await;
    browser.wait_for_text("Settings saved.").await;
    assert_eq!(ticked().await.unwrap().as_deref(), Some("true"));
    let tenant = service.admin.tenant(&service.tenant).await.unwrap();
    assert!(tenant.auto_invites());

    let user = service
        .scim(
            "POST",
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new@acme.test"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = service
        .scim(
            "POST",
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Reps",
                   "members": [{"value": user}]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = &service.tenant;
    let by_id = GroupSelector::Id(group);
    service
        .admin
        .set_mapping(t, by_id, &service.sales, Role::Member)
        .await
        .unwrap();
    service.admin.set_sync(t, true).await.unwrap();
    // The scheduled drain, as `muster serve` runs it every second.
    let notifier = Arc::new(LocalNotifier::new(service.table.clone()));
    Maintenance::new(service.table.clone())
        .with_invitations(notifier)
        .run(&Task::Drain)
        .await
        .unwrap();

    let page = format!("{}/console/communities/{}", service.base, service.sales);
    browser.open(&page).await;
    browser.wait_for_text("new@acme.test").await;
    let table = browser.text("#members").await;
    assert!(table.contains("Invitation sent"), "{table}");
    browser.close().await;
}
