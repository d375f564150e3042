//! `muster-load`: drives one SCIM workload against a server on loopback for a bounded time
//! and prints throughput and latency percentiles as one JSON line.

mod scenario;

use std::time::{Duration, Instant};

use clap::Parser;
use muster_bench::{client, percentile};

use client::Http;
use scenario::{Scenario, Setup};

#[derive(Parser, Clone)]
#[command(about = "Bounded loopback load against a SCIM server")]
pub struct Args {
    /// SCIM base URL, such as http://127.0.0.1:8080/tenants/t/scim/v2 (loopback only).
    #[arg(long)]
    url: String,
    /// Bearer token.
    #[arg(long)]
    token: String,
    /// get | filter | create | member-add | member-churn | list | walk | health | config | one | scan
    #[arg(long)]
    scenario: Scenario,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of measurement (at most 120).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Total requests per second to pace at (open loop); unset: as fast as possible.
    #[arg(long)]
    rate: Option<f64>,
    /// Users to create before measuring.
    #[arg(long, default_value_t = 1000)]
    seed: usize,
    /// Members of the group that `member-add` and `member-churn` target.
    #[arg(long, default_value_t = 0)]
    group_size: usize,
    /// A label for the JSON line.
    #[arg(long, default_value = "muster")]
    label: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.url.starts_with("http://127.")
            || args.url.starts_with("http://localhost")
            || args.url.starts_with("http://[::1]"),
        "muster-load only targets loopback addresses"
    );
    let duration = Duration::from_secs(args.duration.min(120));
    let http = Http::new(&args.url, &args.token);
    let setup = Setup::prepare(&http, &args).await?;
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (http, setup, args) = (http.clone(), setup.clone(), args.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let interval = args
                .rate
                .map(|r| Duration::from_secs_f64(args.concurrency as f64 / r));
            let mut next = start
                + interval
                    .map(|i| i.mul_f64(w as f64 / args.concurrency as f64))
                    .unwrap_or_default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                if interval.is_some() {
                    tokio::time::sleep_until(next.into()).await;
                }
                let scheduled = if interval.is_some() {
                    next
                } else {
                    Instant::now()
                };
                let (method, path, body) = setup.request(args.scenario, w, n);
                match http.send(method, &path, body).await {
                    Ok(status) if status < 400 => latencies.push(scheduled.elapsed()),
                    _ => errors += 1,
                }
                n += 1;
                if let Some(i) = interval {
                    next += i;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let line = serde_json::json!({
        "label": args.label,
        "scenario": format!("{:?}", args.scenario).to_lowercase(),
        "concurrency": args.concurrency,
        "target_rate": args.rate,
        "requests": latencies.len(),
        "errors": errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "rps": (latencies.len() as f64 / elapsed).round(),
        "p50_ms": (percentile(&latencies, 0.50) * 1000.0).round() / 1000.0,
        "p99_ms": (percentile(&latencies, 0.99) * 1000.0).round() / 1000.0,
        "max_ms": (percentile(&latencies, 1.0) * 1000.0).round() / 1000.0,
    });
    println!("{line}");
    Ok(())
}
