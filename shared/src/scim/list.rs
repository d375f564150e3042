//! List parameters (RFC 7644 §3.4.2) and the ListResponse body (§3.4.2.1 … §3.4.2.4).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::ScimError;

/// The ListResponse message URN.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The query parameters of a list or search, with names matched case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// 1-based index of the first result (values below 1 mean 1).
    pub start_index: usize,
    /// Page size, clamped to the advertised maximum.
    pub count: usize,
    /// `filter`, if any.
    pub filter: Option<String>,
    /// `attributes`, if any.
    pub attributes: Option<String>,
    /// `excludedAttributes`, if any.
    pub excluded_attributes: Option<String>,
}

fn integer(name: &str, raw: &str) -> Result<i64, ScimError> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, not {raw:?}")))
}

impl ListParams {
    /// Reads the parameters from a query string map; `max` is the largest page.
    pub fn parse(query: &HashMap<String, String>, max: usize) -> Result<Self, ScimError> {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let start_index = match get("startIndex") {
            Some(raw) => integer("startIndex", &raw)?.max(1) as usize,
            None => 1,
        };
        let count = match get("count") {
            Some(raw) => integer("count", &raw)?.clamp(0, max as i64) as usize,
            None => max,
        };
        Ok(Self {
            start_index,
            count,
            filter: get("filter").filter(|f| !f.trim().is_empty()),
            attributes: get("attributes"),
            excluded_attributes: get("excludedAttributes"),
        })
    }
}

/// A ListResponse of `resources` out of `total`, starting at `start_index`.
pub fn list_response(total: u64, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
