//! The group mapping page: a group the identity provider pushed is mapped to a community in
//! the browser and its members get the role; removing the mapping takes it away; a mapping by
//! name waits for its group.

use std::time::Duration;

use muster::community::{Memberships, Role};
use serde_json::json;

use crate::harness::{Browser, Service, browser_available};

/// The role `user` holds in Sales once background re-derivation settles (`None`: no access).
async fn settled_role(service: &Service, user: &str, want: Option<Role>) -> Option<Role> {
    let memberships = Memberships::new(service.table.clone());
    let mut role = None;
    for _ in 0..100 {
        role = memberships
            .get(&service.tenant, user, &service.sales)
            .await
            .unwrap()
            .map(|(m, _)| m.role);
        if role == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    role
}

#[tokio::test]
async fn a_group_mapped_in_the_console_gives_its_members_the_role_until_the_mapping_goes() {
    if !browser_available() {
        return;
    }
    let service = Service::start(0).await;
    let user = service.scim(
        "POST",
        "/Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rep@acme.test"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    service.scim(
        "POST",
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales Reps",
               "members": [{"value": user}]}),
    )
    .await;

    let browser = Browser::start().await;
    browser
        .sign_in(&service.link(&service.tenant_admin).await)
        .await;
    browser
        .open(&format!("{}/console/integrations/groups", service.base))
        .await;
    let row = browser.text("#groups tbody tr").await;
    assert!(
        row.contains("Sales Reps") && row.contains("Not mapped"),
        "{row}"
    );
    let unmapped = browser
        .find("#groups tbody tr")
        .await
        .attr("class")
        .await
        .unwrap();
    assert_eq!(unmapped.as_deref(), Some("unmapped"));

    browser
        .client
        .execute(
            "document.querySelector('#community-1').value = arguments[0];
             document.querySelector('#role-1').value = 'contributor';",
            vec![json!(service.sales)],
        )
        .await
        .unwrap();
    browser
        .click("#groups tbody tr button[type=submit]:not(.link)")
        .await;
    browser.wait_for_text("Mapping saved").await;
    let row = browser.text("#groups tbody tr").await;
    assert!(row.contains("Sales (contributor)"), "{row}");
    browser.screenshot("group-mapping").await;

    // A new integration's synchronization is off: the mapping grants nothing yet, and the
    // integrations page says what turning it on would grant.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(settled_role(&service, &user, None).await, None);
    browser
        .open(&format!("{}/console/integrations", service.base))
        .await;
    assert!(browser.text("#sync-state").await.starts_with("Off"));
    let preview = browser.text("#sync-preview tbody").await;
    assert!(
        preview.contains("Sales") && preview.contains('1'),
        "{preview}"
    );
    browser.screenshot("sync-off").await;
    browser.click("#sync-on").await;
    browser.wait_for_text("Synchronization is on").await;
    assert_eq!(
        settled_role(&service, &user, Some(Role::Contributor)).await,
        Some(Role::Contributor),
        "turning it on derives the access"
    );
    assert!(browser.text("#sync-state").await.starts_with("On"));

    browser
        .open(&format!("{}/console/integrations/groups", service.base))
        .await;
    browser.click("#groups tbody tr button.link").await;
    browser.wait_for_text("Mapping removed").await;
    assert_eq!(
        settled_role(&service, &user, None).await,
        None,
        "access follows the mapping"
    );

    // A mapping by name waits for its group, then applies when the IdP pushes it.
    browser
        .find("#group-name")
        .await
        .send_keys("Engineers")
        .await
        .unwrap();
    browser
        .client
        .execute(
            "document.querySelector('#name-community').value = arguments[0];",
            vec![json!(service.sales)],
        )
        .await
        .unwrap();
    browser.click("#map-by-name").await;
    browser.wait_for_text("waiting for the group").await;
    service.scim(
        "POST",
        "/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineers",
               "members": [{"value": user}]}),
    )
    .await;
    assert_eq!(
        settled_role(&service, &user, Some(Role::Member)).await,
        Some(Role::Member)
    );
    browser
        .open(&format!("{}/console/integrations/groups", service.base))
        .await;
    assert!(!browser.page_text().await.contains("waiting for the group"));
    browser.close().await;
}
