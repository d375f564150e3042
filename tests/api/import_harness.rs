//! A harness for the file-import API: a tenant with communities, a tenant administrator, an
//! API client with scope `imports`, local blob storage in a temporary directory and the
//! in-process worker.

use std::sync::Arc;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::admin::Admin;
use muster::auth::{ApiClients, NewClient, Scope, SigningKeys};
use muster::blob::md5_base64;
use muster::config::Config;
use muster::http::{AppState, Imports, app};
use muster::ids::TenantId;
use serde_json::Value;

use crate::helpers::{Answer, TestApp};

pub struct ImportApp {
    pub app: TestApp,
    pub tenant: TenantId,
    pub admin_user: String,
    pub token: String,
    pub imports: Imports,
    pub dir: std::path::PathBuf,
    /// The keys the Router signs and verifies access tokens with.
    pub keys: SigningKeys,
}

impl Drop for ImportApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl ImportApp {
    pub async fn new() -> Self {
        Self::on(Arc::new(muster::store::EmbeddedTable::in_memory())).await
    }

    /// The harness over `table` (DynamoDB on an emulator, say).
    pub async fn on(table: Arc<dyn muster::store::Table>) -> Self {
        Self::build(table, None, Config::default()).await
    }

    /// The harness over `table` served with `config`.
    pub async fn on_with(table: Arc<dyn muster::store::Table>, config: Config) -> Self {
        Self::build(table, None, config).await
    }

    /// The harness served with `config` (an operator key, say).
    pub async fn with_config(config: Config) -> Self {
        let table = Arc::new(muster::store::EmbeddedTable::in_memory());
        Self::build(table, None, config).await
    }

    /// The harness over `table` running its jobs with `imports` (shared by several
    /// harnesses, so that their tenants' jobs go through one worker).
    pub async fn with_imports(table: Arc<dyn muster::store::Table>, imports: Imports) -> Self {
        Self::build_with(table, None, Config::default(), Some(imports)).await
    }

    /// The harness sending invitations to `notifier`.
    pub async fn notifying(notifier: Arc<dyn muster::import::Notifier>) -> Self {
        let table = Arc::new(muster::store::EmbeddedTable::in_memory());
        Self::build(table, Some(notifier), Config::default()).await
    }

    async fn build(
        table: Arc<dyn muster::store::Table>,
        notifier: Option<Arc<dyn muster::import::Notifier>>,
        config: Config,
    ) -> Self {
        Self::build_with(table, notifier, config, None).await
    }

    async fn build_with(
        table: Arc<dyn muster::store::Table>,
        notifier: Option<Arc<dyn muster::import::Notifier>>,
        config: Config,
        shared: Option<Imports>,
    ) -> Self {
        let mut test = TestApp::with_parts(table, config.clone()).await;
        let tenant = TenantId::parse(&test.acme.id).unwrap();
        let dir = std::env::temp_dir().join(format!("muster-imports-{}", muster::ids::random_id()));
        let mut imports = match shared {
            Some(imports) => imports,
            None => Imports::local(test.table.clone(), &dir).await,
        };
        if let Some(notifier) = notifier {
            imports.notifier = notifier;
        }
        let keys = SigningKeys::generate();
        let state = AppState::new(test.table.clone(), config)
            .with_keys(keys.clone())
            .with_imports(imports.clone());
        test.router = app(state);
        let admin = Admin::new(test.table.clone());
        for name in ["Engineering", "Sales", "Legal"] {
            admin.create_community(&tenant, name).await.unwrap();
        }
        let admin_user = test.create_user("hr-admin@acme.test").await;
        admin.add_admin(&tenant, &admin_user, None).await.unwrap();
        let client = ApiClients::new(test.table.clone())
            .create(
                &tenant,
                NewClient {
                    name: "hr".into(),
                    scopes: vec![Scope::Imports],
                    allowed_ips: vec![],
                    acting_users: vec![],
                },
            )
            .await
            .unwrap();
        let token = keys
            .issue_access_token(&client.client, &[Scope::Imports])
            .access_token;
        Self {
            app: test,
            tenant,
            admin_user,
            token,
            imports,
            dir,
            keys,
        }
    }

    /// Sends `method /v1{path}` with the access token.
    pub async fn v1(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/v1{path}"))
            .header("host", "api.test")
            .header("authorization", format!("Bearer {}", self.token));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        };
        self.app.send(req.body(body).unwrap()).await
    }

    /// Presigns `bytes` as a CSV; returns the answer.
    pub async fn presign(&self, bytes: &[u8], content_type: &str) -> Answer {
        let body = serde_json::json!({"blob": {"filename": "members.csv", "content_type": content_type, "byte_size": bytes.len(), "checksum": md5_base64(bytes)}});
        self.v1(
            Method::POST,
            &format!("/blobs?user_id={}", self.admin_user),
            Some(body),
            &[],
        )
        .await
    }

    /// PUTs `bytes` to an upload URL with these headers.
    pub async fn put(&self, url: &str, headers: &[(&str, String)], bytes: &[u8]) -> StatusCode {
        let path = url.strip_prefix("http://api.test").unwrap_or(url);
        let mut req = Request::put(path);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        self.app
            .send(req.body(Body::from(bytes.to_vec())).unwrap())
            .await
            .status
    }

    /// Presigns and uploads `csv`; returns the signed id.
    pub async fn upload(&self, csv: &str) -> String {
        self.upload_bytes(csv.as_bytes(), "text/csv").await
    }

    /// Presigns and uploads `bytes` declared as `content_type`; returns the signed id.
    pub async fn upload_bytes(&self, bytes: &[u8], content_type: &str) -> String {
        let p = self.presign(bytes, content_type).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let up = &p.body["direct_upload"];
        let headers: Vec<(&str, String)> = up["headers_for_direct_upload"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_owned()))
            .collect();
        let url = up["url_for_direct_upload"].as_str().unwrap();
        assert_eq!(self.put(url, &headers, bytes).await, StatusCode::OK);
        p.body["signed_id"].as_str().unwrap().to_owned()
    }

    /// A job for the uploaded file `signed_id`, scoped to every community, recorded but not
    /// sent to any worker (the test runs it).
    pub async fn pending_job(&self, signed_id: &str, mode: muster::import::Mode) -> u64 {
        let blob = self
            .app
            .table
            .get(&muster::store::Key::new(
                format!("T#{}", self.tenant),
                format!("BLOB#{signed_id}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let spec: muster::blob::UploadSpec = serde_json::from_slice(&blob.body).unwrap();
        let scope = self.app.get("/Communities").await.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let new = muster::import::NewJob {
            mode,
            blob_key: spec.key,
            content_type: spec.content_type,
            file_name: spec.filename,
            user_id: self.admin_user.clone(),
            scope,
            max_delete_ratio: 1.0,
        };
        let (job, _) = self
            .imports
            .ctx
            .jobs
            .create(&self.tenant, new, None)
            .await
            .unwrap();
        job.id
    }

    /// Starts an import of `signed_id`.
    pub async fn start(&self, signed_id: &str, operation: &str, extra: &str) -> Answer {
        let path = format!(
            "/member_provisionings?signed_id={signed_id}&user_id={}&operation={operation}{extra}",
            self.admin_user
        );
        self.v1(Method::POST, &path, None, &[]).await
    }

    /// Polls the job until it is finished (bounded) and returns its status body.
    pub async fn wait(&self, id: u64) -> Value {
        for _ in 0..2000 {
            let s = self
                .v1(
                    Method::GET,
                    &format!("/member_provisionings?id={id}&user_id={}", self.admin_user),
                    None,
                    &[],
                )
                .await;
            assert_eq!(s.status, StatusCode::OK, "{}", s.body);
            if s.body["state"] == "succeeded" || s.body["state"] == "failed" {
                return s.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("import {id} did not finish");
    }

    /// Uploads, starts and waits; returns (job id, final status).
    pub async fn import(&self, csv: &str, operation: &str, extra: &str) -> (u64, Value) {
        self.import_bytes(csv.as_bytes(), "text/csv", operation, extra)
            .await
    }

    /// Uploads `bytes` declared as `content_type`, starts and waits; returns (job id, final
    /// status).
    pub async fn import_bytes(
        &self,
        bytes: &[u8],
        content_type: &str,
        operation: &str,
        extra: &str,
    ) -> (u64, Value) {
        let signed = self.upload_bytes(bytes, content_type).await;
        let started = self.start(&signed, operation, extra).await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        let id = started.body["id"].as_u64().unwrap();
        (id, self.wait(id).await)
    }

    /// The whole report of a job as (code, community, count), sorted.
    pub async fn report(&self, id: u64) -> Vec<(String, String, u64)> {
        let r = self
            .v1(
                Method::GET,
                &format!(
                    "/member_provisionings/reports?id={id}&user_id={}&per_page=100",
                    self.admin_user
                ),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut rows: Vec<_> = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["operation_data"]["name"].as_str().unwrap().to_owned(),
                    d["operation_data"]["value"].as_u64().unwrap(),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Memberships of the member with this matricule: (community name, role, status).
    pub async fn memberships(&self, matricule: &str) -> Vec<(String, String, String)> {
        let filter = format!(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber%20eq%20%22{matricule}%22"
        );
        let found = self.app.get(&format!("/Users?filter={filter}")).await.body;
        let Some(user) = found["Resources"].get(0) else {
            return vec![];
        };
        let ext = "urn:muster:params:scim:schemas:extension:community:2.0:User";
        let mut out: Vec<_> = user[ext]["memberships"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        (
                            m["display"].as_str().unwrap().to_owned(),
                            m["role"].as_str().unwrap().to_owned(),
                            m["status"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The id of the community named `name`, read over SCIM.
    pub async fn community_id(&self, name: &str) -> String {
        let found = self
            .app
            .get(&format!(
                "/Communities?filter=displayName%20eq%20%22{name}%22"
            ))
            .await
            .body;
        found["Resources"][0]["id"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/communities/{community}/invitations` as the tenant administrator.
    pub async fn send_invitations(&self, community: &str) -> Answer {
        let path = format!(
            "/communities/{community}/invitations?user_id={}",
            self.admin_user
        );
        self.v1(Method::POST, &path, None, &[]).await
    }

    pub fn ctx(&self) -> Arc<muster::import::ImportContext> {
        Arc::new(self.imports.ctx.clone())
    }
}
