//! `muster console …`: sign-in links to the administration console.

use clap::Subcommand;

use crate::TenantArgs;
use crate::output::print;
use crate::tenant::{admin, tenant_id};

#[derive(Subcommand)]
pub enum ConsoleCommand {
    /// Print a one-time sign-in URL (single use, valid 15 minutes) for a tenant or community
    /// administrator.
    Link {
        #[command(flatten)]
        on: TenantArgs,
        /// The administrator's e-mail (userName) or user id.
        #[arg(long)]
        user: String,
        /// The service's public URL, which the link points to.
        #[arg(
            long,
            env = "MUSTER_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        url: String,
    },
}

pub async fn run(cmd: ConsoleCommand) -> anyhow::Result<()> {
    match cmd {
        ConsoleCommand::Link {
            on: TenantArgs { tenant, data, json },
            user,
            url,
        } => {
            let t = tenant_id(&tenant)?;
            let now = chrono_now();
            let (user_id, link) = admin(&data).await?.console_link(&t, &user, now).await?;
            let out = muster::console::link_json(&url, &t, &user_id, &link);
            if json {
                print(&out, true);
            } else {
                println!("{}", out["url"].as_str().unwrap_or_default());
                eprintln!(
                    "single use; valid until {}",
                    out["expires_at"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
