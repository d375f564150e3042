//! A test harness: one in-memory store, two tenants with a token each, and requests sent
//! through the public Router with `oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use muster::auth::{NewTenant, ScimTokens, Tenants};
use muster::config::Config;
use muster::http::{AppState, app};
use muster::store::{EmbeddedTable, Table};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An answer: status, headers, and the body as JSON (`Null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 7644 §3.12 error body with this status and `scimType`.
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert_eq!(
            self.body["scimType"].as_str(),
            scim_type,
            "body: {}",
            self.body
        );
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

pub struct Tenant {
    pub id: String,
    pub token: String,
}

pub struct TestApp {
    pub router: Router,
    pub table: Arc<dyn Table>,
    pub acme: Tenant,
    pub beta: Tenant,
}

async fn tenant(table: &Arc<dyn Table>, name: &str) -> Tenant {
    let t = Tenants::new(table.clone())
        .create(NewTenant {
            name: name.into(),
            domains: vec![],
            sync: true,
        })
        .await
        .unwrap();
    let token = ScimTokens::new(table.clone()).issue(&t.id).await.unwrap();
    Tenant {
        id: t.id.to_string(),
        token: token.token,
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        Self::with_parts(Arc::new(EmbeddedTable::in_memory()), config).await
    }

    pub async fn with_parts(table: Arc<dyn Table>, config: Config) -> Self {
        let acme = tenant(&table, "Acme").await;
        let beta = tenant(&table, "Beta").await;
        let router = app(AppState::new(table.clone(), config));
        Self {
            router,
            table,
            acme,
            beta,
        }
    }

    /// An app whose tenants have no practical request limits, for tests that fire a hundred
    /// requests at once (a real identity provider sends a handful).
    pub async fn unlimited() -> Self {
        Self::with_config(unlimited()).await
    }

    /// The SCIM base path of tenant Acme.
    pub fn base(&self) -> String {
        format!("/tenants/{}/scim/v2", self.acme.id)
    }

    /// Sends a raw request.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends `method path` (relative to Acme's SCIM base) with Acme's token and a JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_as(
            &self.acme.token,
            method,
            &format!("{}{path}", self.base()),
            body,
            &[],
        )
        .await
    }

    /// Sends a request with full control of token, absolute path and extra headers.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "scim.test")
            .header("authorization", format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/scim+json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Creates a user named `user_name` and returns its id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let a = self.post("/Users", user(user_name)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a group with these member ids and returns its id.
    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let a = self
            .post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": name, "members": members}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body["id"].as_str().unwrap().to_owned()
    }
}

/// The default configuration with request limits no test reaches.
pub fn unlimited() -> Config {
    Config {
        default_limits: muster::auth::RequestLimits {
            per_second: 1_000_000,
            burst: 1_000_000,
            concurrent: 100_000,
        },
        ..Config::default()
    }
}

/// A minimal valid user body.
pub fn user(user_name: &str) -> Value {
    json!({"schemas": [USER], "userName": user_name, "active": true})
}

/// A PatchOp body of these operations.
pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

/// An app whose signing keys the test holds, to issue API clients and access tokens.
pub struct OAuthApp {
    pub app: TestApp,
    pub keys: muster::auth::SigningKeys,
    pub clients: muster::auth::ApiClients,
}

impl OAuthApp {
    pub async fn new() -> Self {
        let app = TestApp::new().await;
        let keys = muster::auth::SigningKeys::generate();
        let clients = muster::auth::ApiClients::new(app.table.clone());
        Self { app, keys, clients }.serving(None)
    }

    /// The same store and tenants served with `keys` (a restart after a rotation, say).
    pub fn serving(mut self, keys: Option<muster::auth::SigningKeys>) -> Self {
        if let Some(keys) = keys {
            self.keys = keys;
        }
        let state = AppState::new(self.app.table.clone(), Config::default());
        self.app.router = app(state.with_keys(self.keys.clone()));
        self
    }

    /// Creates an API client of tenant `tenant` (an id such as `app.acme.id`).
    pub async fn client(
        &self,
        tenant: &str,
        scopes: &[muster::auth::Scope],
        allowed_ips: &[&str],
    ) -> muster::auth::IssuedClient {
        let tenant = muster::ids::TenantId::parse(tenant).unwrap();
        let new = muster::auth::NewClient {
            name: "sync".into(),
            scopes: scopes.to_vec(),
            allowed_ips: allowed_ips.iter().map(|s| s.to_string()).collect(),
            acting_users: vec![],
        };
        self.clients.create(&tenant, new).await.unwrap()
    }

    /// `POST /oauth/token` with this form body, optional Basic credentials (sent as given,
    /// not form-encoded) and an optional peer address.
    pub async fn token_request(
        &self,
        form: &str,
        basic: Option<(&str, &str)>,
        peer: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            let credentials = base64(format!("{id}:{secret}").as_bytes(), false);
            req = req.header("authorization", format!("Basic {credentials}"));
        }
        let mut req = req.body(Body::from(form.to_owned())).unwrap();
        if let Some(peer) = peer {
            let addr: std::net::SocketAddr = peer.parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        }
        send_raw(&self.app.router, req).await
    }

    /// An access token of `client` obtained with Basic credentials (asserts a 200).
    pub async fn token(&self, client: &muster::auth::IssuedClient) -> String {
        let basic = (client.client_id.as_str(), client.client_secret.as_str());
        let (status, _, body) = self
            .token_request("grant_type=client_credentials", Some(basic), None)
            .await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /Users` of tenant `tenant` with `token`, from `peer` when given.
    pub async fn scim_users(&self, tenant: &str, token: &str, peer: Option<&str>) -> Answer {
        let mut req = Request::get(format!("/tenants/{tenant}/scim/v2/Users"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        if let Some(peer) = peer {
            let addr: std::net::SocketAddr = peer.parse().unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        }
        self.app.send(req).await
    }
}

/// Sends a request and returns its status, headers and raw body bytes.
pub async fn send_raw(router: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, bytes.to_vec())
}

/// Base64 of `data` (RFC 4648 §4, padded), or base64url without padding (§5) when `url`.
pub fn base64(data: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}
