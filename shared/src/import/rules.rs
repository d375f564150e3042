//! The rules one row must follow on its own (required values, e-mail syntax and domain,
//! role, known community in the acting administrator's scope), checked without storage.

use std::collections::HashSet;

use super::Mode;
use super::reader::{Columns, Row, required};
use super::report::RowError;
use super::row_errors::RowErrors;
use crate::community::Role;

/// A rejected cell of `row`.
pub fn error(row: &Row, column: &str, code: &str, message: String) -> RowError {
    RowError {
        line: row.line,
        column: column.to_owned(),
        code: code.to_owned(),
        message,
    }
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254
}

/// What the rules need to know besides the row.
pub struct Rules<'a> {
    /// The file's columns.
    pub columns: &'a Columns,
    /// The job's mode, which says the columns a row must fill.
    pub mode: Mode,
    /// The tenant's allowed e-mail domains (empty: any).
    pub domains: &'a [String],
    /// Community ids the acting administrator administers.
    pub scope: HashSet<&'a str>,
}

impl Rules<'_> {
    /// Appends to `errors` every rule `row` breaks. `community` is what the community cell
    /// names (id, name), if it names one of the tenant's.
    pub fn check(&self, row: &Row, community: Option<&(String, String)>, errors: &mut RowErrors) {
        let cell = |name: &str| row.cell(self.columns, name);
        for name in required(self.mode) {
            if cell(name).is_empty() {
                errors.push(error(
                    row,
                    name,
                    "missing_value",
                    format!("{name} is empty"),
                ));
            }
        }
        match community {
            None if !cell("community").is_empty() => errors.push(error(
                row,
                "community",
                "unknown_community",
                format!("no community named {:?} in this tenant", cell("community")),
            )),
            Some((id, name)) if !self.scope.contains(id.as_str()) => errors.push(error(
                row,
                "community",
                "community_out_of_scope",
                format!("the acting administrator does not administer {name:?}"),
            )),
            _ => {}
        }
        if self.mode == Mode::Delete {
            return;
        }
        let email = cell("email");
        if !email.is_empty() && !valid_email(email) {
            errors.push(error(
                row,
                "email",
                "invalid_email",
                format!("{email:?} is not an e-mail address"),
            ));
        } else if !email.is_empty()
            && !self.domains.is_empty()
            && !crate::auth::address_allowed(self.domains, email)
        {
            errors.push(error(
                row,
                "email",
                "email_domain_not_allowed",
                format!(
                    "the domain of {email:?} is not one of the tenant's domains ({})",
                    self.domains.join(", ")
                ),
            ));
        }
        let role = cell("role");
        if !role.is_empty() && role.parse::<Role>().is_err() {
            errors.push(error(
                row,
                "role",
                "unknown_role",
                format!("{role:?} is not member, contributor or administrator"),
            ));
        }
    }
}
