//! The security sweep of the `/v1` and public routes: missing, forged, expired and SCIM tokens
//! get one 401; another tenant's access token gets exactly the answers of ids that exist
//! nowhere; public routes answer alike with any token; unrouted SCIM paths do not tell whether a
//! tenant exists; an expired local upload URL is refused.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::store::{Condition, Item, Key};
use serde_json::{Value, json};

use crate::helpers::{base64, send_raw};
use crate::import_harness::ImportApp;
use crate::security_routes::{Guard, ROUTES, Route, guarded};
use crate::security_sweep::{Raw, Sweep, answered_alike, label, seen};

/// Asserts the `/v1` API's JSON 401 with this challenge.
fn assert_v1_401(a: &Raw, route: &Route, challenge: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", label(route));
    assert_eq!(a.json()["error"], "unauthorized", "{}", label(route));
    assert!(a.json()["message"].is_string());
    assert_eq!(
        a.header("www-authenticate"),
        Some(challenge),
        "{}",
        label(route)
    );
}

#[tokio::test]
async fn every_v1_route_gives_401_to_a_missing_forged_expired_or_scim_token() {
    let mut s = Sweep::new().await;
    s.seed_import().await;
    for route in guarded(Guard::Imports) {
        let none = s.send(route, &s.vars, None).await;
        assert_v1_401(&none, route, "Bearer realm=\"muster\"");
        let bearers = [
            Some(s.forged_jwt.as_str()),
            Some(&s.expired_jwt),
            Some(&s.t.app.beta.token),
            Some(&s.t.app.acme.token),
        ];
        let a = answered_alike(&s, route, &s.vars, &bearers).await;
        let invalid = "Bearer realm=\"muster\", error=\"invalid_token\"";
        assert_v1_401(&a, route, invalid);
        let ok = s.send(route, &s.vars, Some(&s.acme_jwt)).await;
        let what = format!("{}: {}", label(route), String::from_utf8_lossy(&ok.body));
        assert!(
            ok.status.is_success(),
            "the tenant's own token passes: {what}"
        );
    }
}

/// `vars` with `name` set to `value`.
fn with(vars: &[(&'static str, String)], name: &str, value: &str) -> Vec<(&'static str, String)> {
    let mut out = vars.to_vec();
    out.iter_mut()
        .filter(|(n, _)| *n == name)
        .for_each(|(_, v)| *v = value.to_owned());
    out
}

/// On `/v1` the token names the tenant, so another tenant's valid token is refused by what it
/// names: with Acme's administrator, blob, job or community it must get exactly the answer
/// ids that exist nowhere get (read before Acme had them; Acme's first job will be 1).
#[tokio::test]
async fn another_tenants_imports_token_gets_the_answers_of_ids_that_exist_nowhere() {
    let mut s = Sweep::new().await;
    let mut nowhere = with(&s.vars, "admin", &muster::ids::random_id());
    nowhere.extend([("signed", "nowhere".into()), ("job", "1".into())]);
    let nowhere = with(&nowhere, "community", "nowhere");
    let beta_admin_nowhere = with(&nowhere, "admin", &s.beta_admin);
    let mut before = Vec::new();
    for route in guarded(Guard::Imports) {
        let as_nobody = s.send(route, &nowhere, Some(&s.beta_jwt)).await;
        let as_beta = s.send(route, &beta_admin_nowhere, Some(&s.beta_jwt)).await;
        before.push((as_nobody, as_beta));
    }
    s.seed_import().await;
    assert!(
        s.vars.contains(&("job", "1".into())),
        "Acme's first job is 1"
    );
    let beta_admin_acme_objects = with(&s.vars, "admin", &s.beta_admin);
    for (route, (as_nobody, as_beta)) in guarded(Guard::Imports).zip(before) {
        let foreign = s.send(route, &s.vars, Some(&s.beta_jwt)).await;
        assert_eq!(foreign.seen(), as_nobody.seen(), "{}", label(route));
        if !route.sample.contains('{') {
            let own = s.send(route, &s.vars, Some(&s.acme_jwt)).await;
            assert_eq!(foreign.seen(), own.seen(), "{}", label(route));
            assert!(
                own.status.is_success(),
                "{} names no tenant's data",
                label(route)
            );
            continue;
        }
        assert!(foreign.status.is_client_error(), "{}", label(route));
        if ["{signed}", "{job}", "{community}"]
            .iter()
            .any(|p| route.sample.contains(p))
        {
            let a = s
                .send(route, &beta_admin_acme_objects, Some(&s.beta_jwt))
                .await;
            let what = format!("{}: {}", label(route), String::from_utf8_lossy(&a.body));
            assert_eq!(a.seen(), as_beta.seen(), "{what}");
            assert!(a.status.is_client_error(), "{what}");
        }
    }
}

#[tokio::test]
async fn public_routes_answer_alike_with_or_without_a_token_and_name_no_tenant() {
    let s = Sweep::new().await;
    let vars = [s.vars.clone(), vec![("upload", "nowhere".into())]].concat();
    let bearers = [
        None,
        Some(s.t.app.acme.token.as_str()),
        Some(&s.acme_jwt),
        Some(&s.beta_jwt),
    ];
    for route in ROUTES
        .iter()
        .filter(|r| matches!(r.guard, Guard::Public(_)))
    {
        let a = answered_alike(&s, route, &vars, &bearers).await;
        let text = String::from_utf8_lossy(&a.body);
        for tenant in [&s.t.app.acme.id, &s.t.app.beta.id] {
            assert!(!text.contains(tenant.as_str()), "{}: {text}", label(route));
        }
        match route.path {
            "/health" => assert_eq!(
                (a.status, a.json()),
                (StatusCode::OK, json!({"status": "ok"}))
            ),
            "/oauth/token" => {
                assert_eq!(
                    (a.status, a.json()["error"].as_str()),
                    (StatusCode::UNAUTHORIZED, Some("invalid_client"))
                );
                assert_eq!(a.header("www-authenticate"), Some("Basic realm=\"muster\""));
                let c = &s.acme_client;
                let basic = base64(
                    format!("{}:{}", c.client_id, c.client_secret).as_bytes(),
                    false,
                );
                let req = Request::post(route.sample)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("authorization", format!("Basic {basic}"))
                    .body(Body::from(route.body))
                    .unwrap();
                let (status, _, _) = send_raw(&s.t.app.router, req).await;
                assert_eq!(status, StatusCode::OK, "client credentials get a token");
            }
            "/uploads/{token}" => {
                assert_eq!(
                    (a.status, a.json()["error"].as_str()),
                    (StatusCode::FORBIDDEN, Some("AccessDenied"))
                );
                s.t.upload("matricule\nE1\n").await;
            }
            "/console/sign-in" if route.method == "GET" => {
                assert_eq!(a.status, StatusCode::OK);
                assert!(
                    text.contains("id=\"sign-in\""),
                    "a button, not a sign-in: {text}"
                );
                assert!(a.header("set-cookie").is_none());
            }
            "/console/sign-in" => {
                // No Origin of this service, and no valid code: refused, and no session.
                assert!(a.status.is_client_error(), "{}", a.status);
                assert!(a.header("set-cookie").is_none());
            }
            "/console/sign-out" => {
                assert_eq!(a.status, StatusCode::SEE_OTHER);
                assert_eq!(a.header("location"), Some("/console/signed-out"));
                assert!(a.header("set-cookie").unwrap().contains("Max-Age=0"));
            }
            "/console/signed-out" => assert_eq!(a.status, StatusCode::UNAUTHORIZED),
            "/console/assets/{file}" => {
                assert_eq!(a.status, StatusCode::OK);
                assert_eq!(a.header("content-type"), Some("text/css; charset=utf-8"));
            }
            "/console/{*rest}" => assert_eq!(a.status, StatusCode::NOT_FOUND),
            other => panic!("the public route {other} has no check here"),
        }
    }
}

#[tokio::test]
async fn unrouted_scim_paths_and_methods_answer_alike_whether_the_tenant_exists_or_not() {
    let s = Sweep::new().await;
    let user = &s.vars.iter().find(|(n, _)| *n == "user").unwrap().1;
    let probes = [
        (Method::GET, "/Me".to_owned()),
        (Method::GET, "/Nope".to_owned()),
        (Method::DELETE, "/Users".to_owned()),
        (Method::POST, format!("/Users/{user}")),
        (Method::GET, "/Bulk".to_owned()),
        (Method::PUT, "/ServiceProviderConfig".to_owned()),
    ];
    for (method, path) in probes {
        for bearer in [None, Some(s.t.app.beta.token.as_str())] {
            let mut answers = Vec::new();
            for tenant in [s.t.app.acme.id.as_str(), "ghost-zz9zz9"] {
                let mut req = Request::builder()
                    .method(method.clone())
                    .uri(format!("/tenants/{tenant}/scim/v2{path}"));
                if let Some(token) = bearer {
                    req = req.header("authorization", format!("Bearer {token}"));
                }
                answers.push(send_raw(&s.t.app.router, req.body(Body::empty()).unwrap()).await);
            }
            let what = format!("{method} {path} {bearer:?}: {}", answers[0].0);
            assert!(!answers[0].0.is_success(), "{what}");
            let [acme, ghost] = [&answers[0], &answers[1]].map(|(s, _, b)| seen(*s, b));
            assert_eq!(acme, ghost, "{what}");
        }
    }
}

#[tokio::test]
async fn an_expired_local_upload_url_is_refused_like_s3_and_passes_once_its_expiry_is_restored() {
    let t = ImportApp::new().await;
    let file = b"matricule\nE1\n";
    let p = t.presign(file, "text/csv").await;
    let url = p.body["direct_upload"]["url_for_direct_upload"]
        .as_str()
        .unwrap();
    let token = url.rsplit('/').next().unwrap();
    let key = Key::new("UPLOADS", format!("U#{token}"));
    let set_expiry = |delta: i64| {
        let (table, key) = (t.app.table.clone(), key.clone());
        async move {
            let item = table.get(&key).await.unwrap().expect("the pending upload");
            let mut pending: Value = serde_json::from_slice(&item.body).unwrap();
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            let at = now.unwrap().as_secs() as i64 + delta;
            pending["expires_at"] = json!(at);
            let body = serde_json::to_vec(&pending).unwrap();
            let next = Item::new(key, item.version + 1, body);
            table
                .put(next, Condition::VersionIs(item.version))
                .await
                .unwrap();
        }
    };
    let headers: Vec<(String, String)> = p.body["direct_upload"]["headers_for_direct_upload"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let put = || {
        let mut req = Request::put(url.strip_prefix("http://api.test").unwrap());
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        t.app.send(req.body(Body::from(file.to_vec())).unwrap())
    };
    set_expiry(-1).await;
    let expired = put().await;
    assert_eq!(
        (expired.status, expired.body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("AccessDenied"))
    );
    let signed = p.body["signed_id"].as_str().unwrap();
    let early = t.start(signed, "UPSERT", "").await;
    assert_eq!(
        early.body["error"], "blob_not_uploaded",
        "nothing was stored"
    );
    set_expiry(60).await;
    assert_eq!(
        put().await.status,
        StatusCode::OK,
        "the same PUT within the validity"
    );
}
