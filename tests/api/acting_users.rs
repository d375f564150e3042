//! The acting user of `/v1` is checked, not only asserted: a job's status, report and errors
//! are shown only to an administrator whose scope covers every community the job touched,
//! and a client bound to acting users may name no one else.

use http::{Method, StatusCode};
use muster::admin::Admin;
use muster::auth::{ApiClients, NewClient, Scope};

use crate::import_harness::ImportApp;

const FILE: &str = "matricule,email,first_name,last_name,community,role\nE1,ann@acme.test,Ann,Lee,Engineering,member\nE2,bob@acme.test,Bob,Ray,Sales,member\n";

/// A user who administers only `community`.
async fn community_admin(t: &ImportApp, name: &str, community: &str) -> String {
    let user = t.app.create_user(&format!("{name}@acme.test")).await;
    let id = t.community_id(community).await;
    Admin::new(t.app.table.clone())
        .add_admin(&t.tenant, &user, Some(&id))
        .await
        .unwrap();
    user
}

async fn reads(t: &ImportApp, token: &str, job: u64, user: &str) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for route in ["", "/reports", "/errors"] {
        let path = format!("/v1/member_provisionings{route}?id={job}&user_id={user}");
        let req = http::Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("host", "api.test")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        out.push(t.app.send(req).await.status);
    }
    out
}

#[tokio::test]
async fn a_jobs_status_report_and_errors_are_shown_only_to_admins_covering_its_communities() {
    let t = ImportApp::new().await;
    let (tenant_job, status) = t.import(FILE, "UPSERT", "").await;
    assert_eq!(status["state"], "succeeded", "{status}");
    let legal = community_admin(&t, "lea", "Legal").await;
    let engineering = community_admin(&t, "eng", "Engineering").await;
    let forbidden = vec![StatusCode::FORBIDDEN; 3];
    assert_eq!(reads(&t, &t.token, tenant_job, &legal).await, forbidden);
    assert_eq!(
        reads(&t, &t.token, tenant_job, &engineering).await,
        forbidden,
        "part of it is not enough"
    );
    let ok = vec![StatusCode::OK; 3];
    assert_eq!(reads(&t, &t.token, tenant_job, &t.admin_user).await, ok);
    // A community administrator's own job is theirs and the tenant administrator's to read.
    let file = "matricule,email,first_name,last_name,community,role\nE3,cyd@acme.test,Cyd,Moe,Legal,member\n";
    let signed = t.upload(file).await;
    let started = t
        .v1(
            Method::POST,
            &format!("/member_provisionings?signed_id={signed}&user_id={legal}&operation=UPSERT"),
            None,
            &[],
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let legal_job = started.body["id"].as_u64().unwrap();
    t.wait(legal_job).await;
    assert_eq!(reads(&t, &t.token, legal_job, &legal).await, ok);
    assert_eq!(
        reads(&t, &t.token, legal_job, &engineering).await,
        forbidden
    );
}

#[tokio::test]
async fn a_client_bound_to_acting_users_is_refused_for_anyone_else() {
    let t = ImportApp::new().await;
    let (job, _) = t.import(FILE, "UPSERT", "").await;
    let legal = community_admin(&t, "lea", "Legal").await;
    let bound = ApiClients::new(t.app.table.clone())
        .create(
            &t.tenant,
            NewClient {
                name: "legal script".into(),
                scopes: vec![Scope::Imports],
                allowed_ips: vec![],
                acting_users: vec![legal.clone()],
            },
        )
        .await
        .unwrap();
    let token = t
        .keys
        .issue_access_token(&bound.client, &[Scope::Imports])
        .access_token;
    assert_eq!(
        reads(&t, &token, job, &t.admin_user).await,
        vec![StatusCode::FORBIDDEN; 3],
        "the tenant administrator is not among its acting users"
    );
    let presign = format!("/v1/blobs?user_id={}", t.admin_user);
    let req = http::Request::builder()
        .method(Method::POST)
        .uri(presign)
        .header("host", "api.test")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from("{}"))
        .unwrap();
    assert_eq!(t.app.send(req).await.status, StatusCode::FORBIDDEN);
    assert_eq!(bound.client.acting_users, vec![legal]);
}
