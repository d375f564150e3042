//! `muster`: run the service locally and administer tenants.

mod audit;
mod aws;
mod bearer;
mod check;
mod client;
mod console;
mod directory;
mod import;
mod listen;
mod output;
mod pace;
mod refusal;
mod serve;
mod store;
mod tenant;

use std::path::PathBuf;

/// mimalloc instead of glibc's allocator: `muster serve` allocates and frees many small JSON
/// values per request from several threads (see the note in Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// SCIM secret tokens of a tenant.
    #[command(subcommand)]
    Token(tenant::TokenCommand),
    /// OAuth API clients of a tenant.
    #[command(subcommand)]
    Client(tenant::ClientCommand),
    /// Communities of a tenant.
    #[command(subcommand)]
    Community(directory::CommunityCommand),
    /// Group to (community, role) mappings.
    #[command(subcommand)]
    Mapping(directory::MappingCommand),
    /// Tenant and community administrators.
    #[command(subcommand)]
    Admin(directory::AdminCommand),
    /// The administration console.
    #[command(subcommand)]
    Console(console::ConsoleCommand),
    /// Import a member file through the API: upload, start, follow, report.
    Import(import::ImportArgs),
    /// Check a tenant's directory against its invariant (exit 2 on drift); `--repair` fixes it.
    Check(check::CheckArgs),
    /// Users' lifecycle.
    #[command(subcommand)]
    User(check::UserCommand),
    /// The keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// AWS resources.
    #[command(subcommand)]
    Aws(aws::AwsCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; tokens signed by the previous one stay valid until they expire.
    /// A running `muster serve` uses the new key after a restart.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn rotate_keys(data: &DataArgs, json: bool) -> anyhow::Result<()> {
    let path = data.data.join("signing-keys.json");
    std::fs::create_dir_all(&data.data)?;
    let mut keys = muster::auth::SigningKeys::load_or_create(&path)?;
    keys.rotate();
    keys.save(&path)?;
    let out = serde_json::json!({"current_kid": keys.current_kid(), "kids": keys.kids()});
    output::print(&out, json);
    Ok(())
}

/// Where the store lives; shared by every command that opens it.
#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// Data directory of the embedded store (and, with --aws, of the local signing keys).
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "./.muster")]
    pub data: PathBuf,
    /// Use the DynamoDB table (endpoints and credentials from the standard AWS_* variables,
    /// AWS_ENDPOINT_URL included) instead of the embedded store.
    #[arg(long)]
    pub aws: bool,
    /// The DynamoDB table, with --aws.
    #[arg(long, env = "MUSTER_TABLE", default_value = "muster")]
    pub table: String,
}

/// The options of every command that acts on one tenant.
#[derive(clap::Args, Clone)]
pub struct TenantArgs {
    /// The tenant's id.
    #[arg(long)]
    pub tenant: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The exit code a command chose, or failure with its error printed.
fn exit_code(result: anyhow::Result<std::process::ExitCode>) -> std::process::ExitCode {
    result.unwrap_or_else(|e| {
        eprintln!("muster: {e:#}");
        std::process::ExitCode::FAILURE
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let code = run(Cli::parse()).await;
    store::release();
    code
}

async fn run(cli: Cli) -> std::process::ExitCode {
    let command = match cli.command {
        Command::Import(args) => return exit_code(import::run(args).await),
        Command::Check(args) => return exit_code(check::check(args).await),
        command => command,
    };
    let change = audit::change_of(&command);
    let result = match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Tenant(cmd) => tenant::tenant(cmd).await,
        Command::Token(cmd) => tenant::token(cmd).await,
        Command::Client(cmd) => tenant::client(cmd).await,
        Command::Community(cmd) => directory::community(cmd).await,
        Command::Mapping(cmd) => directory::mapping(cmd).await,
        Command::Admin(cmd) => directory::admin_cmd(cmd).await,
        Command::Console(cmd) => console::run(cmd).await,
        Command::Keys(KeysCommand::Rotate { data, json }) => rotate_keys(&data, json),
        Command::User(cmd) => check::user(cmd).await,
        Command::Import(_) | Command::Check(_) => unreachable!("handled above"),
        Command::Aws(cmd) => aws::run(cmd).await,
    };
    match result {
        Ok(()) => {
            if let Some(change) = change {
                change.record().await;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("muster: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
