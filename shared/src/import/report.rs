//! What a job leaves behind: row errors (line, column, code, message) and the report, one row
//! per (operation code, community) with a count, in the reference API's shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::check::Checked;
use crate::ids::TenantId;
use crate::store::{Condition, Item, Query, SkRange, StoreError, Table, Write, keys};

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// The column at fault ("" for the whole row).
    pub column: String,
    /// A stable code: `missing_value`, `invalid_email`, `unknown_role`, `unknown_community`,
    /// `community_out_of_scope`, `duplicate_row`, `conflicting_member`, `email_taken`,
    /// `email_domain_not_allowed`, `unreadable_row`.
    pub code: String,
    /// A sentence for the person fixing the file.
    pub message: String,
}

/// One report row: `code` applied `operation_data.value` times in community `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Position in the report, from 1.
    pub id: u64,
    /// `CREATE_MEMBER`, `UPDATE_MEMBER` or `DELETE_MEMBER`.
    pub code: String,
    /// When the report was written, epoch milliseconds.
    pub created_at: i64,
    /// `{ "name": community name, "value": count }`.
    pub operation_data: OperationData,
}

/// The community and count of a report row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationData {
    /// Community name.
    pub name: String,
    /// Number of operations.
    pub value: u64,
}

/// Counts per community id: (created, updated, deleted).
pub type Tally = BTreeMap<String, [u64; 3]>;

/// Adds `b` into `a`.
pub fn merge(a: &mut Tally, b: &Tally) {
    for (c, n) in b {
        let e = a.entry(c.clone()).or_default();
        for i in 0..3 {
            e[i] += n[i];
        }
    }
}

/// The storage of a job's errors, checkpoints and report.
#[derive(Clone)]
pub struct JobData {
    pub(super) table: Arc<dyn Table>,
}

impl JobData {
    /// Job data over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Stores row errors (idempotent: keyed by line and column).
    pub async fn put_errors(
        &self,
        t: &TenantId,
        job: u64,
        errors: &[RowError],
    ) -> Result<(), StoreError> {
        let writes = errors
            .iter()
            .map(|e| {
                let key = keys::job_error(t, job, e.line, &e.column);
                Write::Put {
                    item: Item::new(key, 1, serde_json::to_vec(e).expect("json")),
                    condition: Condition::Always,
                }
            })
            .collect();
        self.table.batch_write(writes).await
    }

    /// The checkpoint of chunk `name`, if it was applied.
    pub async fn checkpoint(
        &self,
        t: &TenantId,
        job: u64,
        name: &str,
    ) -> Result<Option<(u64, Tally)>, StoreError> {
        match self.table.get(&keys::job_checkpoint(t, job, name)).await? {
            Some(item) => Ok(Some(
                serde_json::from_slice(&item.body)
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
            )),
            None => Ok(None),
        }
    }

    /// Records that chunk `name` was applied, with its counts; a second record of the same
    /// chunk (a redelivered message) is refused, so nothing is counted twice.
    pub async fn put_checkpoint(
        &self,
        t: &TenantId,
        job: u64,
        name: &str,
        rows: u64,
        tally: &Tally,
    ) -> Result<bool, StoreError> {
        let key = keys::job_checkpoint(t, job, name);
        let body = serde_json::to_vec(&(rows, tally)).expect("json");
        match self
            .table
            .put(Item::new(key, 1, body), Condition::NotExists)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes the report rows (replacing any).
    pub async fn put_report(
        &self,
        t: &TenantId,
        job: u64,
        rows: &[ReportRow],
    ) -> Result<(), StoreError> {
        let writes = rows
            .iter()
            .map(|r| Write::Put {
                item: Item::new(
                    keys::job_report_row(t, job, r.id),
                    1,
                    serde_json::to_vec(r).expect("json"),
                ),
                condition: Condition::Always,
            })
            .collect();
        self.table.batch_write(writes).await
    }

    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        t: &TenantId,
        job: u64,
        prefix: &str,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let pk = keys::job_pk(t, job);
        let total = self
            .table
            .count(&pk, &SkRange::Prefix(prefix.into()))
            .await?;
        let skip = (page.saturating_sub(1) * per_page) as usize;
        let mut query = Query::prefix(pk, prefix).limit(skip + per_page as usize);
        let mut out = Vec::new();
        let mut seen = 0usize;
        'pages: loop {
            let p = self.table.query(&query).await?;
            for item in &p.items {
                seen += 1;
                if seen > skip {
                    out.push(
                        serde_json::from_slice(&item.body)
                            .map_err(|e| StoreError::Backend(e.to_string()))?,
                    );
                    if out.len() as u64 == per_page {
                        break 'pages;
                    }
                }
            }
            match p.cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        Ok((out, total))
    }

    /// One page of the report and the number of report rows.
    pub async fn report(
        &self,
        t: &TenantId,
        job: u64,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<ReportRow>, u64), StoreError> {
        self.page(t, job, keys::JOB_REPORT_PREFIX, page, per_page)
            .await
    }

    /// One page of the row errors (in line order) and their number.
    pub async fn errors(
        &self,
        t: &TenantId,
        job: u64,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<RowError>, u64), StoreError> {
        self.page(t, job, keys::JOB_ERROR_PREFIX, page, per_page)
            .await
    }
}

/// The report rows of `total`: one per (code, community) with a count, the creations first,
/// then the updates, then the deletions, each in community-id order.
pub fn report_rows(checked: &Checked, total: &Tally) -> Vec<ReportRow> {
    let created_at = chrono::Utc::now().timestamp_millis();
    let mut rows = Vec::new();
    for (code_index, code) in ["CREATE_MEMBER", "UPDATE_MEMBER", "DELETE_MEMBER"]
        .into_iter()
        .enumerate()
    {
        for (community, counts) in total {
            if counts[code_index] == 0 {
                continue;
            }
            let name = checked
                .community(community)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| community.clone());
            rows.push(ReportRow {
                id: rows.len() as u64 + 1,
                code: code.to_owned(),
                created_at,
                operation_data: OperationData {
                    name,
                    value: counts[code_index],
                },
            });
        }
    }
    rows
}
