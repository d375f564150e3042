//! `muster serve`: the Router and embedded storage in one process.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use muster::auth::SigningKeys;
use muster::config::Config;
use muster::http::{AppState, app};

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
    /// Log as JSON lines (the Lambda format) instead of text.
    #[arg(long)]
    json_logs: bool,
}

/// Opens the embedded store in `data`, creating the directory if needed.
pub fn open_store(data: &DataArgs) -> anyhow::Result<muster::store::EmbeddedTable> {
    std::fs::create_dir_all(&data.data)
        .with_context(|| format!("cannot create the data directory {}", data.data.display()))?;
    let table = muster::store::EmbeddedTable::open(&data.data.join("muster.redb"))?;
    Ok(table)
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.json_logs {
        logs.json().init();
    } else {
        logs.init();
    }
    let table = open_store(&args.data)?;
    let mut config = Config::from_env();
    if let Some(url) = args.public_url {
        config.public_url = Some(url.trim_end_matches('/').to_owned());
    }
    let keys_path = args.data.data.join("signing-keys.json");
    let keys = SigningKeys::load_or_create(&keys_path)?;
    let table: Arc<dyn muster::store::Table> = Arc::new(table);
    let imports = muster::http::Imports::local(table.clone(), args.data.data.join("blobs")).await;
    let state = AppState::new(table, config)
        .with_keys(keys)
        .with_imports(imports);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    println!(
        "muster listening on http://{local} (data in {})",
        args.data.data.display()
    );
    tracing::info!(%local, "serving");
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server stopped")?;
    Ok(())
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
