//! A real `muster` HTTP service on a loopback port (embedded store, local uploads and import
//! worker) with a tenant to administer, and a headless Chromium driven through Debian's
//! chromedriver.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use muster::admin::Admin;
use muster::community::{Memberships, Role, Source};
use muster::config::Config;
use muster::directory::{NewUser, UserDirectory};
use muster::http::{AppState, Imports, app};
use muster::ids::TenantId;
use muster::store::{EmbeddedTable, Table};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether the browser tests can run here; panics when they must (`MUSTER_REQUIRE_BROWSER=1`,
/// as the test command sets after installing the packages).
pub fn browser_available() -> bool {
    let present =
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !present {
        if std::env::var("MUSTER_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "{CHROMEDRIVER} or {CHROMIUM} is missing: scripts/test installs chromium and chromium-driver"
            );
        }
        eprintln!("skipped: no Chromium (scripts/test installs it)");
    }
    present
}

/// The service under test and the tenant it holds.
pub struct Service {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub table: Arc<dyn Table>,
    pub tenant: TenantId,
    pub admin: Admin,
    /// The tenant administrator's userName.
    pub tenant_admin: String,
    /// A community administrator of Sales only.
    pub sales_lead: String,
    pub engineering: String,
    pub sales: String,
    /// The tenant's SCIM token.
    pub scim_token: String,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Service {
    /// Starts the service with tenant Acme: communities Engineering (`members` pending members
    /// from a file, plus one manual grant) and Sales; a tenant administrator and a Sales lead.
    pub async fn start(members: usize) -> Self {
        let dir = TempDir(
            std::env::temp_dir().join(format!("muster-console-{}", muster::ids::random_id())),
        );
        std::fs::create_dir_all(&dir.0).unwrap();
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory());
        let admin = Admin::new(table.clone());
        let created = admin
            .create_tenant(
                "Acme",
                vec!["acme.test".into()],
                Some("it@acme.test".into()),
            )
            .await
            .unwrap();
        let tenant = TenantId::parse(&created.tenant_id).unwrap();
        let engineering = admin
            .create_community(&tenant, "Engineering")
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sales = admin.create_community(&tenant, "Sales").await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let users = UserDirectory::new(table.clone());
        let memberships = Memberships::new(table.clone());
        for i in 1..=members {
            let user = NewUser {
                user_name: format!("member{i:03}@acme.test"),
                given_name: format!("Member{i:03}"),
                family_name: "Example".into(),
                employee_number: Some(format!("M{i:03}")),
                ..NewUser::default()
            };
            let id = users.create(&tenant, user.record()).await.unwrap().id;
            memberships
                .grant(
                    &tenant,
                    &id,
                    &engineering,
                    Source::File { role: Role::Member },
                )
                .await
                .unwrap();
        }
        let lead = NewUser {
            user_name: "lead@acme.test".into(),
            given_name: "Lea".into(),
            family_name: "Lead".into(),
            ..NewUser::default()
        };
        let lead_id = users.create(&tenant, lead.record()).await.unwrap().id;
        admin
            .add_admin(&tenant, &lead_id, Some(&sales))
            .await
            .unwrap();
        let imports = Imports::local(table.clone(), &dir.0.join("blobs")).await;
        let state = AppState::new(table.clone(), Config::default()).with_imports(imports);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            table,
            tenant,
            admin,
            tenant_admin: "it@acme.test".into(),
            sales_lead: "lead@acme.test".into(),
            engineering,
            sales,
            scim_token: created.scim_token.clone(),
            _dir: dir,
        }
    }

    /// Sends a SCIM request with the tenant's token; answers its JSON body (`Null` when
    /// empty), failing the test on any status outside 2xx.
    pub async fn scim(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let url = format!("{}/tenants/{}/scim/v2{path}", self.base, self.tenant);
        let headers = [
            ("authorization", format!("Bearer {}", self.scim_token)),
            ("content-type", "application/scim+json".to_owned()),
        ];
        let (status, text) = http(method, &url, &headers, &body.to_string()).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// A fresh one-time sign-in URL for `user`.
    pub async fn link(&self, user: &str) -> String {
        let now = chrono_now();
        let (_, link) = self
            .admin
            .console_link(&self.tenant, user, now)
            .await
            .unwrap();
        muster::console::sign_in_url(&self.base, &self.tenant, &link.code)
    }
}

pub fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A headless Chromium session; its chromedriver is stopped on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Drop for Browser {
    /// Stops chromedriver and every Chromium process it started (one process group), even
    /// when the test failed before closing its session, and removes the profile.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at a laptop's size.
    pub async fn start() -> Self {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile =
            std::env::temp_dir().join(format!("muster-chromium-{}", muster::ids::random_id()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-quic",
                         "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        driver,
                        profile,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Clicks the element `css` names.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// The element `css` names, waited for up to 20 s.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    /// The text of the element `css` names (read again if the page replaced it meanwhile).
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..50 {
            if let Ok(text) = self.find(css).await.text().await {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} kept going stale");
    }

    /// The page's visible text, or nothing while a page is being replaced.
    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the page's text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        for _ in 0..200 {
            if self.page_text().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the page never said {needle:?}; it says:\n{}",
            self.page_text().await
        );
    }

    /// Opens a sign-in link, presses the button and waits for the home page.
    pub async fn sign_in(&self, link: &str) {
        self.open(link).await;
        self.wait_for_text("Sign in to the console").await;
        self.click("#sign-in").await;
        self.wait_for_text("Pending invitations").await;
    }

    /// Saves a PNG of the page as `name` under the build's temporary directory.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the WebDriver session.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// One HTTP request from the test itself (not the browser): status and body text.
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<axum::body::Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let req = req
        .body(http_body_util::Full::new(axum::body::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = client.request(req).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
