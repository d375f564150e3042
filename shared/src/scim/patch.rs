//! PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying its operations to a
//! resource document. Operations apply in order, to a copy; the caller keeps the result only
//! if every operation succeeded and the result still validates (all or nothing).

use serde_json::{Map, Value};

use super::ScimError;
use super::resource::{Document, split_urn};
use super::schema::{Attribute, Mutability, ResourceType, common_attributes, find};

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

/// A resolved attribute path: `[urn:…:]attr[.sub]`.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The extension holding the attribute, if any.
    pub ext: Option<&'static str>,
    /// The attribute.
    pub attr: &'static Attribute,
    /// The sub-attribute, if the path names one.
    pub sub: Option<&'static Attribute>,
}

/// Resolves `path`; `Ok(None)` when it names an attribute muster does not keep (ignored, as
/// unknown attributes are on POST and PUT).
pub fn resolve(rt: &'static ResourceType, path: &str) -> Result<Option<Target>, ScimError> {
    if path.contains(['[', ']', '"', ' ']) {
        return Err(ScimError::invalid_path(format!(
            "{path:?}: value filters in PATCH paths are not supported"
        )));
    }
    let (urn, rest) = split_urn(rt, path);
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    if name.is_empty() || sub.is_some_and(|s| s.is_empty() || s.contains('.')) {
        return Err(ScimError::invalid_path(format!(
            "{path:?} is not an attribute path"
        )));
    }
    let ext = urn.and_then(|u| rt.extension(u));
    let attr = match ext {
        Some(schema) => schema.attribute(name),
        None if urn.is_some() => None,
        None => rt
            .schema
            .attribute(name)
            .or_else(|| find(common_attributes(), name)),
    };
    let Some(attr) = attr else { return Ok(None) };
    let sub = match sub {
        Some(s) => match attr.sub(s) {
            Some(sub) => Some(sub),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some(Target {
        ext: ext.map(|s| s.id),
        attr,
        sub,
    }))
}

/// Applies one operation to `doc`. The caller validates the result with
/// [`super::resource::normalize`].
pub fn apply(
    rt: &'static ResourceType,
    doc: &mut Document,
    op: &Operation,
) -> Result<(), ScimError> {
    match &op.path {
        Some(path) => match resolve(rt, path)? {
            Some(target) => apply_at(doc, target, op.op, op.value.clone()),
            None => Ok(()),
        },
        None => {
            let Some(Value::Object(fields)) = &op.value else {
                return Err(ScimError::invalid_value(
                    "a path-less add or replace needs an object value",
                ));
            };
            for (key, value) in fields {
                if let Some(ext) = rt.extension(key) {
                    let Value::Object(inner) = value else {
                        continue;
                    };
                    for (name, v) in inner {
                        if let Some(attr) = ext.attribute(name) {
                            let target = Target {
                                ext: Some(ext.id),
                                attr,
                                sub: None,
                            };
                            apply_lenient(doc, target, op.op, v.clone())?;
                        }
                    }
                } else if let Some(target) = resolve(rt, key)? {
                    apply_lenient(doc, target, op.op, value.clone())?;
                }
            }
            Ok(())
        }
    }
}

/// Inside a path-less value, read-only attributes (such as `id`) are tolerated and skipped.
fn apply_lenient(doc: &mut Document, t: Target, op: Op, value: Value) -> Result<(), ScimError> {
    if t.attr.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    apply_at(doc, t, op, Some(value))
}

fn apply_at(doc: &mut Document, t: Target, op: Op, value: Option<Value>) -> Result<(), ScimError> {
    if t.attr.mutability == Mutability::ReadOnly
        || t.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::mutability(format!(
            "{} is read-only",
            t.attr.name
        )));
    }
    let container = match t.ext {
        Some(urn) => doc
            .entry(urn.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| ScimError::invalid_value(format!("{urn} must be an object")))?,
        None => doc,
    };
    let name = t.attr.name;
    let value = value.unwrap_or(Value::Null);
    match (op, t.sub) {
        (Op::Remove, None) if value.is_null() => {
            container.remove(name);
        }
        (Op::Remove, None) => remove_values(container, name, &value),
        (Op::Remove, Some(sub)) => for_each_object(container, name, |o| {
            o.remove(sub.name);
        }),
        (_, Some(sub)) => {
            if !container.contains_key(name) && !t.attr.multi_valued {
                container.insert(name.to_owned(), Value::Object(Map::new()));
            }
            for_each_object(container, name, |o| {
                o.insert(sub.name.to_owned(), value.clone());
            });
        }
        (Op::Add, None) if t.attr.multi_valued => {
            let items = match value {
                Value::Array(items) => items,
                Value::Null => vec![],
                one => vec![one],
            };
            let entry = container
                .entry(name.to_owned())
                .or_insert_with(|| Value::Array(vec![]));
            if !entry.is_array() {
                *entry = Value::Array(vec![]);
            }
            let list = entry.as_array_mut().expect("just made an array");
            for item in items {
                if !list.contains(&item) {
                    list.push(item);
                }
            }
        }
        (Op::Add, None)
            if value.is_object() && container.get(name).is_some_and(Value::is_object) =>
        {
            let existing = container[name].as_object_mut().expect("checked object");
            for (k, v) in value.as_object().expect("checked object") {
                existing.insert(k.clone(), v.clone());
            }
        }
        (_, None) => {
            container.insert(name.to_owned(), value);
        }
    }
    Ok(())
}

fn for_each_object(
    container: &mut Map<String, Value>,
    name: &str,
    mut f: impl FnMut(&mut Map<String, Value>),
) {
    match container.get_mut(name) {
        Some(Value::Object(o)) => f(o),
        Some(Value::Array(items)) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(f),
        _ => {}
    }
}

/// Removes from a multi-valued attribute the values equal to, or with the same `value` as,
/// those listed (the form Entra ID uses to remove group members).
fn remove_values(container: &mut Map<String, Value>, name: &str, value: &Value) {
    let listed: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    if let Some(Value::Array(items)) = container.get_mut(name) {
        items.retain(|item| {
            !listed.iter().any(|l| {
                *l == item || (l.get("value").is_some() && l.get("value") == item.get("value"))
            })
        });
    }
}
