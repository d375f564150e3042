//! The console's part of the security sweep: every console route turns away a request
//! without a session, with a forged or ended one, and another tenant's session where it
//! names Acme's objects; a state change needs the session's CSRF token and this service's
//! `Origin`. The `/v1` API takes a console session only with its CSRF token.

use axum::body::Body;
use http::{Request, StatusCode};
use muster::community::{Memberships, Status};
use muster::console::Sessions;
use muster::ids::TenantId;

use crate::helpers::send_raw;
use crate::security_routes::{Guard, Route, guarded};
use crate::security_sweep::{Raw, Sweep, fill, label};

const ORIGIN: &str = "http://api.test";

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.unwrap().as_secs() as i64
}

async fn send(
    s: &Sweep,
    route: &Route,
    vars: &[(&str, String)],
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Raw {
    let mut req = Request::builder()
        .method(route.method)
        .uri(fill(route.sample, vars))
        .header("host", "api.test");
    if let Some(c) = cookie {
        req = req.header("cookie", format!("other=1; muster_console={c}"));
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if !route.body.is_empty() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let body = Body::from(fill(route.body, vars));
    let (status, headers, body) = send_raw(&s.t.app.router, req.body(body).unwrap()).await;
    Raw {
        status,
        headers,
        body,
    }
}

async fn pending(s: &Sweep, community: &str) -> usize {
    Memberships::new(s.t.app.table.clone())
        .with_status(&s.t.tenant, community, Status::Invited)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_console_route_turns_away_missing_forged_ended_and_foreign_sessions() {
    let mut s = Sweep::new().await;
    s.seed_import().await;
    let sessions = Sessions::new(s.t.app.table.clone());
    let acme = s.t.tenant.clone();
    let (own, session) = sessions.start(&acme, &s.t.admin_user, now()).await.unwrap();
    let (ended, _) = sessions.start(&acme, &s.t.admin_user, now()).await.unwrap();
    sessions.end(&ended).await.unwrap();
    let forged = format!("{acme}.{}", "A".repeat(43));
    let beta = TenantId::parse(&s.t.app.beta.id).unwrap();
    let (foreign, _) = sessions.start(&beta, &s.beta_admin, now()).await.unwrap();
    let vars = [s.vars.clone(), vec![("csrf", session.csrf.clone())]].concat();
    let forged_csrf = [s.vars.clone(), vec![("csrf", "forged".to_owned())]].concat();
    let community = &vars.iter().find(|(n, _)| *n == "community").unwrap().1;
    let before = pending(&s, community).await;
    assert!(before > 0, "the seeded import left a pending member");

    for route in guarded(Guard::Console) {
        let what = label(route);
        for cookie in [None, Some(forged.as_str()), Some(&ended)] {
            let a = send(&s, route, &vars, cookie, Some(ORIGIN)).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{what} with {cookie:?}");
            let to = a.header("location").unwrap_or_default();
            assert!(to.starts_with("/console/signed-out"), "{what}: {to}");
        }
        if route.sample.contains("{community}") {
            let a = send(&s, route, &vars, Some(&foreign), Some(ORIGIN)).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{what} as Beta's admin");
        }
        if route.method == "POST" {
            let a = send(&s, route, &forged_csrf, Some(&own), Some(ORIGIN)).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{what} with a forged token"
            );
            for origin in [None, Some("https://evil.test")] {
                let a = send(&s, route, &vars, Some(&own), origin).await;
                assert_eq!(a.status, StatusCode::FORBIDDEN, "{what} from {origin:?}");
            }
            assert_eq!(
                pending(&s, community).await,
                before,
                "{what}: nothing changed"
            );
        }
    }
    for route in guarded(Guard::Console) {
        let a = send(&s, route, &vars, Some(&own), Some(ORIGIN)).await;
        let to = a.header("location").unwrap_or_default().to_owned();
        let passed = a.status.is_success()
            || (a.status == StatusCode::SEE_OTHER && !to.contains("signed-out"));
        assert!(passed, "{}: {} {to}", label(route), a.status);
        let frame = a.header("x-frame-options");
        assert_eq!(frame, Some("DENY"), "{}", label(route));
    }
    assert_eq!(
        pending(&s, community).await,
        0,
        "the real invitation went out"
    );
}

#[tokio::test]
async fn the_v1_api_takes_a_console_session_only_with_its_csrf_token_and_as_its_own_user() {
    let mut s = Sweep::new().await;
    s.seed_import().await;
    let sessions = Sessions::new(s.t.app.table.clone());
    let (cookie, session) = sessions
        .start(&s.t.tenant, &s.t.admin_user, now())
        .await
        .unwrap();
    let job = &s.vars.iter().find(|(n, _)| *n == "job").unwrap().1;
    let get = |user: &str, csrf: Option<&str>, origin: Option<&str>| {
        let mut req = Request::get(format!("/v1/member_provisionings?id={job}&user_id={user}"))
            .header("host", "api.test")
            .header("cookie", format!("muster_console={cookie}"));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.body(Body::empty()).unwrap()
    };
    let router = &s.t.app.router;
    let admin = s.t.admin_user.clone();
    let (status, _, _) = send_raw(router, get(&admin, None, None)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a cookie alone is no credential"
    );
    let (status, _, _) = send_raw(router, get(&admin, Some("forged"), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let csrf = Some(session.csrf.as_str());
    let (status, _, _) = send_raw(router, get(&admin, csrf, Some("https://evil.test"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another origin");
    let (status, _, body) = send_raw(router, get(&admin, csrf, Some(ORIGIN))).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let other = s.vars.iter().find(|(n, _)| *n == "user").unwrap().1.clone();
    let (status, _, _) = send_raw(router, get(&other, csrf, None)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a session acts only as its own user"
    );
}
