//! A whole flow of the service through its Router, for the log capture of `security_logs`:
//! a tenant and its SCIM tokens, API clients and access tokens, refused credentials, uploads
//! with presigned URLs (local and S3), an import, and storage failures answered with 500; it
//! records every secret it handled.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Method as M, Request, StatusCode};
use muster::auth::{SigningKeys, sha256_hex};
use muster::blob::{S3Blobs, md5_base64};
use muster::config::Config;
use muster::http::{AppState, Imports, app};
use muster::store::EmbeddedTable;
use serde_json::{Value, json};

use crate::counting::CountingTable;
use crate::helpers::{base64, send_raw};
use crate::security_sweep::forge;

/// Sends a request with `authorization` (none when empty) and a JSON (`{…}`) or form body,
/// asserts its status, and answers its body as JSON (`Null` when it is not).
async fn expect(
    router: &Router,
    status: u16,
    method: M,
    uri: &str,
    auth: &str,
    body: &str,
) -> Value {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "api.test");
    if !auth.is_empty() {
        req = req.header("authorization", auth);
    }
    if !body.is_empty() {
        let form = "application/x-www-form-urlencoded";
        let json = body.starts_with('{');
        req = req.header("content-type", if json { "application/json" } else { form });
    }
    let req = req.body(Body::from(body.to_owned())).unwrap();
    let (got, _, bytes) = send_raw(router, req).await;
    let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(got.as_u16(), status, "{uri}: {answer}");
    answer
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic((id, secret): &(String, String)) -> String {
    format!(
        "Basic {}",
        base64(format!("{id}:{secret}").as_bytes(), false)
    )
}

fn text(v: &Value, name: &str) -> String {
    let found = v[name].as_str();
    found.unwrap_or_else(|| panic!("{name} in {v}")).to_owned()
}

/// Presigns `FILE` on `router`: the upload URL, its headers, the signed id.
async fn presign(router: &Router, auth: &str, admin: &str) -> (String, Value, String) {
    let blob = json!({"blob": {"filename": "m.csv", "content_type": "text/csv", "byte_size": FILE.len(), "checksum": md5_base64(FILE)}});
    let uri = format!("/v1/blobs?user_id={admin}");
    let p = expect(router, 200, M::POST, &uri, auth, &blob.to_string()).await;
    let up = &p["direct_upload"];
    let headers = up["headers_for_direct_upload"].clone();
    (
        text(up, "url_for_direct_upload"),
        headers,
        text(&p, "signed_id"),
    )
}

async fn put_upload(router: &Router, url: &str, headers: &Value) -> StatusCode {
    let mut req = Request::put(url.strip_prefix("http://api.test").unwrap());
    for (name, value) in headers.as_object().unwrap() {
        req = req.header(name.as_str(), value.as_str().unwrap());
    }
    let req = req.body(Body::from(FILE.to_vec())).unwrap();
    send_raw(router, req).await.0
}

const FILE: &[u8] = b"matricule,email,first_name,last_name,community,role\nE1,ann@logco.test,Ann,Lee,Engineering,member\n";
const GRANT: &str = "grant_type=client_credentials";

/// One Router over a failure-injecting table, what the flow created, and every secret it
/// handled as (what, secret).
pub struct Flow {
    router: Router,
    table: Arc<CountingTable>,
    keys: SigningKeys,
    dir: std::path::PathBuf,
    operator: String,
    pub tenant: String,
    admin: String,
    users: String,
    scim: String,
    second_scim: String,
    first: (String, String),
    pub client: (String, String),
    jwt: String,
    pub secrets: Vec<(&'static str, String)>,
}

impl Drop for Flow {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Flow {
    pub async fn start() -> Self {
        let operator = format!("operator-{}", muster::ids::random_id());
        let table = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
        let dir = std::env::temp_dir().join(format!("muster-logs-{}", muster::ids::random_id()));
        let imports = Imports::local(table.clone(), &dir).await;
        let operator_key_sha256 = Some(sha256_hex(operator.as_bytes()));
        let config = Config {
            operator_key_sha256,
            ..Config::default()
        };
        let keys = SigningKeys::generate();
        let state = AppState::new(table.clone(), config).with_keys(keys.clone());
        let keys_json: Value = serde_json::from_str(&keys.to_json()).unwrap();
        let mut secrets = vec![("operator key", operator.clone())];
        for key in keys_json["keys"].as_array().unwrap() {
            secrets.push(("signing key", text(key, "secret")));
        }
        let none = String::new;
        let router = app(state.with_imports(imports));
        let (tenant, admin, users, scim, jwt) = (none(), none(), none(), none(), none());
        let (second_scim, first, client) = (none(), (none(), none()), (none(), none()));
        Self {
            router,
            table,
            keys,
            dir,
            operator,
            tenant,
            admin,
            users,
            scim,
            second_scim,
            first,
            client,
            jwt,
            secrets,
        }
    }

    async fn go(&self, status: u16, method: M, uri: &str, auth: &str, body: &str) -> Value {
        expect(&self.router, status, method, uri, auth, body).await
    }

    /// Records a token, and the part after its last `.` (a JWT's signature, a SCIM token's
    /// secret) on its own.
    fn token(&mut self, what: &'static str, token: &str) {
        self.secrets.push((what, token.to_owned()));
        self.secrets
            .push((what, token.rsplit_once('.').unwrap().1.to_owned()));
    }

    /// Records an upload URL, and the token in it on its own.
    fn upload_url(&mut self, url: &str) {
        let token = url.rsplit('/').next().unwrap().to_owned();
        self.secrets.push(("upload URL", url.to_owned()));
        self.secrets.push(("upload URL token", token));
    }

    /// Over the operator API: a tenant (with its first SCIM token and API client), a community,
    /// a second SCIM token and a second API client.
    pub async fn provision(&mut self) {
        let operator = bearer(&self.operator);
        let body = r#"{"name":"Logco","domains":["logco.test"]}"#;
        let created = self
            .go(201, M::POST, "/admin/tenants", &operator, body)
            .await;
        self.tenant = text(&created, "tenant_id");
        self.admin = text(&created, "admin_user_id");
        self.users = format!("{}/Users", text(&created, "scim_base_url"));
        self.scim = text(&created, "scim_token");
        self.first = (text(&created, "client_id"), text(&created, "client_secret"));
        let path = format!("/admin/tenants/{}", self.tenant);
        let community = format!("{path}/communities");
        self.go(
            201,
            M::POST,
            &community,
            &operator,
            r#"{"name":"Engineering"}"#,
        )
        .await;
        let issued = self
            .go(201, M::POST, &format!("{path}/tokens"), &operator, "")
            .await;
        self.second_scim = text(&issued, "scim_token");
        let body = r#"{"name":"hr","scopes":["scim","imports"]}"#;
        let client = self
            .go(201, M::POST, &format!("{path}/clients"), &operator, body)
            .await;
        self.client = (text(&client, "client_id"), text(&client, "client_secret"));
        let (scim, second) = (self.scim.clone(), self.second_scim.clone());
        self.token("SCIM token", &scim);
        self.token("SCIM token", &second);
        self.secrets.push(("client secret", self.first.1.clone()));
        self.secrets.push(("client secret", self.client.1.clone()));
    }

    /// SCIM calls with both SCIM tokens, access tokens granted with HTTP Basic and with form
    /// credentials and used, and a guessed secret, a forged SCIM token and a forged access
    /// token refused.
    pub async fn authenticate(&mut self) {
        let user = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@logco.test"}"#;
        self.go(201, M::POST, &self.users, &bearer(&self.scim), user)
            .await;
        self.go(200, M::GET, &self.users, &bearer(&self.second_scim), "")
            .await;
        let t = self
            .go(200, M::POST, "/oauth/token", &basic(&self.client), GRANT)
            .await;
        self.jwt = text(&t, "access_token");
        let (id, secret) = &self.first;
        let form = format!("{GRANT}&client_id={id}&client_secret={secret}");
        let t = self.go(200, M::POST, "/oauth/token", "", &form).await;
        let second_jwt = text(&t, "access_token");
        self.go(200, M::GET, &self.users, &bearer(&self.jwt), "")
            .await;
        let guess = format!("guess-{}", muster::ids::random_id());
        let guessed = (self.client.0.clone(), guess.clone());
        self.go(401, M::POST, "/oauth/token", &basic(&guessed), GRANT)
            .await;
        let (forged_scim, forged_jwt) = (forge(&self.scim), forge(&self.jwt));
        for refused in [&forged_scim, &forged_jwt] {
            self.go(401, M::GET, &self.users, &bearer(refused), "")
                .await;
        }
        let jwt = self.jwt.clone();
        self.token("access token", &jwt);
        self.token("access token", &second_jwt);
        self.token("forged SCIM token", &forged_scim);
        self.token("forged access token", &forged_jwt);
        self.secrets.push(("guessed client secret", guess));
    }

    /// Presigns, uploads and imports a file, then reads its report.
    pub async fn import(&mut self) {
        let auth = bearer(&self.jwt);
        let (url, headers, signed) = presign(&self.router, &auth, &self.admin).await;
        self.upload_url(&url);
        assert_eq!(
            put_upload(&self.router, &url, &headers).await,
            StatusCode::OK
        );
        let (admin, provisionings) = (&self.admin, "/v1/member_provisionings");
        let start = format!("{provisionings}?signed_id={signed}&user_id={admin}&operation=UPSERT");
        let job = self.go(201, M::POST, &start, &auth, "").await;
        let query = format!("?id={}&user_id={admin}", job["id"]);
        for _ in 0..2000 {
            let state = self
                .go(200, M::GET, &format!("{provisionings}{query}"), &auth, "")
                .await;
            if state["state"] == "succeeded" {
                break;
            }
            assert_ne!(state["state"], "failed", "{state}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.go(
            200,
            M::GET,
            &format!("{provisionings}/reports{query}"),
            &auth,
            "",
        )
        .await;
    }

    /// Requests carrying each kind of credential while the store fails: each is a 500.
    pub async fn fail(&mut self) {
        let (auth, admin) = (bearer(&self.jwt), self.admin.clone());
        let (url, headers, _) = presign(&self.router, &auth, &admin).await;
        self.upload_url(&url);
        self.table.fail_everything(true);
        let status = format!("/v1/member_provisionings?id=1&user_id={admin}");
        let tokens = format!("/admin/tenants/{}/tokens", self.tenant);
        self.go(500, M::GET, &self.users, &bearer(&self.scim), "")
            .await;
        self.go(500, M::GET, &status, &auth, "").await;
        self.go(500, M::POST, "/oauth/token", &basic(&self.client), GRANT)
            .await;
        self.go(500, M::POST, &tokens, &bearer(&self.operator), "")
            .await;
        let upload = put_upload(&self.router, &url, &headers).await;
        self.table.fail_everything(false);
        assert_eq!(upload, StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// Presigns an upload on S3 (signed here: nothing is sent) over the same store.
    pub async fn presign_on_s3(&mut self) {
        let aws_secret = format!("aws-secret-{}", muster::ids::random_id());
        let endpoint = "http://127.0.0.1:9";
        let client = S3Blobs::static_client(endpoint, "eu-west-3", "AKIDLOGS", &aws_secret);
        let blobs = Arc::new(S3Blobs::new(client, "muster-uploads"));
        let imports = Imports::in_process(self.table.clone(), blobs, None).await;
        let state = AppState::new(self.table.clone(), Config::default());
        let router = app(state.with_keys(self.keys.clone()).with_imports(imports));
        let (url, _, _) = presign(&router, &bearer(&self.jwt), &self.admin).await;
        let signature = url.split_once("X-Amz-Signature=").expect("an S3 URL").1;
        let signature = signature.split('&').next().unwrap().to_owned();
        self.secrets.push(("presigned URL signature", signature));
        self.secrets.push(("AWS secret access key", aws_secret));
    }
}
