//! The workloads and the data they need, created over HTTP before measuring.

use std::sync::Arc;

use muster::text::percent_encode;
use serde_json::{Value, json};

use crate::Args;
use crate::client::Http;

/// One workload.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Scenario {
    /// GET /Users/{id}
    Get,
    /// GET /Users?filter=userName eq "…"
    Filter,
    /// POST /Users
    Create,
    /// PATCH /Groups/{id} adding one member (already a member: the group holds every seeded
    /// user, as identity providers re-send adds)
    MemberAdd,
    /// PATCH /Groups/{id} adding, then removing, a user who is not a member: every request
    /// changes the group (seed more users than `--group-size`; the rest are the pool)
    MemberChurn,
    /// GET /Users?count=100
    List,
    /// GET /Users?startIndex=…&count=100, each connection walking every page in turn
    Walk,
    /// GET /health (no authentication, no store: the framework's ceiling)
    Health,
    /// GET /ServiceProviderConfig (authentication, no store read)
    Config,
    /// GET /Users?count=1 (a neighbour's light request)
    One,
    /// GET /Users?filter=userName co "zz"&sortBy=userName (a scan no index answers)
    Scan,
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Ids created before measuring.
#[derive(Clone)]
pub struct Setup {
    users: Arc<Vec<(String, String)>>,
    group: Option<String>,
    group_size: usize,
    run: u64,
    /// The tenant's users when measuring started (`walk` pages through all of them).
    listed: usize,
}

async fn create_users(
    http: &Http,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut tasks = Vec::new();
    for chunk in 0..16usize {
        let http = http.clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (chunk..n).step_by(16) {
                let name = format!("{prefix}{i}@bench.test");
                let body = json!({"schemas": [USER], "userName": name, "active": true, "name": {"givenName": "B", "familyName": format!("N{i}")}});
                let (status, created) = http.json("POST", "/Users", Some(body)).await?;
                anyhow::ensure!(status == 201, "seeding a user answered {status}: {created}");
                out.push((created["id"].as_str().unwrap_or_default().to_owned(), name));
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut users = Vec::new();
    for t in tasks {
        users.extend(t.await??);
    }
    Ok(users)
}

impl Setup {
    /// Creates the users and group the scenario reads.
    pub async fn prepare(http: &Http, args: &Args) -> anyhow::Result<Self> {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as u64;
        let users = create_users(
            http,
            &format!("seed{run}-"),
            args.seed.max(args.group_size).max(1),
        )
        .await?;
        let mut group = None;
        if matches!(args.scenario, Scenario::MemberAdd | Scenario::MemberChurn) {
            let (status, g) = http
                .json(
                    "POST",
                    "/Groups",
                    Some(json!({"schemas": [GROUP], "displayName": format!("bench-{run}")})),
                )
                .await?;
            anyhow::ensure!(status == 201, "creating the group answered {status}: {g}");
            let id = g["id"].as_str().unwrap_or_default().to_owned();
            for chunk in users[..args.group_size].chunks(1000) {
                let members: Vec<Value> =
                    chunk.iter().map(|(id, _)| json!({"value": id})).collect();
                let ops = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": members}]});
                let status = http
                    .send("PATCH", &format!("/Groups/{id}"), Some(ops))
                    .await?;
                anyhow::ensure!(status < 300, "filling the group answered {status}");
            }
            group = Some(id);
        }
        let (_, counted) = http.json("GET", "/Users?count=0", None).await?;
        Ok(Self {
            users: Arc::new(users),
            group,
            group_size: args.group_size,
            run,
            listed: counted["totalResults"].as_u64().unwrap_or(0) as usize,
        })
    }

    /// The `n`-th request of worker `w`.
    pub fn request(
        &self,
        scenario: Scenario,
        w: usize,
        n: u64,
    ) -> (&'static str, String, Option<Value>) {
        let pick = &self.users[(w * 7919 + n as usize * 104_729) % self.users.len()];
        match scenario {
            Scenario::Get => ("GET", format!("/Users/{}", pick.0), None),
            Scenario::Filter => (
                "GET",
                format!(
                    "/Users?filter={}",
                    percent_encode(&format!("userName eq \"{}\"", pick.1))
                ),
                None,
            ),
            Scenario::List => ("GET", "/Users?count=100".to_owned(), None),
            Scenario::Walk => {
                let pages = self.listed.div_ceil(100).max(1);
                let start = (w + n as usize) % pages * 100 + 1;
                ("GET", format!("/Users?startIndex={start}&count=100"), None)
            }
            Scenario::Health => ("GET", "@/health".to_owned(), None),
            Scenario::Config => ("GET", "/ServiceProviderConfig".to_owned(), None),
            Scenario::One => ("GET", "/Users?count=1".to_owned(), None),
            Scenario::Scan => (
                "GET",
                format!(
                    "/Users?filter={}&sortBy=userName",
                    percent_encode("userName co \"zz\"")
                ),
                None,
            ),
            Scenario::Create => {
                let body = json!({"schemas": [USER], "userName": format!("new{}-{w}-{n}@bench.test", self.run), "active": true});
                ("POST", "/Users".to_owned(), Some(body))
            }
            Scenario::MemberAdd => {
                let group = self.group.as_deref().unwrap_or_default();
                let ops = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": pick.0}]}]});
                ("PATCH", format!("/Groups/{group}"), Some(ops))
            }
            Scenario::MemberChurn => {
                let group = self.group.as_deref().unwrap_or_default();
                let pool = &self.users[self.group_size.min(self.users.len() - 1)..];
                let user = &pool[(w * 7919 + (n / 2) as usize * 104_729) % pool.len()].0;
                let op = if n.is_multiple_of(2) { "add" } else { "remove" };
                let ops = json!({"schemas": [PATCH], "Operations": [{"op": op, "path": "members", "value": [{"value": user}]}]});
                ("PATCH", format!("/Groups/{group}"), Some(ops))
            }
        }
    }
}
