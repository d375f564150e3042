//! The settings page: errors come back next to their fields; saved values show again.

use crate::harness::{Browser, Service, browser_available};

#[tokio::test]
async fn settings_are_checked_field_by_field_then_saved() {
    if !browser_available() {
        return;
    }
    let service = Service::start(0).await;
    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser.click("#settings-link").await;
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
