//! A tenant's import jobs as the console lists them: newest first, each with who started it,
//! the mode, the file and the result.

use std::sync::Arc;

use serde_json::Value;

use crate::ids::TenantId;
use crate::store::{Query, SkRange, StoreError, Table, keys, query_all};

/// One import, as the history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastImport {
    /// The job id.
    pub id: u64,
    /// Who started it (a user id).
    pub user: String,
    /// `UPSERT`, `MIRROR` or `DELETE`.
    pub mode: String,
    /// The uploaded file's name, when recorded.
    pub file_name: String,
    /// The communities in the job's scope.
    pub scope: Vec<String>,
    /// The job's state (`succeeded`, `failed`, or one still running).
    pub state: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// Data rows in the file.
    pub rows: u64,
    /// Whether it was a preview (dry run).
    pub dry_run: bool,
    /// When it was started (RFC 3339).
    pub created_at: String,
}

fn past_import(v: &Value) -> PastImport {
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    PastImport {
        id: v["id"].as_u64().unwrap_or_default(),
        user: text("user_id"),
        mode: text("mode").to_uppercase(),
        file_name: text("file_name"),
        scope: v["scope"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        state: text("state"),
        reason: v["reason"].as_str().map(str::to_owned),
        rows: v["counters"]["rows_total"].as_u64().unwrap_or_default(),
        dry_run: v["dry_run"].as_bool().unwrap_or(false),
        created_at: text("created_at"),
    }
}

/// Every import of the tenant, previews (dry runs) included, newest first: one query of the
/// tenant's job records.
pub async fn all_imports(
    table: &Arc<dyn Table>,
    t: &TenantId,
) -> Result<Vec<PastImport>, StoreError> {
    let query = Query {
        pk: keys::tenant_pk(t),
        range: SkRange::Between {
            from: "JOB#0".into(),
            to: "JOB#:".into(),
        },
        cursor: None,
        limit: 0,
    };
    let mut out = Vec::new();
    for item in query_all(&**table, query).await? {
        let v: Value = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt job: {e}")))?;
        out.push(past_import(&v));
    }
    out.reverse();
    Ok(out)
}

impl PastImport {
    /// Whether this is a real import (not a preview) touching `community`.
    pub fn applied_to(&self, community: &str) -> bool {
        !self.dry_run && self.scope.iter().any(|c| c == community)
    }
}

/// The tenant's real imports (not previews) whose scope includes `community`, newest first.
pub async fn imports_of(
    table: &Arc<dyn Table>,
    t: &TenantId,
    community: &str,
) -> Result<Vec<PastImport>, StoreError> {
    let mut all = all_imports(table, t).await?;
    all.retain(|job| job.applied_to(community));
    Ok(all)
}
