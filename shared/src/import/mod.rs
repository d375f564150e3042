//! Member-file imports: jobs in MIRROR, UPSERT or DELETE mode, the readers of CSV files, the
//! checking pass that finds every bad row before anything is written, the idempotent syncing
//! pass, and the per-community report. A dry run checks a file and forecasts its report
//! through the same steps, and writes nothing to the directory.

mod check;
mod fingerprints;
mod jobs;
mod ledger;
mod lines;
mod notify;
mod plan;
mod reader;
mod report;
mod row_errors;
mod rules;
mod scope;
mod start;
mod sync;
mod task;
mod worker;
mod xlsx;
mod xlsx_write;

use serde::{Deserialize, Serialize};

pub use jobs::{Job, JobStore, NewJob};
pub use notify::{LocalNotifier, Notifier, invite_pending, send_due};
pub use reader::{Columns, Row, open_any, open_rows, template};
pub use report::{ReportRow, RowError};
pub use row_errors::{MAX_STORED_ERRORS, RowErrors};
pub use start::{
    DEFAULT_MAX_DELETE_RATIO, StartError, StartImport, delete_ratio, delete_ratio_or,
    record_upload, start,
};
pub use worker::{ImportContext, Outcome, run_job};
pub use xlsx_write::write_xlsx;

/// How a file changes the members in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    /// The file wins: create and update what it has, delete file-sourced memberships in
    /// scope that it lacks.
    Mirror,
    /// Create and update; never delete.
    Upsert,
    /// Remove the listed memberships.
    Delete,
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// Parses `MIRROR`, `UPSERT` or `DELETE`, ignoring case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MIRROR" => Ok(Mode::Mirror),
            "UPSERT" => Ok(Mode::Upsert),
            "DELETE" => Ok(Mode::Delete),
            other => Err(format!(
                "operation must be MIRROR, UPSERT or DELETE, not {other:?}"
            )),
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Accepted, not started.
    Created,
    /// Reading the file.
    Loading,
    /// Validating every row.
    Checking,
    /// Applying changes.
    Syncing,
    /// Done.
    Succeeded,
    /// Stopped with a reason; see the row errors.
    Failed,
}

impl JobState {
    /// True for `succeeded` and `failed`.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

/// Progress counters of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Data rows in the file.
    pub rows_total: u64,
    /// Rows read so far.
    pub rows_read: u64,
    /// Rows whose changes were applied (unchanged rows included).
    pub rows_applied: u64,
    /// Rows rejected by checking.
    pub rows_failed: u64,
}

/// The accepted media types of member files.
pub const CSV: &str = "text/csv";
/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
