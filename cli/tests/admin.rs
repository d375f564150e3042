//! The administration commands as an operator runs them, each with `--json`.

mod common;

use common::{data_dir, fails, muster};

#[test]
fn tenant_create_prints_a_client_and_a_first_administrator() {
    let data = data_dir("create");
    let t = muster(
        &data,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.example",
        ],
    );
    for key in [
        "tenant_id",
        "scim_base_url",
        "scim_token",
        "client_id",
        "client_secret",
        "admin_user_id",
    ] {
        assert!(
            t[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key} missing in {t}"
        );
    }
    assert_eq!(t["admin_email"], "admin@acme.example");
    let tenant = t["tenant_id"].as_str().unwrap();
    let listed = muster(&data, &["tenant", "list"]);
    assert_eq!(listed[0]["id"], tenant);
    let shown = muster(&data, &["tenant", "show", "--tenant", tenant]);
    assert_eq!(shown["domains"][0], "acme.example");
    let set = &[
        "tenant",
        "set",
        "--tenant",
        tenant,
        "--deleted-user-retention-days",
        "7",
    ];
    assert_eq!(muster(&data, set)["deleted_user_retention_days"], 7);
    let shown = muster(&data, &["tenant", "show", "--tenant", tenant]);
    assert_eq!(shown["deleted_user_retention_days"], 7);
    assert_eq!(shown["domains"][0], "acme.example", "other settings stay");
    let back = &[
        "tenant",
        "set",
        "--tenant",
        tenant,
        "--deleted-user-retention-days",
        "default",
    ];
    assert!(
        muster(&data, back)
            .get("deleted_user_retention_days")
            .is_none()
    );
    let wrong = fails(
        &data,
        &[
            "tenant",
            "set",
            "--tenant",
            tenant,
            "--deleted-user-retention-days",
            "soon",
        ],
    );
    assert!(wrong.contains("not a number of days"), "{wrong}");
    assert!(shown.get("auto_invite_since").is_none(), "off by default");
    for (switch, on) in [("on", true), ("off", false)] {
        let set = &["tenant", "set", "--tenant", tenant, "--auto-invite", switch];
        assert_eq!(muster(&data, set)["auto_invite_since"].is_string(), on);
    }
    let clients = muster(&data, &["client", "list", "--tenant", tenant]);
    assert_eq!(clients[0]["client_id"], t["client_id"]);
    assert!(
        !clients
            .to_string()
            .contains(t["client_secret"].as_str().unwrap())
    );
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn communities_mappings_admins_tokens_and_clients_are_managed_from_the_command_line() {
    let data = data_dir("manage");
    let t = muster(
        &data,
        &[
            "tenant",
            "create",
            "--name",
            "Beta",
            "--admin-email",
            "boss@beta.example",
        ],
    );
    let tenant = t["tenant_id"].as_str().unwrap();
    let c = muster(
        &data,
        &[
            "community",
            "create",
            "--tenant",
            tenant,
            "--name",
            "Engineering",
        ],
    );
    let community = c["id"].as_str().unwrap();
    assert_eq!(
        muster(&data, &["community", "list", "--tenant", tenant])[0]["name"],
        "Engineering"
    );
    assert!(
        fails(
            &data,
            &[
                "community",
                "create",
                "--tenant",
                tenant,
                "--name",
                "engineering"
            ]
        )
        .contains("already")
    );
    let m = muster(
        &data,
        &[
            "mapping",
            "set",
            "--tenant",
            tenant,
            "--group",
            "Eng Team",
            "--community",
            "Engineering",
            "--role",
            "contributor",
        ],
    );
    assert_eq!(m["mapping"]["community"], community);
    assert_eq!(m["mapping"]["role"], "contributor");
    assert_eq!(
        muster(&data, &["mapping", "list", "--tenant", tenant])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        fails(
            &data,
            &[
                "mapping",
                "set",
                "--tenant",
                tenant,
                "--group",
                "X",
                "--community",
                community,
                "--role",
                "owner"
            ]
        )
        .contains("unknown role")
    );
    muster(
        &data,
        &[
            "mapping",
            "remove",
            "--tenant",
            tenant,
            "--group",
            "Eng Team",
            "--community",
            community,
        ],
    );
    let a = muster(
        &data,
        &[
            "admin",
            "add",
            "--tenant",
            tenant,
            "--user",
            "boss@beta.example",
            "--community",
            "Engineering",
        ],
    );
    assert_eq!(
        (a["user_id"].clone(), a["role"].clone()),
        (t["admin_user_id"].clone(), "administrator".into())
    );
    assert!(
        fails(
            &data,
            &["admin", "add", "--tenant", tenant, "--user", "nobody"]
        )
        .contains("no user")
    );
    let token = muster(&data, &["token", "issue", "--tenant", tenant]);
    assert!(token["scim_token"].as_str().unwrap().starts_with("mst_"));
    let id = token["scim_token_id"].as_str().unwrap();
    assert_eq!(
        muster(&data, &["token", "revoke", "--tenant", tenant, "--id", id])["revoked"],
        true
    );
    let client = muster(
        &data,
        &[
            "client",
            "create",
            "--tenant",
            tenant,
            "--scope",
            "imports",
            "--allow-ip",
            "10.0.0.0/8",
            "--acting-user",
            "u-1",
            "--acting-user",
            "u-2",
        ],
    );
    assert_eq!(client["scopes"], "imports");
    assert_eq!(client["acting_users"], serde_json::json!(["u-1", "u-2"]));
    let cid = client["client_id"].as_str().unwrap();
    assert_eq!(
        muster(
            &data,
            &["client", "revoke", "--tenant", tenant, "--id", cid]
        )["revoked"],
        true
    );
    assert!(
        fails(
            &data,
            &["client", "create", "--tenant", tenant, "--scope", "root"]
        )
        .contains("unknown scope")
    );
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn rotating_keys_adds_a_current_key_and_keeps_the_previous_one() {
    let data = data_dir("keys");
    let first = muster(&data, &["keys", "rotate"]);
    let second = muster(&data, &["keys", "rotate"]);
    assert_ne!(first["current_kid"], second["current_kid"]);
    let kids = second["kids"].as_array().unwrap();
    assert!(
        kids.contains(&first["current_kid"]),
        "the previous key still verifies: {second}"
    );
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn tokens_are_issued_with_a_name_and_listed_without_their_secrets() {
    let data = data_dir("tokens");
    let t = muster(&data, &["tenant", "create", "--name", "Acme"]);
    let tenant = t["tenant_id"].as_str().unwrap();
    let issued = muster(
        &data,
        &["token", "issue", "--tenant", tenant, "--name", "Okta"],
    );
    let secret = issued["scim_token"].as_str().unwrap();
    let listed = muster(&data, &["token", "list", "--tenant", tenant]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SCIM token", "Okta"], "oldest first");
    assert!(
        !listed
            .to_string()
            .contains(secret.split('.').nth(1).unwrap())
    );
    assert_eq!(listed[1]["id"], issued["scim_token_id"]);
    assert_eq!(listed[1]["last_used"], serde_json::Value::Null);
}

#[tokio::test]
async fn changes_made_from_the_command_line_appear_in_the_tenants_activity_log() {
    let data = data_dir("audit");
    let t = muster(&data, &["tenant", "create", "--name", "Acme"]);
    let tenant = t["tenant_id"].as_str().unwrap().to_owned();
    let issued = muster(
        &data,
        &["token", "issue", "--tenant", &tenant, "--name", "okta"],
    );
    let id = issued["scim_token_id"].as_str().unwrap();
    muster(&data, &["token", "revoke", "--tenant", &tenant, "--id", id]);
    muster(&data, &["token", "list", "--tenant", &tenant]);

    let table = muster::store::EmbeddedTable::open(&data.join("muster.redb")).unwrap();
    let log = muster::activity::Activity::new(std::sync::Arc::new(table));
    let t = muster::ids::TenantId::parse(&tenant).unwrap();
    let filter = muster::activity::Filter::default();
    let (events, _) = log.page(&t, &filter, None, 50).await.unwrap();
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.resource.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("operator (command line)", "muster token revoke", id),
            ("operator (command line)", "muster token issue", "okta"),
        ],
        "newest first, reads leave nothing"
    );
    assert!(
        !format!("{events:?}").contains(issued["scim_token"].as_str().unwrap()),
        "never a secret"
    );
    std::fs::remove_dir_all(&data).unwrap();
}
