//! `muster community|mapping|admin …`: communities, group mappings and administrators.

use clap::{Args, Subcommand};
use muster::community::{GroupSelector, Role};
use serde_json::{Value, json};

use crate::TenantArgs;
use crate::output::print;
use crate::tenant::{admin, tenant_id};

#[derive(Subcommand)]
pub enum CommunityCommand {
    /// Create a community.
    Create {
        #[command(flatten)]
        on: TenantArgs,
        #[arg(long)]
        name: String,
    },
    /// List a tenant's communities.
    List {
        #[command(flatten)]
        on: TenantArgs,
    },
}

/// Which group a mapping names.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct GroupArg {
    /// The group's SCIM id.
    #[arg(long)]
    group_id: Option<String>,
    /// The group's displayName (the mapping applies to a group of that name, now or later).
    #[arg(long)]
    group: Option<String>,
}

impl GroupArg {
    fn selector(self) -> GroupSelector {
        match (self.group_id, self.group) {
            (Some(id), _) => GroupSelector::Id(id),
            (None, Some(name)) => GroupSelector::DisplayName(name),
            (None, None) => unreachable!("clap requires one of --group-id and --group"),
        }
    }
}

#[derive(Subcommand)]
pub enum MappingCommand {
    /// Map a group to a (community, role); its members are re-derived at once.
    Set {
        #[command(flatten)]
        on: TenantArgs,
        #[command(flatten)]
        group: GroupArg,
        /// Community id or name.
        #[arg(long)]
        community: String,
        /// member, contributor or administrator.
        #[arg(long)]
        role: String,
    },
    /// List a tenant's mappings.
    List {
        #[command(flatten)]
        on: TenantArgs,
    },
    /// Remove a mapping; memberships it gave are re-derived at once.
    Remove {
        #[command(flatten)]
        on: TenantArgs,
        #[command(flatten)]
        group: GroupArg,
        #[arg(long)]
        community: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Make a user administrator of a community, or of the tenant.
    Add {
        #[command(flatten)]
        on: TenantArgs,
        /// User id or userName.
        #[arg(long)]
        user: String,
        /// Community id or name (omit for tenant administrator).
        #[arg(long)]
        community: Option<String>,
    },
}

pub async fn community(cmd: CommunityCommand) -> anyhow::Result<()> {
    match cmd {
        CommunityCommand::Create {
            on: TenantArgs { tenant, data, json },
            name,
        } => {
            print(
                &admin(&data)
                    .await?
                    .create_community(&tenant_id(&tenant)?, &name)
                    .await?,
                json,
            );
        }
        CommunityCommand::List {
            on: TenantArgs { tenant, data, json },
        } => {
            print(
                &Value::Array(
                    admin(&data)
                        .await?
                        .communities(&tenant_id(&tenant)?)
                        .await?,
                ),
                json,
            );
        }
    }
    Ok(())
}

pub async fn mapping(cmd: MappingCommand) -> anyhow::Result<()> {
    match cmd {
        MappingCommand::Set {
            on: TenantArgs { tenant, data, json },
            group,
            community,
            role,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let (admin, t) = (admin(&data).await?, tenant_id(&tenant)?);
            let (mapping, groups) = admin
                .set_mapping(&t, group.selector(), &community, role)
                .await?;
            let mut rederived = 0;
            for g in &groups {
                rederived += admin.rederive(&t, g).await?;
            }
            print(
                &json!({"mapping": mapping, "members_rederived": rederived}),
                json,
            );
        }
        MappingCommand::List {
            on: TenantArgs { tenant, data, json },
        } => {
            let mappings = admin(&data).await?.mappings(&tenant_id(&tenant)?).await?;
            print(&serde_json::to_value(mappings)?, json);
        }
        MappingCommand::Remove {
            on: TenantArgs { tenant, data, json },
            group,
            community,
        } => {
            let (admin, t) = (admin(&data).await?, tenant_id(&tenant)?);
            let groups = admin
                .remove_mapping(&t, group.selector(), &community)
                .await?;
            let mut rederived = 0;
            for g in &groups {
                rederived += admin.rederive(&t, g).await?;
            }
            print(
                &json!({"removed": true, "members_rederived": rederived}),
                json,
            );
        }
    }
    Ok(())
}

pub async fn admin_cmd(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Add {
            on: TenantArgs { tenant, data, json },
            user,
            community,
        } => {
            let out = admin(&data)
                .await?
                .add_admin(&tenant_id(&tenant)?, &user, community.as_deref())
                .await?;
            print(&out, json);
        }
    }
    Ok(())
}
