//! `muster serve`: the Router and the import worker in one process, on the embedded store or,
//! with `--aws`, on DynamoDB (and S3 when `MUSTER_BUCKET` is set).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use muster::auth::SigningKeys;
use muster::config::Config;
use muster::http::{AppState, app};
use muster::queue::SqsQueue;
use muster::store::Table;

use crate::DataArgs;

/// Options of `muster serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// Public base URL used in Location headers (default: from each request's Host).
    #[arg(long, env = "MUSTER_PUBLIC_URL")]
    public_url: Option<String>,
    /// How many proxies in front of this server append to X-Forwarded-For (and write
    /// X-Forwarded-Host/-Proto); 0 believes none of those headers.
    #[arg(long, env = "MUSTER_TRUSTED_PROXY_HOPS")]
    trusted_proxy_hops: Option<usize>,
    /// How many imports (of as many tenants) run at once; a tenant's own imports always run
    /// one after the other.
    #[arg(long, default_value_t = muster::queue::DEFAULT_CONCURRENCY)]
    import_concurrency: usize,
    /// Seconds a connection has to send a request's headers (from connecting, or from the
    /// previous answer).
    #[arg(long, default_value_t = 10)]
    header_timeout_s: u64,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, default_value_t = 5)]
    keep_alive_timeout_s: u64,
    /// Connections open at once; at the cap the longest-idle one is closed to make room,
    /// and a new one is refused only when all are busy. Keep it under the process's file
    /// descriptor limit (`ulimit -n`).
    #[arg(long, default_value_t = 900)]
    max_connections: usize,
    /// Log as JSON lines (the Lambda format) instead of text.
    #[arg(long)]
    json_logs: bool,
    /// How often the reconciler drains pending intents (milliseconds); it also runs at start.
    #[arg(long, default_value_t = 1000)]
    reconcile_interval_ms: u64,
    /// How often soft-deleted users past their tenant's retention are purged (seconds); it
    /// also runs at start.
    #[arg(long, default_value_t = 3600)]
    purge_interval_s: u64,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a terminal: a log file or a pipe gets plain text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if args.json_logs {
        logs.json().init();
    } else {
        logs.init();
    }
    let (table, _lent) = crate::store::open_for_serve(&args.data).await?;
    let mut config = Config::from_env();
    if let Some(url) = args.public_url {
        config.public_url = Some(url.trim_end_matches('/').to_owned());
    }
    if let Some(hops) = args.trusted_proxy_hops {
        config.trusted_proxy_hops = hops;
    }
    let keys_path = args.data.data.join("signing-keys.json");
    let keys = SigningKeys::load_or_create(&keys_path)?;
    let imports = if args.data.aws {
        aws_imports(table.clone(), &args.data.data).await
    } else {
        let blobs = args.data.data.join("blobs");
        muster::http::Imports::local_with(table.clone(), blobs, args.import_concurrency).await
    };
    muster::directory::Maintenance::new(table.clone())
        .with_invitations(imports.notifier.clone())
        .spawn(
            std::time::Duration::from_millis(args.reconcile_interval_ms),
            std::time::Duration::from_secs(args.purge_interval_s),
        );
    let activity = muster::activity::Activity::batched(table.clone());
    let state = AppState::new(table, config)
        .with_keys(keys)
        .with_imports(imports)
        .with_activity(activity);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    let storage = if args.data.aws {
        format!("DynamoDB table {}", args.data.table)
    } else {
        format!("data in {}", args.data.data.display())
    };
    println!("muster listening on http://{local} ({storage})");
    tracing::info!(%local, "serving");
    let limits = crate::listen::Limits {
        header_timeout: std::time::Duration::from_secs(args.header_timeout_s.max(1)),
        keep_alive_timeout: std::time::Duration::from_secs(args.keep_alive_timeout_s.max(1)),
        max_connections: args.max_connections,
    };
    crate::listen::serve(listener, app(state), limits, shutdown()).await;
    Ok(())
}

/// The import wiring of `serve --aws`: member files on S3 when `MUSTER_BUCKET` is set (else
/// on this machine), jobs on the SQS queue of `MUSTER_QUEUE_URL` run by a poller in this
/// process as the worker Lambda runs them (else an in-process queue).
async fn aws_imports(table: Arc<dyn Table>, data: &Path) -> muster::http::Imports {
    use muster::blob::{Blobs, LocalBlobs, S3Blobs};
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (blobs, local): (Arc<dyn Blobs>, Option<LocalBlobs>) = match set("MUSTER_BUCKET") {
        Some(bucket) => (Arc::new(S3Blobs::from_env(bucket).await), None),
        None => {
            let local = LocalBlobs::new(data.join("blobs"), table.clone());
            (Arc::new(local.clone()), Some(local))
        }
    };
    let Some(url) = set("MUSTER_QUEUE_URL") else {
        return muster::http::Imports::in_process(table, blobs, local).await;
    };
    let client = SqsQueue::client_from_env().await;
    let queue = Arc::new(SqsQueue::new(client.clone(), url));
    let ctx = muster::import::ImportContext::new(table.clone(), blobs.clone());
    tokio::spawn(queue.clone().poll(ctx.clone()));
    muster::http::Imports {
        blobs,
        local,
        queue,
        ctx,
        notifier: muster::wiring::notifier_from_env(table, client),
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
