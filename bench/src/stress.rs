//! `muster-stress`: many SCIM clients at once for a bounded time on loopback, each creating,
//! reading, changing and deleting its own users and moving them in and out of shared groups,
//! checking every answer; then the server's final users and group members are compared with
//! what the clients did. Exits non-zero on any 5xx, unexpected answer, lost or extra user.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use clap::Parser;
use muster::text::percent_encode;
use muster_bench::{client, percentile};
use serde_json::{Value, json};

use client::Http;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Parser, Clone)]
#[command(about = "Mixed SCIM traffic from many clients, then a consistency check")]
struct Args {
    /// SCIM base URL on loopback.
    #[arg(long)]
    url: String,
    /// Bearer token.
    #[arg(long)]
    token: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Seconds of traffic (at most 600).
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Shared groups the clients move their users in and out of.
    #[arg(long, default_value_t = 5)]
    groups: usize,
}

/// What one client saw and left behind.
#[derive(Default)]
struct Outcome {
    requests: u64,
    server_errors: u64,
    unexpected: Vec<String>,
    latencies: Vec<Duration>,
    /// Its users still alive: id → (userName, group index it is in).
    live: BTreeMap<String, (String, Option<usize>)>,
}

impl Outcome {
    /// Sends one request, checks its status against `expected`, and answers the body.
    async fn call(
        &mut self,
        http: &Http,
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: &[u16],
    ) -> Option<Value> {
        let start = Instant::now();
        let answer = http.json(method, path, body).await;
        self.latencies.push(start.elapsed());
        self.requests += 1;
        match answer {
            Ok((status, body)) if expected.contains(&status) => Some(body),
            Ok((status, body)) => {
                if status >= 500 {
                    self.server_errors += 1;
                }
                if self.unexpected.len() < 5 {
                    self.unexpected
                        .push(format!("{method} {path}: {status} {body}"));
                }
                None
            }
            Err(e) => {
                self.unexpected.push(format!("{method} {path}: {e}"));
                None
            }
        }
    }
}

/// A small deterministic generator (xorshift64*), one per client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

fn pick(rng: &mut Rng, live: &BTreeMap<String, (String, Option<usize>)>) -> Option<String> {
    live.keys().nth(rng.below(live.len())).cloned()
}

fn filter_path(user_name: &str) -> String {
    format!(
        "/Users?filter={}",
        percent_encode(&format!("userName eq \"{user_name}\""))
    )
}

async fn client(http: Http, c: usize, run: u64, groups: Vec<String>, deadline: Instant) -> Outcome {
    let mut o = Outcome::default();
    let mut rng = Rng(run ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let roll = rng.below(100);
        let Some(id) = pick(&mut rng, &o.live).filter(|_| roll >= 25) else {
            let name = format!("s{run}-c{c}-n{n}@stress.test");
            let body = json!({"schemas": [USER], "userName": name, "active": true});
            if let Some(u) = o.call(&http, "POST", "/Users", Some(body), &[201]).await {
                let id = u["id"].as_str().unwrap_or_default().to_owned();
                o.live.insert(id, (name, None));
            }
            continue;
        };
        let (name, group) = o.live[&id].clone();
        match roll {
            25..=44 => {
                let got = o
                    .call(&http, "GET", &format!("/Users/{id}"), None, &[200])
                    .await;
                if got.is_some_and(|u| u["userName"] != json!(name)) {
                    o.unexpected.push(format!("GET /Users/{id} is not {name}"));
                }
            }
            45..=59 => {
                let got = o
                    .call(&http, "GET", &filter_path(&name), None, &[200])
                    .await;
                if got.is_some_and(|l| {
                    l["totalResults"] != json!(1) || l["Resources"][0]["id"] != json!(id)
                }) {
                    o.unexpected
                        .push(format!("filter on {name} did not find exactly {id}"));
                }
            }
            60..=69 => {
                let ops = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": format!("D{n}")}]});
                o.call(
                    &http,
                    "PATCH",
                    &format!("/Users/{id}"),
                    Some(ops),
                    &[200, 204],
                )
                .await;
            }
            70..=74 => {
                let body = json!({"schemas": [USER], "userName": name, "active": rng.below(2) == 0, "displayName": format!("P{n}")});
                o.call(&http, "PUT", &format!("/Users/{id}"), Some(body), &[200])
                    .await;
            }
            75..=82 => {
                if o.call(&http, "DELETE", &format!("/Users/{id}"), None, &[204])
                    .await
                    .is_some()
                {
                    o.live.remove(&id);
                    o.call(&http, "GET", &format!("/Users/{id}"), None, &[404])
                        .await;
                }
            }
            83..=95 => {
                let ops = match group {
                    None => {
                        let g = rng.below(groups.len());
                        o.live.insert(id.clone(), (name, Some(g)));
                        (
                            g,
                            json!({"op": "add", "path": "members", "value": [{"value": id}]}),
                        )
                    }
                    Some(g) => {
                        o.live.insert(id.clone(), (name, None));
                        (
                            g,
                            json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}),
                        )
                    }
                };
                let body = json!({"schemas": [PATCH], "Operations": [ops.1]});
                o.call(
                    &http,
                    "PATCH",
                    &format!("/Groups/{}", groups[ops.0]),
                    Some(body),
                    &[200, 204],
                )
                .await;
            }
            _ => {
                o.call(&http, "GET", "/Users?count=100", None, &[200]).await;
            }
        }
    }
    o
}

/// Every user on the server as id → userName, page by page.
async fn server_users(http: &Http) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        let path = format!(
            "/Users?startIndex={}&count=1000&attributes=userName",
            out.len() + 1
        );
        let (status, page) = http.json("GET", &path, None).await?;
        anyhow::ensure!(status == 200, "listing users answered {status}");
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        if resources.is_empty() {
            return Ok(out);
        }
        for u in resources {
            out.push((
                u["id"].as_str().unwrap_or_default().into(),
                u["userName"].as_str().unwrap_or_default().into(),
            ));
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.url.starts_with("http://127.") || args.url.starts_with("http://localhost"),
        "muster-stress only targets loopback addresses"
    );
    let http = Http::new(&args.url, &args.token);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let before = server_users(&http).await?;
    let mut groups = Vec::new();
    for g in 0..args.groups {
        let body = json!({"schemas": [GROUP], "displayName": format!("stress-{run}-{g}")});
        let (status, created) = http.json("POST", "/Groups", Some(body)).await?;
        anyhow::ensure!(
            status == 201,
            "creating a group answered {status}: {created}"
        );
        groups.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.duration.min(600));
    let tasks: Vec<_> = (0..args.clients)
        .map(|c| tokio::spawn(client(http.clone(), c, run, groups.clone(), deadline)))
        .collect();
    let mut all = Outcome::default();
    for t in tasks {
        let o = t.await?;
        all.requests += o.requests;
        all.server_errors += o.server_errors;
        all.unexpected.extend(o.unexpected);
        all.latencies.extend(o.latencies);
        all.live.extend(o.live);
    }
    let seconds = start.elapsed().as_secs_f64();
    all.latencies.sort();
    let p = |q: f64| percentile(&all.latencies, q);

    let mut expected: BTreeSet<(String, String)> = before.into_iter().collect();
    expected.extend(
        all.live
            .iter()
            .map(|(id, (name, _))| (id.clone(), name.clone())),
    );
    let actual = server_users(&http).await?;
    let actual_set: BTreeSet<_> = actual.iter().cloned().collect();
    let names: BTreeSet<_> = actual.iter().map(|(_, n)| n.to_lowercase()).collect();
    let lost = expected.difference(&actual_set).count();
    let extra = actual_set.difference(&expected).count();
    let duplicated = actual.len() - names.len();
    let mut group_mismatches = 0;
    for (g, id) in groups.iter().enumerate() {
        let (status, group) = http.json("GET", &format!("/Groups/{id}"), None).await?;
        anyhow::ensure!(status == 200, "reading group {id} answered {status}");
        let members: BTreeSet<String> = group["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["value"].as_str().map(String::from))
            .collect();
        let wanted: BTreeSet<String> = all
            .live
            .iter()
            .filter(|(_, (_, in_g))| *in_g == Some(g))
            .map(|(id, _)| id.clone())
            .collect();
        group_mismatches += members.symmetric_difference(&wanted).count();
    }
    let ok = all.server_errors == 0
        && all.unexpected.is_empty()
        && lost == 0
        && extra == 0
        && duplicated == 0
        && group_mismatches == 0;
    println!(
        "{}",
        json!({
            "clients": args.clients, "seconds": (seconds * 10.0).round() / 10.0, "requests": all.requests,
            "rps": (all.requests as f64 / seconds).round(), "p50_ms": (p(0.5) * 100.0).round() / 100.0, "p99_ms": (p(0.99) * 100.0).round() / 100.0,
            "server_errors": all.server_errors, "unexpected": all.unexpected.len(), "users_expected": expected.len(),
            "users_on_server": actual.len(), "lost": lost, "extra": extra, "duplicated_user_names": duplicated,
            "group_member_mismatches": group_mismatches, "ok": ok,
        })
    );
    for u in all.unexpected.iter().take(10) {
        eprintln!("unexpected: {u}");
    }
    anyhow::ensure!(ok, "the stress run found faults (see above)");
    Ok(())
}
