//! Kill -9 of `muster tenant set --sync on` while it derives the access of a 3,000-member
//! mapped group: the switch recorded its tenant-wide intent with the change, so a restarted
//! `muster serve`, sent nothing, finishes the derivation (`muster check` finds no drift).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{MUSTER, check, data_dir, http, muster, serve, unthrottled_tenant};
use serde_json::json;

const MEMBERS: usize = 3000;

#[test]
fn a_kill_while_the_switch_derives_access_heals_after_restart_without_any_request() {
    let data = data_dir("kill-switch");
    let (tenant, token) = unthrottled_tenant(&data, "Switch");
    let (tenant, token) = (tenant.as_str(), token.as_str());
    let eng = muster(
        &data,
        &["community", "create", "--tenant", tenant, "--name", "Eng"],
    );
    let community = eng["id"].as_str().unwrap().to_owned();
    let server = serve(&data);
    let base = format!("/tenants/{tenant}/scim/v2");
    let mut ids = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": format!("m{i:04}@acme.test")});
        let (status, user) = http(
            &server.addr,
            "POST",
            &format!("{base}/Users"),
            token,
            Some(body),
        );
        assert_eq!(status, 201, "{user}");
        ids.push(json!({"value": user["id"]}));
    }
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": "Everyone", "members": ids});
    let (status, group) = http(
        &server.addr,
        "POST",
        &format!("{base}/Groups"),
        token,
        Some(body),
    );
    assert_eq!(status, 201, "{group}");
    let map = [
        "mapping",
        "set",
        "--tenant",
        tenant,
        "--group",
        "Everyone",
        "--community",
        "Eng",
        "--role",
        "member",
    ];
    muster(&data, &map);
    // The running server's reconciler settles what the mapping recorded (nothing to grant).
    // The check reads the intent shards one after another, so while the reconciler expands a
    // group's intent into its members' it can miss both: settled means none seen twice in a
    // row, a moment apart.
    let since = Instant::now();
    let mut quiet = 0;
    while quiet < 2 {
        quiet = if check(&data, tenant).1 == 0 {
            quiet + 1
        } else {
            0
        };
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "intents never settled"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(server);
    let (drift, pending, members, memberships) = check(&data, tenant);
    assert_eq!(
        (drift, pending, members, memberships),
        (0, 0, MEMBERS as u64, 0),
        "off: no access, no drift"
    );

    let mut switch = Command::new(MUSTER)
        .args([
            "tenant", "set", "--tenant", tenant, "--sync", "on", "--data",
        ])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The switch holds the store and lends it: watch its community fill over the socket,
    // one cheap count at a time (a whole `muster check` takes as long as the derivation).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let since = Instant::now();
    loop {
        if runtime.block_on(granted(&data, tenant, &community)) > 0 {
            break;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "the derivation never started"
        );
        assert!(
            switch.try_wait().unwrap().is_none(),
            "the switch finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    switch.kill().unwrap();
    switch.wait().unwrap();
    let (drift, pending, _, memberships) = check(&data, tenant);
    assert!(
        memberships < MEMBERS as u64,
        "the kill landed mid-derivation"
    );
    assert!(drift + pending > 0);

    let _server = serve(&data);
    let since = Instant::now();
    loop {
        let (drift, pending, members, memberships) = check(&data, tenant);
        if drift == 0 && pending == 0 && memberships == members {
            break;
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "no convergence: {drift} drift, {pending} pending, {memberships} of {members}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let shown = muster(&data, &["tenant", "show", "--tenant", tenant]);
    assert!(
        shown.get("sync_pending").is_none(),
        "the tenant-wide intent is done: {shown}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// The members the community has now, read from the store the running command lends (0 while
/// no command lends it yet).
async fn granted(data: &std::path::Path, tenant: &str, community: &str) -> u64 {
    use muster::store::{SkRange, SocketTable, count_merged, keys};
    let Ok(lent) = SocketTable::connect(&data.join("muster.sock")).await else {
        return 0;
    };
    let t = muster::ids::TenantId::parse(tenant).unwrap();
    let shards = keys::community_members_shards(&t, community);
    count_merged(&lent, &shards, &SkRange::Prefix(String::new()))
        .await
        .unwrap_or(0)
}
