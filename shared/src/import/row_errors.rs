//! The row errors of a checked file, bounded: the first [`MAX_STORED_ERRORS`] are kept with
//! their messages (what `GET /v1/member_provisionings/errors` lists), every one is counted by
//! code, and the rows at fault are counted exactly, so a file with a million bad rows costs
//! kilobytes, not gigabytes.

use std::collections::{BTreeMap, HashSet};

use super::report::RowError;

/// How many row errors are kept with their messages.
pub const MAX_STORED_ERRORS: usize = 1000;

/// Every row error of a check: the first ones in full, all of them counted.
#[derive(Debug, Default)]
pub struct RowErrors {
    kept: Vec<RowError>,
    by_code: BTreeMap<String, u64>,
    lines: HashSet<u64>,
    total: u64,
}

impl RowErrors {
    /// Records an error; its message is kept only among the first [`MAX_STORED_ERRORS`].
    pub fn push(&mut self, error: RowError) {
        self.total += 1;
        self.lines.insert(error.line);
        *self.by_code.entry(error.code.clone()).or_default() += 1;
        if self.kept.len() < MAX_STORED_ERRORS {
            self.kept.push(error);
        }
    }

    /// Records the errors of `later`, as if each were pushed after those recorded here.
    pub fn extend(&mut self, later: RowErrors) {
        self.total += later.total;
        self.lines.extend(later.lines);
        for (code, n) in later.by_code {
            *self.by_code.entry(code).or_default() += n;
        }
        let room = MAX_STORED_ERRORS - self.kept.len();
        self.kept.extend(later.kept.into_iter().take(room));
    }

    /// All errors recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// True when no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The rows with at least one error.
    pub fn rows(&self) -> u64 {
        self.lines.len() as u64
    }

    /// The errors kept in full, in the order recorded.
    pub fn kept(&self) -> &[RowError] {
        &self.kept
    }

    /// Exact counts by code.
    pub fn by_code(&self) -> &BTreeMap<String, u64> {
        &self.by_code
    }

    /// `code n, code n, …`, for a job's reason.
    pub fn summary(&self) -> String {
        self.by_code
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: u64, code: &str) -> RowError {
        RowError {
            line,
            column: "email".into(),
            code: code.into(),
            message: "a sentence".into(),
        }
    }

    #[test]
    fn only_the_first_thousand_are_kept_and_every_one_is_counted() {
        let mut errors = RowErrors::default();
        for line in 2..250_002 {
            errors.push(error(line, "invalid_email"));
            errors.push(error(line, "missing_value"));
        }
        errors.push(error(7, "duplicate_row"));
        assert_eq!(errors.kept().len(), MAX_STORED_ERRORS);
        assert_eq!(errors.total(), 500_001);
        assert_eq!(errors.rows(), 250_000);
        assert_eq!(errors.by_code()["invalid_email"], 250_000);
        assert_eq!(
            errors.summary(),
            "duplicate_row 1, invalid_email 250000, missing_value 250000"
        );
    }

    #[test]
    fn errors_taken_in_from_a_later_block_come_after_and_are_all_counted() {
        let mut errors = RowErrors::default();
        for line in 2..900 {
            errors.push(error(line, "invalid_email"));
        }
        let mut later = RowErrors::default();
        for line in 900..1300 {
            later.push(error(line, "missing_value"));
            later.push(error(line, "invalid_email"));
        }
        errors.extend(later);
        assert_eq!(errors.kept().len(), MAX_STORED_ERRORS);
        let lines: Vec<u64> = errors.kept().iter().map(|e| e.line).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "kept in order");
        assert_eq!(errors.kept()[898].line, 900);
        assert_eq!(errors.total(), 898 + 800);
        assert_eq!(errors.rows(), 1298);
        assert_eq!(errors.by_code()["invalid_email"], 898 + 400);
        assert_eq!(errors.by_code()["missing_value"], 400);
    }
}
