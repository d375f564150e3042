//! Applying one PATCH operation to a resource document, in the dialects identity providers
//! send: path-less values keyed by attribute names, dotted paths or URNs; value paths with
//! replace-as-add; removal of listed values; `primary` kept exclusive.

use serde_json::{Map, Value};

use super::path::{Target, resolve};
use super::{Op, Operation};
use crate::scim::ScimError;
use crate::scim::filter::eval::matches;
use crate::scim::resource::Document;
use crate::scim::schema::{Mutability, ResourceType, Schema};

/// Applies one operation to `doc`. The caller validates the result with
/// [`crate::scim::resource::normalize`], so a value of the wrong type fails the request.
pub fn apply(
    rt: &'static ResourceType,
    doc: &mut Document,
    op: &Operation,
) -> Result<(), ScimError> {
    match &op.path {
        Some(path) if rt.extension(path).is_some() => {
            let ext = rt.extension(path).expect("checked");
            apply_extension(doc, ext, op)
        }
        Some(path) => match resolve(rt, path)? {
            Some(target) => apply_at(doc, &target, op.op, op.value.clone()),
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
                    if let Value::Object(inner) = value {
                        apply_fields(doc, ext, op.op, inner)?;
                    }
                } else if let Some(target) = resolve(rt, key)? {
                    apply_lenient(doc, &target, op.op, value.clone())?;
                }
            }
            Ok(())
        }
    }
}

/// An operation whose path is an extension's URN: the extension object as a whole.
fn apply_extension(
    doc: &mut Document,
    ext: &'static Schema,
    op: &Operation,
) -> Result<(), ScimError> {
    match (op.op, &op.value) {
        (Op::Remove, _) => {
            doc.remove(ext.id);
        }
        (_, Some(Value::Object(fields))) => {
            if op.op == Op::Replace {
                doc.remove(ext.id);
            }
            if ext
                .attributes
                .iter()
                .all(|a| a.mutability == Mutability::ReadOnly)
            {
                doc.insert(ext.id.to_owned(), Value::Object(Map::new()));
            }
            apply_fields(doc, ext, op.op, fields)?;
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{} takes an object value",
                ext.id
            )));
        }
    }
    Ok(())
}

/// Applies `op` to each attribute of an extension named in `fields`.
fn apply_fields(
    doc: &mut Document,
    ext: &'static Schema,
    op: Op,
    fields: &Map<String, Value>,
) -> Result<(), ScimError> {
    for (name, v) in fields {
        if let Some(attr) = ext.attribute(name) {
            let target = Target {
                ext: Some(ext.id),
                attr,
                sub: None,
                filter: None,
            };
            apply_lenient(doc, &target, op, v.clone())?;
        }
    }
    Ok(())
}

/// Inside a path-less value, read-only attributes (such as `id`) are tolerated and skipped.
fn apply_lenient(doc: &mut Document, t: &Target, op: Op, value: Value) -> Result<(), ScimError> {
    if t.attr.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    apply_at(doc, t, op, Some(value))
}

fn primaries(list: Option<&Value>) -> Vec<Value> {
    match list {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|i| i["primary"] == Value::Bool(true))
            .cloned()
            .collect(),
        _ => vec![],
    }
}

/// RFC 7643 §2.4: `primary` true appears at most once; a newly set primary wins.
fn keep_primary_exclusive(container: &mut Map<String, Value>, name: &str, before: &[Value]) {
    let Some(Value::Array(items)) = container.get_mut(name) else {
        return;
    };
    if items
        .iter()
        .filter(|i| i["primary"] == Value::Bool(true))
        .count()
        <= 1
    {
        return;
    }
    for item in items.iter_mut().filter(|i| before.contains(i)) {
        if let Some(o) = item.as_object_mut() {
            o.insert("primary".into(), Value::Bool(false));
        }
    }
}

fn apply_at(doc: &mut Document, t: &Target, op: Op, value: Option<Value>) -> Result<(), ScimError> {
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
    let before = primaries(container.get(name));
    let value = value.unwrap_or(Value::Null);
    if t.filter.is_some() {
        apply_filtered(container, t, op, value)?;
    } else {
        apply_plain(container, t, op, value);
    }
    keep_primary_exclusive(container, name, &before);
    Ok(())
}

fn apply_plain(container: &mut Map<String, Value>, t: &Target, op: Op, value: Value) {
    let name = t.attr.name;
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
}

/// `attr[filter]` and `attr[filter].sub`: changes the matching values; an add or replace that
/// matches nothing adds a value built from the filter's `eq` constraints.
fn apply_filtered(
    container: &mut Map<String, Value>,
    t: &Target,
    op: Op,
    value: Value,
) -> Result<(), ScimError> {
    let vf = t.filter.as_ref().expect("called with a filter");
    let entry = container
        .entry(t.attr.name.to_owned())
        .or_insert_with(|| Value::Array(vec![]));
    if !entry.is_array() {
        let one = entry.take();
        *entry = Value::Array(if one.is_null() { vec![] } else { vec![one] });
    }
    let list = entry.as_array_mut().expect("just made an array");
    let hits: Vec<usize> = (0..list.len())
        .filter(|&i| matches(&vf.compiled, &list[i]))
        .collect();
    match (op, t.sub) {
        (Op::Remove, Some(sub)) => {
            for &i in &hits {
                if let Some(o) = list[i].as_object_mut() {
                    o.remove(sub.name);
                }
            }
        }
        (Op::Remove, None) => {
            let mut i = 0;
            list.retain(|_| {
                i += 1;
                !hits.contains(&(i - 1))
            });
        }
        (_, sub) if hits.is_empty() => {
            let mut element = vf.template.clone();
            merge(&mut element, sub.map(|s| s.name), value)?;
            list.push(Value::Object(element));
        }
        (_, sub) => {
            for &i in &hits {
                let element = list[i]
                    .as_object_mut()
                    .ok_or_else(|| ScimError::invalid_value("values must be objects"))?;
                if op == Op::Replace && sub.is_none() {
                    element.retain(|k, _| vf.template.contains_key(k));
                }
                merge(element, sub.map(|s| s.name), value.clone())?;
            }
        }
    }
    if list.is_empty() {
        container.remove(t.attr.name);
    }
    Ok(())
}

fn merge(
    element: &mut Map<String, Value>,
    sub: Option<&str>,
    value: Value,
) -> Result<(), ScimError> {
    match (sub, value) {
        (Some(s), v) => {
            element.insert(s.to_owned(), v);
        }
        (None, Value::Object(fields)) => element.extend(fields),
        (None, _) => {
            return Err(ScimError::invalid_value(
                "a value path without sub-attribute needs an object value",
            ));
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
