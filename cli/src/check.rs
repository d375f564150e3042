//! `muster check` and `muster user purge`: the directory's invariant checked (and repaired)
//! on demand, and soft-deleted users purged after their retention period.

use anyhow::Context;
use clap::{Args, Subcommand};
use muster::directory::Lifecycle;
use muster::directory::check::{Checker, Report};
use serde_json::json;

use crate::TenantArgs;
use crate::output::print;
use crate::store::open_store;
use crate::tenant::tenant_id;

/// The options of `muster check`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    on: TenantArgs,
    /// Repair every drift found (then check again).
    #[arg(long)]
    repair: bool,
}

/// Checks a tenant; exits non-zero when drift is found and not repaired.
pub async fn check(args: CheckArgs) -> anyhow::Result<std::process::ExitCode> {
    let t = tenant_id(&args.on.tenant)?;
    let checker = Checker::new(open_store(&args.on.data).await?);
    let failed = if args.repair {
        let repaired = checker.repair(&t).await.context("repairing failed")?;
        let failed = repaired.after.drift_total() > 0;
        if args.on.json {
            println!("{}", serde_json::to_string(&repaired)?);
        } else {
            show(&repaired.before, "before repair");
            println!(
                "repaired: {} items rewritten, {} users and {} groups derived again ({} changed)",
                repaired.fixed_items,
                repaired.drained.users,
                repaired.drained.groups,
                repaired.drained.changed
            );
            show(&repaired.after, "after repair");
        }
        failed
    } else {
        let report = checker.check(&t).await.context("checking failed")?;
        if args.on.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            show(&report, "check");
        }
        report.drift_total() > 0
    };
    Ok(if failed {
        std::process::ExitCode::from(2)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

fn show(report: &Report, title: &str) {
    let s = &report.scanned;
    println!(
        "{title}: tenant {}: {} users ({} soft-deleted), {} groups, {} group members, {} memberships",
        report.tenant, s.users, s.deleted_users, s.groups, s.group_members, s.memberships
    );
    println!(
        "pending intents: {} ({} findings wait on them)",
        report.pending_intents, report.pending
    );
    if report.drift.is_empty() {
        println!("drift: none");
    }
    for (kind, finding) in &report.drift {
        println!("drift {kind}: {}", finding.count);
        for example in &finding.examples {
            println!("  {example}");
        }
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Purge soft-deleted users older than the retention period (the tenant's setting, else
    /// 30 days): their record, their restore keys and every membership they kept.
    Purge {
        #[command(flatten)]
        on: TenantArgs,
        /// Purge users deleted more than this many days ago (0: every soft-deleted user).
        #[arg(long)]
        older_than_days: Option<u32>,
    },
}

/// Runs a `muster user …` command.
pub async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Purge {
        on,
        older_than_days,
    } = cmd;
    let t = tenant_id(&on.tenant)?;
    let table = open_store(&on.data).await?;
    let tenant = muster::auth::Tenants::new(table.clone())
        .get(&t)
        .await?
        .with_context(|| format!("no tenant {t}"))?;
    let days = older_than_days
        .or(tenant.deleted_user_retention_days)
        .unwrap_or(muster::auth::DEFAULT_RETENTION_DAYS);
    let cutoff = muster::ids::days_ago(days);
    let purged = Lifecycle::new(table).purge(&t, &cutoff).await?;
    print(
        &json!({"purged": purged, "deleted_before": cutoff}),
        on.json,
    );
    Ok(())
}
