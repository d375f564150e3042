//! `muster`: run the service locally and administer tenants.

mod serve;
mod tenant;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "muster",
    version,
    about = "Multi-tenant user provisioning: SCIM 2.0 and member-file imports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole HTTP surface with embedded storage.
    Serve(serve::ServeArgs),
    /// Administer tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
}

/// Where the embedded store lives; shared by every command that opens it.
#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// Data directory of the embedded store.
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "./.muster")]
    pub data: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Tenant(cmd) => tenant::run(cmd).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("muster: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
