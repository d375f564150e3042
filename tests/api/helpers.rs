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

/// A minimal valid user body.
pub fn user(user_name: &str) -> Value {
    json!({"schemas": [USER], "userName": user_name, "active": true})
}

/// A PatchOp body of these operations.
pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}
