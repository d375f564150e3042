//! What a Group request says about members: PUT bodies and PATCH operations (Entra's,
//! Okta's, RFC 7644 §3.5.2's) folded, in order, into one change of the member set.

use serde_json::{Map, Value};

use super::ScimError;
use super::filter::{CompareOp, Filter, Literal};
use super::patch::{self, Op, Operation};
use crate::directory::MemberDelta;

/// The ids named by a `members` value: `[{"value": id}, …]` or a single object.
pub(super) fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Null => return Ok(vec![]),
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|m| match m.get("value").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(ScimError::invalid_value(
                "each member needs a value: the member's id",
            )),
        })
        .collect()
}

/// Sends member operations to `delta` and the rest to `doc_ops`, keeping their order.
pub(super) fn route(
    op: Operation,
    delta: &mut MemberDelta,
    doc_ops: &mut Vec<Operation>,
) -> Result<(), ScimError> {
    let Some(path) = &op.path else {
        let Some(Value::Object(fields)) = &op.value else {
            doc_ops.push(op);
            return Ok(());
        };
        let mut rest = Map::new();
        for (k, v) in fields {
            if k.eq_ignore_ascii_case("members") {
                match op.op {
                    Op::Add => delta.add(member_ids(v)?),
                    _ => delta.replace(member_ids(v)?),
                }
            } else {
                rest.insert(k.clone(), v.clone());
            }
        }
        doc_ops.push(Operation {
            value: Some(Value::Object(rest)),
            ..op
        });
        return Ok(());
    };
    let Some(target) =
        patch::resolve(super::groups::group_rt(), path)?.filter(|t| t.attr.name == "members")
    else {
        doc_ops.push(op);
        return Ok(());
    };
    if target.sub.is_some() {
        return Err(ScimError::invalid_path(
            "members are added, removed or replaced whole",
        ));
    }
    if let Some(filter) = &target.filter {
        let ids = filtered_ids(&filter.raw).ok_or_else(|| {
            ScimError::invalid_path("a members filter names members by value eq \"id\"")
        })?;
        match op.op {
            Op::Remove => delta.remove(ids),
            Op::Add | Op::Replace => delta.add(ids),
        }
        return Ok(());
    }
    let value = op.value.unwrap_or(Value::Null);
    match op.op {
        Op::Add => delta.add(member_ids(&value)?),
        Op::Replace => delta.replace(member_ids(&value)?),
        Op::Remove if value.is_null() => delta.replace(vec![]),
        Op::Remove => delta.remove(member_ids(&value)?),
    }
    Ok(())
}

/// The ids named by `value eq "id"` (or several joined by `or`), the member filter of Okta.
fn filtered_ids(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, Literal::String(id))
            if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            Some(vec![id.clone()])
        }
        Filter::Or(a, b) => {
            let mut ids = filtered_ids(a)?;
            ids.extend(filtered_ids(b)?);
            Some(ids)
        }
        _ => None,
    }
}
