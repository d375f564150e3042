//! The security sweep's fixture (two tenants, every kind of credential) and the sweep of the
//! SCIM and operator routes: every route of the table in `security_routes` is called without
//! a token, with another tenant's tokens, with forged and expired ones, and with the right one.

use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use muster::auth::{ApiClients, Claims, NewClient, ScimTokens, Scope, sha256_hex};
use muster::config::Config;
use serde_json::Value;

use crate::helpers::send_raw;
use crate::import_harness::ImportApp;
use crate::security_routes::{Guard, ROUTES, Route, S, guarded};

/// The operator key of the sweep's Router.
pub const OPERATOR_KEY: &str = "operator-key-of-the-sweep";

/// An answer as sent: status, headers and the body's bytes.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A status and body to compare byte for byte: the body as text when it is UTF-8 (as every
/// answer here is), else as bytes.
pub fn seen(status: StatusCode, body: &[u8]) -> (StatusCode, String) {
    let text = String::from_utf8(body.to_vec());
    (
        status,
        text.unwrap_or_else(|e| format!("{:?}", e.into_bytes())),
    )
}

impl Raw {
    pub fn seen(&self) -> (StatusCode, String) {
        seen(self.status, &self.body)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Two tenants on one Router with imports and an operator key, and every credential the sweep
/// presents: Acme owns the data, Beta is "another tenant".
pub struct Sweep {
    pub t: ImportApp,
    /// Placeholder values naming Acme's objects.
    pub vars: Vec<(&'static str, String)>,
    pub acme_client: muster::auth::IssuedClient,
    /// Access tokens with every scope.
    pub acme_jwt: String,
    pub beta_jwt: String,
    pub beta_admin: String,
    /// Acme's access token with its claims issued an hour ago.
    pub expired_jwt: String,
    /// Acme's access token with one signature byte changed.
    pub forged_jwt: String,
    /// Acme's SCIM token with one secret character changed.
    pub forged_scim: String,
}

async fn client_of(t: &ImportApp, tenant: &str) -> muster::auth::IssuedClient {
    let new = NewClient {
        name: "sweep".into(),
        scopes: Scope::ALL.to_vec(),
        allowed_ips: vec![],
        acting_users: vec![],
    };
    let tenant = muster::ids::TenantId::parse(tenant).unwrap();
    ApiClients::new(t.app.table.clone())
        .create(&tenant, new)
        .await
        .unwrap()
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.unwrap().as_secs()).unwrap()
}

/// `template` with `{S}` and each `{name}` of `vars` replaced.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.replace("{S}", S);
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `token` with the first character after its last `.` changed: a JWT with a bad signature,
/// a SCIM token with a wrong secret.
pub fn forge(token: &str) -> String {
    let (kept, last) = token.rsplit_once('.').unwrap();
    let changed = if last.starts_with('A') { 'B' } else { 'A' };
    format!("{kept}.{changed}{}", &last[1..])
}

/// A user of Beta made its tenant administrator.
async fn beta_admin(t: &ImportApp) -> String {
    let beta = &t.app.beta;
    let users = format!("/tenants/{}/scim/v2/Users", beta.id);
    let user = Some(crate::helpers::user("hr@beta.test"));
    let created = t
        .app
        .call_as(&beta.token, Method::POST, &users, user, &[])
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let tenant = muster::ids::TenantId::parse(&beta.id).unwrap();
    let admin = muster::admin::Admin::new(t.app.table.clone());
    admin.add_admin(&tenant, &id, None).await.unwrap();
    id
}

impl Sweep {
    pub async fn new() -> Self {
        let operator_key_sha256 = Some(sha256_hex(OPERATOR_KEY.as_bytes()));
        let config = Config {
            operator_key_sha256,
            ..Config::default()
        };
        let t = ImportApp::with_config(config).await;
        let (acme, beta) = (t.app.acme.id.clone(), t.app.beta.id.clone());
        let acme_client = client_of(&t, &acme).await;
        let spare_client = client_of(&t, &acme).await;
        let jwt = |c: &muster::auth::IssuedClient| {
            t.keys
                .issue_access_token(&c.client, &Scope::ALL)
                .access_token
        };
        let (acme_jwt, beta_jwt) = (jwt(&acme_client), jwt(&client_of(&t, &beta).await));
        let claims = Claims::access(&acme_client.client_id, &t.tenant, &Scope::ALL, now() - 3600);
        let expired_jwt = t.keys.sign(&claims);
        let (forged_jwt, forged_scim) = (forge(&acme_jwt), forge(&t.app.acme.token));
        let tokens = ScimTokens::new(t.app.table.clone());
        let spare_token = tokens.issue(&t.tenant).await.unwrap();
        let user = t.app.create_user("victim@acme.test").await;
        let group = t.app.create_group("Sweep group", &[&user]).await;
        let beta_admin = beta_admin(&t).await;
        let vars = vec![
            ("tenant", acme),
            ("admin", t.admin_user.clone()),
            ("user", user),
            ("group", group),
            ("community", t.community_id("Engineering").await),
            ("token_id", spare_token.id),
            ("client", spare_client.client_id),
        ];
        Self {
            t,
            vars,
            acme_client,
            acme_jwt,
            beta_jwt,
            beta_admin,
            expired_jwt,
            forged_jwt,
            forged_scim,
        }
    }

    /// Uploads and imports a file as Acme, naming its blob `{signed}` and its job `{job}`.
    pub async fn seed_import(&mut self) {
        let file = "matricule,email,first_name,last_name,community,role\nE1,ann@acme.test,Ann,Lee,Engineering,member\n";
        let signed = self.t.upload(file).await;
        let started = self.t.start(&signed, "UPSERT", "").await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        let job = started.body["id"].as_u64().unwrap();
        self.t.wait(job).await;
        // That job's file is deleted now that it has ended: routes that start a job get a
        // fresh upload.
        let signed = self.t.upload(file).await;
        self.vars.push(("signed", signed));
        self.vars.push(("job", job.to_string()));
    }

    /// Sends `route`'s sample with `vars`, and `bearer` as `Authorization: Bearer …`.
    pub async fn send(&self, route: &Route, vars: &[(&str, String)], bearer: Option<&str>) -> Raw {
        let body = fill(route.body, vars);
        let mut req = Request::builder()
            .method(route.method)
            .uri(fill(route.sample, vars))
            .header("host", "api.test");
        if let Some(token) = bearer {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let content_type = match (route.guard, body.starts_with('{')) {
            (_, false) => "application/x-www-form-urlencoded",
            (Guard::Scim, true) => "application/scim+json",
            (_, true) => "application/json",
        };
        if !body.is_empty() {
            req = req.header("content-type", content_type);
        }
        let (status, headers, body) =
            send_raw(&self.t.app.router, req.body(Body::from(body)).unwrap()).await;
        Raw {
            status,
            headers,
            body,
        }
    }
}

pub fn label(route: &Route) -> String {
    format!("{} {}", route.method, route.sample)
}

/// Sends `route` with each of `bearers` and asserts the answers are byte-identical; returns
/// the first.
pub async fn answered_alike(
    s: &Sweep,
    route: &Route,
    vars: &[(&str, String)],
    bearers: &[Option<&str>],
) -> Raw {
    let first = s.send(route, vars, bearers[0]).await;
    for bearer in &bearers[1..] {
        let a = s.send(route, vars, *bearer).await;
        let what = format!("{}: {bearer:?} answered {}", label(route), a.status);
        assert_eq!(a.seen(), first.seen(), "{what}");
        assert_eq!(
            a.header("www-authenticate"),
            first.header("www-authenticate"),
            "{what}"
        );
    }
    first
}

#[tokio::test]
async fn every_scim_route_gives_one_401_to_a_missing_foreign_forged_or_expired_token() {
    let s = Sweep::new().await;
    for route in guarded(Guard::Scim) {
        let bearers = [
            None,
            Some(s.t.app.beta.token.as_str()),
            Some(&s.beta_jwt),
            Some(&s.forged_scim),
            Some(&s.forged_jwt),
            Some(&s.expired_jwt),
        ];
        let a = answered_alike(&s, route, &s.vars, &bearers).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", label(route));
        let body = a.json();
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(body["status"], "401");
        assert_eq!(a.header("content-type"), Some("application/scim+json"));
        assert_eq!(
            a.header("www-authenticate"),
            Some("Bearer realm=\"muster\"")
        );
        let ok = s.send(route, &s.vars, Some(&s.t.app.acme.token)).await;
        let what = format!("{}: {}", label(route), String::from_utf8_lossy(&ok.body));
        assert!(
            ok.status.is_success(),
            "the tenant's own token passes: {what}"
        );
    }
}

#[tokio::test]
async fn every_admin_route_gives_every_tenant_token_the_401_of_a_wrong_operator_key() {
    let s = Sweep::new().await;
    for route in guarded(Guard::Operator) {
        let bearers = [
            None,
            Some("not-the-operator-key"),
            Some(s.t.app.beta.token.as_str()),
            Some(&s.beta_jwt),
            Some(&s.t.app.acme.token),
            Some(&s.acme_jwt),
            Some(&s.forged_jwt),
            Some(&s.expired_jwt),
        ];
        let a = answered_alike(&s, route, &s.vars, &bearers).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", label(route));
        assert_eq!(a.json()["error"], "unauthorized");
        assert_eq!(
            a.header("www-authenticate"),
            Some("Bearer realm=\"muster-admin\"")
        );
        let ok = s.send(route, &s.vars, Some(OPERATOR_KEY)).await;
        let what = format!("{}: {}", label(route), String::from_utf8_lossy(&ok.body));
        assert!(ok.status.is_success(), "the operator key passes: {what}");
    }
}

/// axum answers HEAD on every GET route, so HEAD must meet the same guard as GET.
#[tokio::test]
async fn head_on_every_guarded_get_route_is_answered_as_get_is() {
    let mut s = Sweep::new().await;
    s.seed_import().await;
    let gets = ROUTES.iter().filter(|r| r.method == "GET");
    for get in gets.filter(|r| !matches!(r.guard, Guard::Public(_))) {
        let head = Route {
            method: "HEAD",
            ..*get
        };
        for bearer in [None, Some(s.forged_jwt.as_str()), Some(&s.beta_jwt)] {
            let (h, g) = (
                s.send(&head, &s.vars, bearer).await,
                s.send(get, &s.vars, bearer).await,
            );
            assert_eq!(h.status, g.status, "HEAD {}", get.sample);
            // Beta's valid token acts in Beta on /v1 (see security_v1); elsewhere it is refused.
            let acts_in_beta = get.guard == Guard::Imports && bearer == Some(s.beta_jwt.as_str());
            if get.guard == Guard::Console {
                // Bearer tokens are no console session: off to sign in.
                assert_eq!(h.status, StatusCode::SEE_OTHER, "HEAD {}", get.sample);
            } else if !acts_in_beta {
                assert_eq!(h.status, StatusCode::UNAUTHORIZED, "HEAD {}", get.sample);
            }
        }
    }
}
