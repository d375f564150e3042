//! A keep-alive HTTP/1.1 client for the load generator.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A client bound to one SCIM base URL and token.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: Arc<str>,
    auth: Arc<str>,
}

impl Http {
    /// A client of the SCIM base URL `base` that sends `token` as its bearer token.
    pub fn new(base: &str, token: &str) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build_http();
        Self {
            client,
            base: base.trim_end_matches('/').into(),
            auth: format!("Bearer {token}").into(),
        }
    }

    /// The URL of `path`: below the SCIM base, or below the server's root when it starts
    /// with `@` (`@/health`).
    fn url(&self, path: &str) -> String {
        match path.strip_prefix('@') {
            Some(root) => {
                let host_end = self.base["http://".len()..]
                    .find('/')
                    .map_or(self.base.len(), |i| i + "http://".len());
                format!("{}{root}", &self.base[..host_end])
            }
            None => format!("{}{path}", self.base),
        }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> hyper::Request<Full<Bytes>> {
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        hyper::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("authorization", &*self.auth)
            .header("content-type", "application/scim+json")
            .body(Full::new(body))
            .expect("valid request")
    }

    /// Sends a request and drains the answer; returns the status.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<u16> {
        let response = self
            .client
            .request(self.request(method, path, body))
            .await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(status)
    }

    /// Sends a request and returns status and JSON body.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let response = self
            .client
            .request(self.request(method, path, body))
            .await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}
