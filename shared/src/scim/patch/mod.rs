//! PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying its operations to a
//! resource document. Operations apply in order, to a copy; the caller keeps the result only
//! if every operation succeeded and the result still validates (all or nothing).

mod apply;
mod path;

use serde_json::Value;

use super::ScimError;

pub use apply::apply;
pub use path::{Target, ValueFilter, resolve};

/// The PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The most operations one PATCH request may carry.
pub const MAX_OPERATIONS: usize = 1000;

/// A PATCH operation kind; `op` is matched case-insensitively, as Entra sends `Add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Add values.
    Add,
    /// Replace values.
    Replace,
    /// Remove values.
    Remove,
}

/// One parsed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// What to do.
    pub op: Op,
    /// Where, as sent (`None` for a path-less add or replace).
    pub path: Option<String>,
    /// The value, if any.
    pub value: Option<Value>,
}

/// Parses a PatchOp body.
pub fn parse_request(body: Value) -> Result<Vec<Operation>, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let schemas = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas"));
    let listed = schemas.and_then(|(_, v)| v.as_array()).is_some_and(|a| {
        a.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_SCHEMA))
        })
    });
    if !listed {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {PATCH_SCHEMA}"
        )));
    }
    let ops = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be an array"))?;
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax("Operations must not be empty"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "a PATCH carries at most {MAX_OPERATIONS} operations"
        )));
    }
    ops.iter().map(parse_operation).collect()
}

fn parse_operation(raw: &Value) -> Result<Operation, ScimError> {
    let Value::Object(fields) = raw else {
        return Err(ScimError::invalid_syntax(
            "each operation must be an object",
        ));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let op = match field("op").as_ref().and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
        other => {
            return Err(ScimError::invalid_syntax(format!(
                "op must be add, replace or remove, not {other:?}"
            )));
        }
    };
    let path = match field("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.trim().to_owned()),
        Some(_) => return Err(ScimError::invalid_path("path must be a string")),
    };
    let value = field("value");
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax("add and replace need a value"));
    }
    if op == Op::Remove && path.is_none() {
        return Err(ScimError::no_target(
            "remove needs a path (RFC 7644 §3.5.2.2)",
        ));
    }
    Ok(Operation { op, path, value })
}
