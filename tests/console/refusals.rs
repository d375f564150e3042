//! What the console refuses, in the browser: another community, a form without its CSRF
//! token, a used or expired link, a session after sign-out.

use muster::console::{ConsoleLinks, LINK_LIFETIME_SECS, sign_in_url};

use crate::harness::{Browser, Service, browser_available, chrono_now};

#[tokio::test]
async fn the_console_refuses_other_communities_forged_forms_used_links_and_ended_sessions() {
    if !browser_available() {
        return;
    }
    let service = Service::start(2).await;
    let browser = Browser::start().await;

    // A community administrator sees only their community.
    let link = service.link(&service.sales_lead).await;
    browser.sign_in(&link).await;
    let home = browser.text("#communities").await;
    assert!(
        home.contains("Sales") && !home.contains("Engineering"),
        "{home}"
    );
    browser
        .open(&format!(
            "{}/console/communities/{}",
            service.base, service.engineering
        ))
        .await;
    browser.wait_for_text("Not yours to manage").await;
    browser.screenshot("forbidden").await;

    // A form whose CSRF token was tampered with changes nothing.
    browser
        .open(&format!(
            "{}/console/communities/{}",
            service.base, service.sales
        ))
        .await;
    browser
        .client
        .execute(
            "document.querySelector('.invite-all input[name=csrf]').value = 'forged'; document.querySelector('#invite-all').disabled = false;",
            vec![],
        )
        .await
        .unwrap();
    browser.click("#invite-all").await;
    browser.wait_for_text("This form has expired").await;

    // The link already used, and an expired one.
    browser.open(&link).await;
    browser.click("#sign-in").await;
    browser
        .wait_for_text("This sign-in link no longer works")
        .await;
    let lead = service
        .admin
        .console_link(&service.tenant, &service.sales_lead, chrono_now())
        .await
        .unwrap()
        .0;
    let old = ConsoleLinks::new(service.table.clone())
        .issue(
            &service.tenant,
            &lead,
            chrono_now() - LINK_LIFETIME_SECS - 1,
        )
        .await
        .unwrap();
    browser
        .open(&sign_in_url(&service.base, &service.tenant, &old.code))
        .await;
    browser.click("#sign-in").await;
    browser
        .wait_for_text("This sign-in link no longer works")
        .await;

    // After sign-out, the pages of the session are gone.
    browser.open(&format!("{}/console/", service.base)).await;
    browser.wait_for_text("Pending invitations").await;
    browser.click("button.link").await;
    browser.wait_for_text("You are signed out").await;
    browser
        .open(&format!(
            "{}/console/communities/{}",
            service.base, service.sales
        ))
        .await;
    browser.wait_for_text("You are signed out").await;
    browser.close().await;
}
