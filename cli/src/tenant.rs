//! `muster tenant|token|client …`: tenants and their credentials, on the embedded store.

use anyhow::Context;
use clap::Subcommand;
use muster::admin::Admin;
use muster::auth::{NewClient, RequestLimits, Scope};
use muster::ids::TenantId;
use serde_json::{Value, json};

use crate::output::print;
use crate::store::open_store;
use crate::{DataArgs, TenantArgs};

/// Opens the store of `data` and the administration over it.
pub async fn admin(data: &DataArgs) -> anyhow::Result<Admin> {
    Ok(Admin::new(open_store(data).await?))
}

/// Parses a tenant id given on the command line.
pub fn tenant_id(raw: &str) -> anyhow::Result<TenantId> {
    TenantId::parse(raw).with_context(|| format!("{raw:?} is not a tenant id"))
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with a SCIM token, an API client and a first administrator (secrets shown once).
    Create {
        /// Display name of the tenant.
        #[arg(long)]
        name: String,
        /// An allowed e-mail domain (repeat for several).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// E-mail of the first tenant administrator (default: admin@ + the first domain).
        #[arg(long)]
        admin_email: Option<String>,
        /// Public base URL, to print an absolute SCIM URL.
        #[arg(long, env = "MUSTER_PUBLIC_URL")]
        public_url: Option<String>,
        #[command(flatten)]
        data: DataArgs,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant.
    Show {
        #[command(flatten)]
        on: TenantArgs,
    },
    /// Change a tenant's settings (only those given).
    Set {
        #[command(flatten)]
        on: TenantArgs,
        /// Days soft-deleted users are kept before they are purged (0: purged at the next
        /// pass; `default`: back to 30 days).
        #[arg(long, value_parser = retention_days)]
        deleted_user_retention_days: Option<Retention>,
        /// Requests per second the tenant may send, sustained (past it: 429).
        #[arg(long)]
        rate_limit: Option<u32>,
        /// Requests that may arrive at once after a quiet spell.
        #[arg(long)]
        burst: Option<u32>,
        /// Requests the tenant may have in flight at once (past it: 429).
        #[arg(long)]
        max_concurrent: Option<u32>,
        /// Puts the tenant's request limits back to the defaults.
        #[arg(long, conflicts_with_all = ["rate_limit", "burst", "max_concurrent"])]
        default_limits: bool,
        /// The synchronization switch: `on` lets the identity provider's groups grant
        /// community access through their mappings (derived at once), `off` takes it away.
        #[arg(long, value_parser = ["on", "off"])]
        sync: Option<String>,
        /// The MIRROR guard for imports that state none: the largest share (0 to 1) of the
        /// members in scope a MIRROR may remove (`default`: back to 0.2).
        #[arg(long, value_parser = mirror_threshold)]
        mirror_threshold: Option<Threshold>,
        /// Automatic invitations: `on` sends every member created from now on its invitation
        /// without an administrator asking (by the maintenance drain); `off` (the default)
        /// leaves invitations to the administrators.
        #[arg(long, value_parser = ["on", "off"])]
        auto_invite: Option<String>,
    },
}

/// A MIRROR threshold setting: a share, or the default.
#[derive(Clone, Copy, Debug)]
pub struct Threshold(Option<f64>);

fn mirror_threshold(raw: &str) -> Result<Threshold, String> {
    if raw == "default" {
        return Ok(Threshold(None));
    }
    match raw.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(Threshold(Some(r))),
        _ => Err(format!("{raw:?} is not a share from 0 to 1, nor `default`")),
    }
}

/// A retention setting: days, or the default.
#[derive(Clone, Copy, Debug)]
pub struct Retention(Option<u32>);

fn retention_days(raw: &str) -> Result<Retention, String> {
    if raw == "default" {
        return Ok(Retention(None));
    }
    match raw.parse::<u32>() {
        Ok(days) if days <= 3650 => Ok(Retention(Some(days))),
        _ => Err(format!(
            "{raw:?} is not a number of days from 0 to 3650, nor `default`"
        )),
    }
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issue another SCIM token for a tenant (shown once).
    Issue {
        #[command(flatten)]
        on: TenantArgs,
        /// A name telling tokens apart (which identity provider holds it).
        #[arg(long, default_value = muster::auth::DEFAULT_TOKEN_NAME)]
        name: String,
    },
    /// List a tenant's SCIM tokens (never their secrets), with when each was last used.
    List {
        #[command(flatten)]
        on: TenantArgs,
    },
    /// Revoke a SCIM token by id.
    Revoke {
        #[command(flatten)]
        on: TenantArgs,
        /// The token id (`scim_token_id`).
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Create an OAuth API client (secret shown once).
    Create {
        #[command(flatten)]
        on: TenantArgs,
        #[arg(long, default_value = "api client")]
        name: String,
        /// A scope: scim or imports (repeat; default both).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// An address or CIDR network the client may call from (repeat; default any).
        #[arg(long = "allow-ip")]
        allowed_ips: Vec<String>,
        /// A user id the client may name as acting user on /v1 (repeat; default any
        /// administrator).
        #[arg(long = "acting-user")]
        acting_users: Vec<String>,
    },
    /// Revoke a client; its tokens stop working at once.
    Revoke {
        #[command(flatten)]
        on: TenantArgs,
        /// The client id.
        #[arg(long)]
        id: String,
    },
    /// List a tenant's clients.
    List {
        #[command(flatten)]
        on: TenantArgs,
    },
}

pub async fn tenant(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create {
            name,
            domains,
            admin_email,
            public_url,
            data,
            json,
        } => {
            let created = admin(&data)
                .await?
                .create_tenant(&name, domains, admin_email)
                .await?;
            let origin = public_url
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_default();
            let mut out = serde_json::to_value(&created)?;
            out["scim_base_url"] = json!(format!("{origin}{}", created.scim_base_url));
            print(&out, json);
            if !json {
                println!(
                    "Keep the token and the client secret now: muster stores only their hashes."
                );
            }
        }
        TenantCommand::List { data, json } => {
            let tenants = admin(&data).await?.tenants.list().await?;
            print(&serde_json::to_value(tenants)?, json);
        }
        TenantCommand::Show {
            on: TenantArgs { tenant, data, json },
        } => {
            let t = admin(&data).await?.tenant(&tenant_id(&tenant)?).await?;
            print(&serde_json::to_value(t)?, json);
        }
        TenantCommand::Set {
            on: TenantArgs { tenant, data, json },
            deleted_user_retention_days,
            rate_limit,
            burst,
            max_concurrent,
            default_limits,
            sync,
            mirror_threshold,
            auto_invite,
        } => {
            let t = tenant_id(&tenant)?;
            if [rate_limit, burst, max_concurrent].contains(&Some(0)) {
                anyhow::bail!("request limits are whole numbers above 0");
            }
            let admin = admin(&data).await?;
            if let Some(sync) = sync {
                admin.set_sync(&t, sync == "on").await?;
            }
            let updated = admin
                .tenants
                .update(&t, |tenant| {
                    if let Some(Retention(days)) = deleted_user_retention_days {
                        tenant.deleted_user_retention_days = days;
                    }
                    if let Some(Threshold(share)) = mirror_threshold {
                        tenant.mirror_threshold = share;
                    }
                    if let Some(on) = &auto_invite {
                        tenant.set_auto_invite(on == "on");
                    }
                    if default_limits {
                        tenant.limits = None;
                    } else if rate_limit.or(burst).or(max_concurrent).is_some() {
                        let mut l = tenant.limits.unwrap_or(RequestLimits::DEFAULT);
                        l.per_second = rate_limit.unwrap_or(l.per_second);
                        l.burst = burst.unwrap_or(l.burst);
                        l.concurrent = max_concurrent.unwrap_or(l.concurrent);
                        tenant.limits = Some(l);
                    }
                })
                .await?
                .with_context(|| format!("no tenant {t}"))?;
            print(&serde_json::to_value(updated)?, json);
        }
    }
    Ok(())
}

pub async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Issue {
            on: TenantArgs { tenant, data, json },
            name,
        } => {
            let admin = admin(&data).await?;
            let t = tenant_id(&tenant)?;
            admin.tenant(&t).await?;
            let token = admin.tokens.issue_named(&t, &name).await?;
            print(
                &json!({"scim_token_id": token.id, "scim_token": token.token}),
                json,
            );
        }
        TokenCommand::List {
            on: TenantArgs { tenant, data, json },
        } => {
            let admin = admin(&data).await?;
            let t = tenant_id(&tenant)?;
            admin.tenant(&t).await?;
            print(&json!(admin.tokens.list(&t).await?), json);
        }
        TokenCommand::Revoke {
            on: TenantArgs { tenant, data, json },
            id,
        } => {
            let revoked = admin(&data)
                .await?
                .tokens
                .revoke(&tenant_id(&tenant)?, &id)
                .await?;
            anyhow::ensure!(revoked, "no token {id} in tenant {tenant}");
            print(&json!({"scim_token_id": id, "revoked": true}), json);
        }
    }
    Ok(())
}

pub async fn client(cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create {
            on: TenantArgs { tenant, data, json },
            name,
            scopes,
            allowed_ips,
            acting_users,
        } => {
            let scopes = if scopes.is_empty() {
                vec![Scope::Scim, Scope::Imports]
            } else {
                Scope::parse_list(&scopes.join(" "))
                    .map_err(|e| anyhow::anyhow!("unknown scope {:?}: use scim or imports", e.0))?
            };
            let issued = admin(&data)
                .await?
                .create_client(
                    &tenant_id(&tenant)?,
                    NewClient {
                        name,
                        scopes,
                        allowed_ips,
                        acting_users,
                    },
                )
                .await?;
            let out = json!({
                "client_id": issued.client_id,
                "client_secret": issued.client_secret,
                "scopes": Scope::format_list(&issued.client.scopes),
                "allowed_ips": issued.client.allowed_ips,
                "acting_users": issued.client.acting_users,
            });
            print(&out, json);
        }
        ClientCommand::Revoke {
            on: TenantArgs { tenant, data, json },
            id,
        } => {
            let revoked = admin(&data)
                .await?
                .clients
                .revoke(&tenant_id(&tenant)?, &id)
                .await?;
            anyhow::ensure!(revoked, "no client {id} in tenant {tenant}");
            print(&json!({"client_id": id, "revoked": true}), json);
        }
        ClientCommand::List {
            on: TenantArgs { tenant, data, json },
        } => {
            let clients = admin(&data)
                .await?
                .clients
                .list(&tenant_id(&tenant)?)
                .await?;
            print(
                &Value::Array(
                    clients
                        .iter()
                        .map(|c| serde_json::to_value(c).unwrap_or_default())
                        .collect(),
                ),
                json,
            );
        }
    }
    Ok(())
}
