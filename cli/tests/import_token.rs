//! `muster import` follows a job that outlives its access token: against a stand-in API whose
//! tokens live one second (muster's live 900), and whose job runs for three, the command
//! renews its token as it polls and ends with the job's outcome, never with a 401.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use common::{MUSTER, data_dir};
use serde_json::json;

/// Tokens issued (their value and when), and when the job started.
#[derive(Default)]
struct Api {
    issued: Vec<(String, Instant)>,
    refused: usize,
    started: Option<Instant>,
}

type Shared = Arc<Mutex<Api>>;

const LIFETIME: Duration = Duration::from_secs(1);

async fn token(State(api): State<Shared>) -> Json<serde_json::Value> {
    let mut api = api.lock().unwrap();
    let value = format!("t{}", api.issued.len());
    api.issued.push((value.clone(), Instant::now()));
    Json(json!({"access_token": value, "token_type": "Bearer", "expires_in": 1}))
}

/// Refuses a request whose token is unknown or older than its lifetime.
async fn bearer(State(api): State<Shared>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let fresh = {
        let mut api = api.lock().unwrap();
        let fresh = api
            .issued
            .iter()
            .any(|(t, at)| *t == given && at.elapsed() < LIFETIME);
        api.refused += usize::from(!fresh);
        fresh
    };
    if !fresh {
        let body = json!({"error": "unauthorized", "message": "the access token has expired"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    next.run(req).await
}

fn stand_in(api: Shared, base: String) -> Router {
    let v1 = Router::new()
        .route(
            "/v1/blobs",
            post(move || async move {
                Json(json!({"signed_id": "s1", "direct_upload": {
                    "url_for_direct_upload": format!("{base}/upload"),
                    "headers_for_direct_upload": {}}}))
            }),
        )
        .route(
            "/v1/member_provisionings",
            post(|State(api): State<Shared>| async move {
                api.lock().unwrap().started = Some(Instant::now());
                (
                    StatusCode::CREATED,
                    Json(json!({"id": 1, "state": "created"})),
                )
            })
            .get(|State(api): State<Shared>| async move {
                let started = api.lock().unwrap().started.expect("started");
                let state = match started.elapsed() > Duration::from_secs(3) {
                    true => "succeeded",
                    false => "syncing",
                };
                Json(json!({"id": 1, "state": state, "rows_total": 1, "rows_applied": 1}))
            }),
        )
        .route(
            "/v1/member_provisionings/{what}",
            get(|| async { Json(json!({"data": [], "meta": {"pagination": {"total": 0}}})) }),
        )
        .layer(axum::middleware::from_fn_with_state(api.clone(), bearer));
    Router::new()
        .route("/oauth/token", post(token))
        .route("/upload", put(|| async { StatusCode::OK }))
        .merge(v1)
        .with_state(api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_that_outlives_its_access_token_is_followed_to_the_end() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let api = Shared::default();
    let router = stand_in(api.clone(), base.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let data = data_dir("token-renewal");
    let file = data.join("members.csv");
    std::fs::write(&file, "matricule,email,community\nE1,a@acme.test,Sales\n").unwrap();

    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(MUSTER)
            .arg("import")
            .arg(&file)
            .args(["--mode", "upsert", "--url", &base, "--json"])
            .args(["--client-id", "c", "--client-secret", "s", "--user-id", "u"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["job"]["state"], "succeeded");
    let api = api.lock().unwrap();
    assert!(
        api.issued.len() >= 3,
        "a three-second job needs at least three one-second tokens, got {}",
        api.issued.len()
    );
    std::fs::remove_dir_all(&data).unwrap();
}
