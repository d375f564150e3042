//! Turning a client's JSON into a resource's canonical form, checked against its schema.
//!
//! Attribute names are matched case-insensitively (RFC 7643 §2.1) and rewritten to their
//! canonical spelling; read-only values are ignored (RFC 7644 §3.3); unknown attributes are
//! ignored, as identity providers send many; values of the wrong type are refused.

use serde_json::{Map, Value};

use super::ScimError;
use super::schema::{Attribute, Mutability, ResourceType, Type, common_attributes, find};

/// A resource body in canonical form: `schemas`, `externalId`, core attributes and one object
/// per extension URN. It never holds `id` or `meta`.
pub type Document = Map<String, Value>;

/// Checks and canonicalises a POST or PUT body for resource type `rt`.
pub fn normalize(rt: &ResourceType, input: Value) -> Result<Document, ScimError> {
    let Value::Object(input) = input else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    check_schemas(rt, input.get("schemas"))?;
    let mut out = Document::new();
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(&key) {
            let Value::Object(fields) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "{key} must be an object of its attributes"
                )));
            };
            if ext
                .attributes
                .iter()
                .all(|a| a.mutability == Mutability::ReadOnly)
            {
                // An extension whose attributes are all maintained by muster: the client can
                // only declare it present, which the resource then keeps (RFC 7643 §3.3).
                out.insert(ext.id.to_owned(), Value::Object(Map::new()));
                continue;
            }
            for (name, v) in fields {
                if let Some(attr) = ext.attribute(&name) {
                    put(&mut out, Some(ext.id), attr, v)?;
                }
            }
            continue;
        }
        let (schema_urn, name) = split_urn(rt, &key);
        let attr = match schema_urn {
            Some(urn) => rt.extension(urn).and_then(|s| s.attribute(name)),
            None => rt
                .schema
                .attribute(name)
                .or_else(|| find(common_attributes(), name)),
        };
        if let Some(attr) = attr {
            put(
                &mut out,
                schema_urn.and_then(|u| rt.extension(u)).map(|s| s.id),
                attr,
                value,
            )?;
        }
    }
    for attr in rt.schema.attributes.iter().filter(|a| a.required) {
        if !out.contains_key(attr.name) {
            return Err(ScimError::invalid_value(format!(
                "{} is required on a {}",
                attr.name, rt.name
            )));
        }
    }
    set_schemas(rt, &mut out);
    Ok(out)
}

/// Rewrites `schemas` to the core URN plus the URN of every extension present.
pub fn set_schemas(rt: &ResourceType, doc: &mut Document) {
    let mut schemas = vec![Value::from(rt.schema.id)];
    for (ext, _) in &rt.extensions {
        if doc.contains_key(ext.id) {
            schemas.push(Value::from(ext.id));
        }
    }
    doc.insert("schemas".into(), Value::Array(schemas));
}

/// Splits `urn:…:Schema:attr` into the schema URN and the attribute name, when `key` is
/// URN-qualified with the core schema (`None, attr`) or an extension (`Some(urn), attr`).
pub fn split_urn<'k>(rt: &ResourceType, key: &'k str) -> (Option<&'k str>, &'k str) {
    if !key.to_ascii_lowercase().starts_with("urn:") {
        return (None, key);
    }
    for (ext, _) in &rt.extensions {
        if key.len() > ext.id.len()
            && key[..ext.id.len()].eq_ignore_ascii_case(ext.id)
            && key.as_bytes()[ext.id.len()] == b':'
        {
            return (Some(&key[..ext.id.len()]), &key[ext.id.len() + 1..]);
        }
    }
    let core = rt.schema.id;
    if key.len() > core.len()
        && key[..core.len()].eq_ignore_ascii_case(core)
        && key.as_bytes()[core.len()] == b':'
    {
        return (None, &key[core.len() + 1..]);
    }
    (None, key)
}

fn check_schemas(rt: &ResourceType, schemas: Option<&Value>) -> Result<(), ScimError> {
    let Some(Value::Array(list)) = schemas else {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must be an array that lists {}",
            rt.schema.id
        )));
    };
    let mut has_core = false;
    for urn in list {
        let Some(urn) = urn.as_str() else {
            return Err(ScimError::invalid_syntax("schemas must hold URN strings"));
        };
        if urn.eq_ignore_ascii_case(rt.schema.id) {
            has_core = true;
        } else if rt.extension(urn).is_none() && is_other_core(rt, urn) {
            return Err(ScimError::invalid_value(format!(
                "schema {urn} is not supported on a {}",
                rt.name
            )));
        }
        // Any other URN (an identity provider's own, such as Entra's ADSCIM Group schema) is
        // accepted and its attributes ignored, as unknown attributes are.
    }
    if !has_core {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {}",
            rt.schema.id
        )));
    }
    Ok(())
}

/// Whether `urn` is the core schema of another resource type (a User body sent as a Group).
fn is_other_core(rt: &ResourceType, urn: &str) -> bool {
    super::schema::resource_types()
        .iter()
        .any(|other| other.name != rt.name && urn.eq_ignore_ascii_case(other.schema.id))
}

/// Stores `value` of `attr` in `doc` (inside the extension object `ext` when given).
fn put(
    doc: &mut Document,
    ext: Option<&str>,
    attr: &Attribute,
    value: Value,
) -> Result<(), ScimError> {
    if matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    ) {
        return Ok(());
    }
    let target = match ext {
        Some(urn) => doc
            .entry(urn.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("extension entries are objects"),
        None => doc,
    };
    match normalize_value(attr, value)? {
        Some(v) => {
            target.insert(attr.name.to_owned(), v);
        }
        None => {
            target.remove(attr.name);
        }
    }
    if let Some(urn) = ext
        && doc
            .get(urn)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        doc.remove(urn);
    }
    Ok(())
}

/// Entra ID, without its `aadOptscim062020` flag, sends a single value wrapped as
/// `[{"$ref": null, "value": X}]` (for `displayName`, `manager`, …): a one-element array of an
/// object holding `value` and at most a null `$ref` stands for X (for a complex attribute,
/// `{"value": X}`). Anything else is left for the type checks to judge.
fn unwrap_single(attr: &Attribute, value: Value) -> Value {
    let Value::Array(items) = &value else {
        return value;
    };
    let [Value::Object(item)] = items.as_slice() else {
        return value;
    };
    let plain = item.contains_key("value")
        && item
            .iter()
            .all(|(k, v)| k == "value" || (k == "$ref" && v.is_null()));
    if !plain {
        return value;
    }
    match attr.ty {
        Type::Complex => serde_json::json!({"value": item["value"]}),
        _ => item["value"].clone(),
    }
}

/// Checks one attribute's value; `Ok(None)` means "absent" (null, "", [] or {}).
pub fn normalize_value(attr: &Attribute, value: Value) -> Result<Option<Value>, ScimError> {
    if !attr.multi_valued {
        return normalize_single(attr, value);
    }
    let values = match value {
        Value::Null => return Ok(None),
        Value::Array(values) => values,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        if let Some(v) = normalize_single(attr, v)? {
            out.push(v);
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v["primary"] == Value::Bool(true))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "{}: at most one value may be primary (RFC 7643 §2.4)",
            attr.name
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn normalize_single(attr: &Attribute, value: Value) -> Result<Option<Value>, ScimError> {
    let value = unwrap_single(attr, value);
    let wrong = |kind: &str| {
        Err(ScimError::invalid_value(format!(
            "{} must be {kind}",
            attr.name
        )))
    };
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (Type::Complex, Value::String(s)) if attr.sub("value").is_some() => {
            Ok((!s.is_empty()).then(|| serde_json::json!({ "value": s })))
        }
        (Type::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            for (k, v) in fields {
                let Some(sub) = attr.sub(&k) else { continue };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = normalize_single(sub, v)? {
                    out.insert(sub.name.to_owned(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (Type::Complex, _) => wrong("an object"),
        (Type::String | Type::Reference | Type::Binary, Value::String(s)) => {
            crate::unicode::check_text(attr.name, &s).map_err(ScimError::invalid_value)?;
            Ok((!s.is_empty()).then_some(Value::String(s)))
        }
        (Type::String | Type::Reference | Type::Binary, _) => wrong("a string"),
        (Type::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        (Type::Boolean, Value::String(s)) => match parse_bool(&s) {
            Some(b) => Ok(Some(Value::Bool(b))),
            None => wrong("true or false"),
        },
        (Type::Boolean, _) => wrong("true or false"),
        (Type::Integer, Value::Number(n)) if n.is_i64() => Ok(Some(Value::Number(n))),
        (Type::Integer, _) => wrong("an integer"),
        (Type::Decimal, Value::Number(n)) => Ok(Some(Value::Number(n))),
        (Type::Decimal, _) => wrong("a number"),
        (Type::DateTime, Value::String(s)) => {
            if chrono::DateTime::parse_from_rfc3339(&s).is_ok() {
                Ok(Some(Value::String(s)))
            } else {
                wrong("an RFC 3339 date-time")
            }
        }
        (Type::DateTime, _) => wrong("an RFC 3339 date-time"),
    }
}

/// `true`/`false`, also as the strings `"True"`/`"False"` that Entra ID sends.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
