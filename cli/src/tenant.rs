//! `muster tenant …`: tenant administration on the embedded store.

use std::sync::Arc;

use clap::Subcommand;
use muster::auth::{NewTenant, ScimTokens, Tenants};
use muster::store::Table;
use serde_json::json;

use crate::DataArgs;
use crate::serve::open_store;

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first SCIM token (shown once).
    Create {
        /// Display name of the tenant.
        #[arg(long)]
        name: String,
        /// An allowed e-mail domain (repeat for several).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Public base URL, to print an absolute SCIM URL.
        #[arg(long, env = "MUSTER_PUBLIC_URL")]
        public_url: Option<String>,
        #[command(flatten)]
        data: DataArgs,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create {
            name,
            domains,
            public_url,
            data,
            json,
        } => {
            let table: Arc<dyn Table> = Arc::new(open_store(&data)?);
            let tenant = Tenants::new(table.clone())
                .create(NewTenant { name, domains })
                .await?;
            let token = ScimTokens::new(table).issue(&tenant.id).await?;
            let origin = public_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_default();
            let scim_base_url = format!("{origin}/tenants/{}/scim/v2", tenant.id);
            if json {
                let out = json!({
                    "tenant_id": tenant.id.as_str(),
                    "name": tenant.name,
                    "domains": tenant.domains,
                    "scim_base_url": scim_base_url,
                    "scim_token": token.token,
                    "scim_token_id": token.id,
                });
                println!("{out}");
            } else {
                println!("tenant:        {} ({})", tenant.id, tenant.name);
                println!("SCIM base URL: {scim_base_url}");
                println!("SCIM token:    {}", token.token);
                println!(
                    "Keep the token now: muster stores only its hash and cannot show it again."
                );
            }
            Ok(())
        }
    }
}
