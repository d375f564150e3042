//! From an XML element tree to the JSON representation every SCIM handler reads, guided by
//! the schema: a multi-valued attribute is a container whose child elements are its values
//! (`<emails><email>…</email></emails>`, item names are free), a complex one holds its
//! sub-attributes, and a simple one is text, typed by its definition.

use serde_json::{Map, Number, Value};

use super::tree::Element;
use super::{EXTENSION_ELEMENT, REF_ELEMENT};
use crate::scim::ScimError;
use crate::scim::patch;
use crate::scim::schema::{Attribute, ResourceType, Type, common_attributes, find};

/// What a request body holds, which decides how its elements are typed.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// A resource of this type (POST, PUT).
    Resource(&'static ResourceType),
    /// A PatchOp request against a resource of this type.
    Patch(&'static ResourceType),
    /// A SearchRequest (`POST …/.search`).
    Search,
}

/// The JSON form of the document whose root is `root`.
///
/// Attributes muster does not know keep their text (and are then ignored downstream, as
/// unknown JSON attributes are); a known single-valued attribute written twice is refused.
pub fn to_json(root: &Element, body: Body) -> Result<Value, ScimError> {
    match body {
        Body::Resource(rt) => resource(root, rt).map(Value::Object),
        Body::Patch(rt) => patch_request(root, rt),
        Body::Search => Ok(search_request(root)),
    }
}

fn resource(el: &Element, rt: &'static ResourceType) -> Result<Map<String, Value>, ScimError> {
    object(el, &[&rt.schema.attributes, common_attributes()], Some(rt))
}

fn lookup(groups: &[&'static [Attribute]], name: &str) -> Option<&'static Attribute> {
    let name = if name == REF_ELEMENT { "$ref" } else { name };
    groups.iter().find_map(|attrs| find(attrs, name))
}

fn object(
    el: &Element,
    groups: &[&'static [Attribute]],
    rt: Option<&'static ResourceType>,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for child in &el.children {
        let (key, value, multi) = if child.name == "schemas" {
            ("schemas".to_owned(), strings(child), true)
        } else if let (EXTENSION_ELEMENT, Some(rt)) = (child.name.as_str(), rt) {
            let urn = child.attribute("schema").ok_or_else(|| {
                ScimError::invalid_syntax(
                    "an <extension> element needs a schema=\"urn:…\" attribute",
                )
            })?;
            let value = match rt.extension(urn) {
                Some(schema) => Value::Object(object(child, &[&schema.attributes], None)?),
                None => untyped(child),
            };
            (urn.to_owned(), value, false)
        } else if let Some(attr) = lookup(groups, &child.name) {
            (attr.name.to_owned(), value(child, attr)?, attr.multi_valued)
        } else {
            (child.name.clone(), untyped(child), false)
        };
        match out.get_mut(&key) {
            None => {
                out.insert(key, value);
            }
            Some(Value::Array(items)) if multi => {
                if let Value::Array(more) = value {
                    items.extend(more);
                }
            }
            Some(_) => {
                return Err(ScimError::invalid_syntax(format!(
                    "<{}> appears twice in <{}>",
                    child.name, el.name
                )));
            }
        }
    }
    Ok(out)
}

/// The values of `attr` written as `el`: an array for a multi-valued attribute.
fn value(el: &Element, attr: &'static Attribute) -> Result<Value, ScimError> {
    if el.is_nil() {
        return Ok(Value::Null);
    }
    if !attr.multi_valued {
        return single(el, attr);
    }
    if el.children.is_empty() {
        return Ok(match attr.ty {
            Type::Complex => Value::Array(vec![]),
            _ if el.text.trim().is_empty() => Value::Array(vec![]),
            ty => Value::Array(vec![scalar(el, ty)?]),
        });
    }
    el.children
        .iter()
        .map(|item| single(item, attr))
        .collect::<Result<_, _>>()
        .map(Value::Array)
}

/// One value of `attr` written as `el`.
fn single(el: &Element, attr: &'static Attribute) -> Result<Value, ScimError> {
    if el.is_nil() {
        return Ok(Value::Null);
    }
    match attr.ty {
        Type::Complex => object(el, &[&attr.sub_attributes], None).map(Value::Object),
        ty => scalar(el, ty),
    }
}

fn scalar(el: &Element, ty: Type) -> Result<Value, ScimError> {
    if !el.children.is_empty() {
        return Err(ScimError::invalid_syntax(format!(
            "<{}> holds a single value, not elements",
            el.name
        )));
    }
    let text = el.text.trim();
    let typed = match ty {
        Type::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Type::Integer => text.parse::<i64>().ok().map(Value::from),
        Type::Decimal => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        _ => None,
    };
    // A value of the wrong type stays text, so that validation names the attribute.
    Ok(typed.unwrap_or_else(|| Value::String(el.text.clone())))
}

/// An element of an attribute muster does not know: text, or an object of its children
/// (repeated names becoming arrays).
fn untyped(el: &Element) -> Value {
    if el.is_nil() {
        return Value::Null;
    }
    if el.children.is_empty() {
        return Value::String(el.text.clone());
    }
    let mut out = Map::new();
    for child in &el.children {
        let value = untyped(child);
        match out.get_mut(&child.name) {
            None => {
                out.insert(child.name.clone(), value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    Value::Object(out)
}

fn strings(el: &Element) -> Value {
    if el.children.is_empty() {
        return Value::Array(vec![Value::String(el.text.trim().to_owned())]);
    }
    el.children
        .iter()
        .map(|c| Value::String(c.text.trim().to_owned()))
        .collect()
}

fn text_of<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
    el.children
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// `<Operations><Operation><op/><path/><value/></Operation>…</Operations>`; each value is
/// typed by the attribute its path names, or read as a partial resource without a path.
fn patch_request(root: &Element, rt: &'static ResourceType) -> Result<Value, ScimError> {
    let mut out = Map::new();
    let mut operations = Vec::new();
    for child in &root.children {
        match child.name.as_str() {
            "schemas" => {
                out.insert("schemas".into(), strings(child));
            }
            "Operations" | "operations" => {
                for op in &child.children {
                    operations.push(operation(op, rt)?);
                }
            }
            _ => {}
        }
    }
    out.insert("Operations".into(), Value::Array(operations));
    Ok(Value::Object(out))
}

fn operation(el: &Element, rt: &'static ResourceType) -> Result<Value, ScimError> {
    let mut out = Map::new();
    let path = text_of(el, "path").map(|p| p.text.trim().to_owned());
    if let Some(op) = text_of(el, "op") {
        out.insert("op".into(), Value::String(op.text.trim().to_owned()));
    }
    if let Some(path) = &path {
        out.insert("path".into(), Value::String(path.clone()));
    }
    if let Some(v) = text_of(el, "value") {
        out.insert("value".into(), patch_value(v, rt, path.as_deref())?);
    }
    Ok(Value::Object(out))
}

fn patch_value(
    el: &Element,
    rt: &'static ResourceType,
    path: Option<&str>,
) -> Result<Value, ScimError> {
    let Some(path) = path else {
        return resource(el, rt).map(Value::Object);
    };
    // An unresolvable path keeps the text: the PATCH itself then names the error.
    let Ok(Some(target)) = patch::resolve(rt, path) else {
        return Ok(untyped(el));
    };
    if let Some(sub) = target.sub {
        return value(el, sub);
    }
    let attr = target.attr;
    if target.filter.is_some() || !attr.multi_valued {
        return single(el, attr);
    }
    let one_item = attr.ty == Type::Complex
        && !el.children.is_empty()
        && el
            .children
            .iter()
            .all(|c| lookup(&[&attr.sub_attributes], &c.name).is_some());
    if one_item {
        return Ok(Value::Array(vec![single(el, attr)?]));
    }
    value(el, attr)
}

/// `<SearchRequest>` with `attributes`/`excludedAttributes` as containers and the paging
/// numbers as integers.
fn search_request(root: &Element) -> Value {
    let mut out = Map::new();
    for child in &root.children {
        let value = match child.name.as_str() {
            "schemas" | "attributes" | "excludedAttributes" => strings(child),
            "startIndex" | "count" => child
                .text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(child.text.clone())),
            _ => Value::String(child.text.clone()),
        };
        out.insert(child.name.clone(), value);
    }
    Value::Object(out)
}
