//! Signing in with a link, the home page, the member table, and invitations.

use muster::community::{Memberships, Status};

use crate::harness::{Browser, Service, browser_available};

async fn statuses(service: &Service) -> Vec<Status> {
    let memberships = Memberships::new(service.table.clone());
    let mut out = Vec::new();
    for status in [Status::Invited, Status::InvitationSent, Status::Active] {
        let n = memberships
            .with_status(&service.tenant, &service.engineering, status)
            .await
            .unwrap()
            .len();
        out.extend(std::iter::repeat_n(status, n));
    }
    out
}

#[tokio::test]
async fn an_administrator_signs_in_with_a_link_searches_members_and_invites_the_pending_ones() {
    if !browser_available() {
        return;
    }
    let service = Service::start(60).await;
    let browser = Browser::start().await;

    browser
        .open(&service.link(&service.tenant_admin).await)
        .await;
    browser.wait_for_text("Sign in to the console").await;
    browser.screenshot("sign-in").await;
    browser.click("#sign-in").await;

    let home = browser.text("#communities").await;
    assert!(
        home.contains("Engineering") && home.contains("Sales"),
        "{home}"
    );
    assert!(
        home.contains("60"),
        "Engineering's members and pending invitations: {home}"
    );
    browser.screenshot("home").await;

    browser.click("#communities a[href*='communities/']").await;
    browser.wait_for_text("Invite all pending").await;
    let first_page = browser
        .client
        .find_all(fantoccini::Locator::Css("#members tbody tr"))
        .await
        .unwrap();
    assert_eq!(first_page.len(), 50, "50 members per page");
    browser.screenshot("members").await;
    browser.click("#next-page").await;
    browser.wait_for_text("Member051").await;
    assert_eq!(
        browser
            .client
            .find_all(fantoccini::Locator::Css("#members tbody tr"))
            .await
            .unwrap()
            .len(),
        10
    );

    // Search by matricule, select the one pending member found, invite.
    let q = browser.find("#q").await;
    q.send_keys("M007").await.unwrap();
    browser.click(".filters button").await;
    browser.wait_for_text("member007@acme.test").await;
    let rows = browser.text("#members tbody").await;
    assert!(!rows.contains("member008"), "{rows}");
    browser.click("#members input[type=checkbox]").await;
    browser.click("#invite-selected").await;
    browser.wait_for_text("1 invitation sent.").await;
    assert_eq!(
        statuses(&service)
            .await
            .iter()
            .filter(|s| **s == Status::InvitationSent)
            .count(),
        1
    );
    let shown = browser.text("#members tbody").await;
    assert!(shown.contains("Invitation sent"), "the new status: {shown}");

    // Every pending member, across pages, at once.
    browser.click("#invite-all").await;
    browser.wait_for_text("59 invitations sent.").await;
    assert!(
        statuses(&service)
            .await
            .iter()
            .all(|s| *s == Status::InvitationSent)
    );
    let table = browser.text("#members tbody").await;
    assert!(
        table.contains("Invitation sent") && !table.contains("Pending invitation"),
        "{table}"
    );
    browser.click("#invite-all").await;
    browser
        .wait_for_text("No invitation was sent: no selected member was waiting for one.")
        .await;

    // Filter by status: nobody is pending any more.
    browser
        .open(&format!(
            "{}/console/communities/{}?status=invited",
            service.base, service.engineering
        ))
        .await;
    browser.wait_for_text("No member matches").await;

    // At a phone's width the table stacks, every cell keeping its label.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .open(&format!(
            "{}/console/communities/{}",
            service.base, service.engineering
        ))
        .await;
    browser.wait_for_text("Member001").await;
    browser.screenshot("members-phone").await;
    let header_shown = browser
        .client
        .execute(
            "return getComputedStyle(document.querySelector('#members thead')).display",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        header_shown, "none",
        "the column headers give way to per-cell labels"
    );

    browser.click("button.link").await;
    browser.wait_for_text("You are signed out").await;
    browser.screenshot("signed-out").await;
    browser.open(&format!("{}/console/", service.base)).await;
    browser.wait_for_text("You are signed out").await;
    browser.close().await;
}
