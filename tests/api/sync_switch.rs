//! The synchronization switch: a new integration stores what the identity provider pushes
//! but its groups grant no access until the switch is on; turning it on derives the access,
//! turning it off takes it away again, and `muster check` holds throughout.

use muster::admin::Admin;
use muster::community::{GroupSelector, Memberships, Role};
use muster::directory::Reconciler;
use muster::ids::TenantId;

use crate::helpers::TestApp;

#[tokio::test]
async fn groups_grant_access_only_while_the_switch_is_on() {
    let app = TestApp::new().await;
    let admin = Admin::new(app.table.clone());
    let created = admin
        .create_tenant("Fresh", vec!["fresh.test".into()], None)
        .await
        .unwrap();
    let t = TenantId::parse(&created.tenant_id).unwrap();
    assert!(
        !admin.tenant(&t).await.unwrap().syncs(),
        "a new integration starts off"
    );
    let sales = admin.create_community(&t, "Sales").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/tenants/{t}/scim/v2");
    let token = created.scim_token.clone();
    let post = |path: String, body: serde_json::Value| {
        let (app, token) = (&app, token.clone());
        async move {
            let a = app
                .call_as(&token, http::Method::POST, &path, Some(body), &[])
                .await;
            assert_eq!(a.status, http::StatusCode::CREATED, "{}", a.body);
            a.body["id"].as_str().unwrap().to_owned()
        }
    };
    let user = post(
        format!("{base}/Users"),
        serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rep@fresh.test"}),
    )
    .await;
    let group = post(
        format!("{base}/Groups"),
        serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                           "displayName": "Reps", "members": [{"value": user}]}),
    )
    .await;
    let (_, rederive) = admin
        .set_mapping(
            &t,
            GroupSelector::Id(group.clone()),
            &sales,
            Role::Contributor,
        )
        .await
        .unwrap();
    for g in rederive {
        admin.rederive(&t, &g).await.unwrap();
    }
    Reconciler::new(app.table.clone()).drain(&t).await.unwrap();
    let memberships = Memberships::new(app.table.clone());
    let role = |m: Option<(muster::community::Membership, u64)>| m.map(|(m, _)| m.role);
    assert_eq!(
        role(memberships.get(&t, &user, &sales).await.unwrap()),
        None,
        "off: no access"
    );
    let preview = admin.sync_preview(&t).await.unwrap();
    assert_eq!((preview.len(), preview[0].users), (1, 1));

    // The switch is recorded with its tenant-wide intent; a process stopped right after
    // leaves the derivation to the reconciler's next pass (as the maintenance drain runs it).
    let tenants = muster::auth::Tenants::new(app.table.clone());
    let switched = tenants.set_sync(&t, true).await.unwrap().unwrap();
    assert!(switched.syncs() && switched.sync_pending.is_some());
    assert_eq!(
        role(memberships.get(&t, &user, &sales).await.unwrap()),
        None
    );
    let checker = muster::directory::check::Checker::new(app.table.clone());
    assert!(
        checker.check(&t).await.unwrap().drift_total() > 0,
        "check sees the access owed"
    );
    Reconciler::new(app.table.clone()).drain(&t).await.unwrap();
    assert_eq!(
        role(memberships.get(&t, &user, &sales).await.unwrap()),
        Some(Role::Contributor),
        "on: the mapped group's members get the role"
    );
    assert_eq!(checker.check(&t).await.unwrap().drift_total(), 0);
    assert_eq!(
        admin.tenant(&t).await.unwrap().sync_pending,
        None,
        "the intent is done"
    );
    admin.set_sync(&t, false).await.unwrap();
    assert_eq!(
        role(memberships.get(&t, &user, &sales).await.unwrap()),
        None,
        "off again"
    );
}
