//! PATCH paths (RFC 7644 §3.5.2): `attr`, `attr.sub`, `urn:…:attr`, and value paths such as
//! `emails[type eq "work"].value` or `members[value eq "…"]`, resolved against the schema.

use serde_json::{Map, Value};

use crate::scim::ScimError;
use crate::scim::filter::eval::{Compiled, Scope, compile};
use crate::scim::filter::{CompareOp, Filter, Literal, parse_path};
use crate::scim::schema::{Attribute, ResourceType, Type, common_attributes, find};

/// The value filter of a path, compiled against the attribute's sub-attributes.
#[derive(Debug, Clone)]
pub struct ValueFilter {
    /// The filter as parsed.
    pub raw: Filter,
    /// The filter bound to the sub-attributes.
    pub compiled: Compiled,
    /// The `sub eq value` constraints of the filter, used to build the value a
    /// replace-as-add creates when nothing matches (`emails[type eq "work"].value`).
    pub template: Map<String, Value>,
}

/// A resolved path.
#[derive(Debug, Clone)]
pub struct Target {
    /// The extension holding the attribute, if any.
    pub ext: Option<&'static str>,
    /// The attribute.
    pub attr: &'static Attribute,
    /// The sub-attribute, if the path names one.
    pub sub: Option<&'static Attribute>,
    /// The value filter, if the path has one.
    pub filter: Option<ValueFilter>,
}

fn literal_value(lit: &Literal) -> Value {
    match lit {
        Literal::String(s) => Value::String(s.clone()),
        Literal::Number(n) => Value::Number(n.clone()),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
    }
}

fn template(attr: &Attribute, f: &Filter, out: &mut Map<String, Value>) {
    match f {
        Filter::Compare(p, CompareOp::Eq, lit) if p.sub.is_none() && p.urn.is_none() => {
            if let Some(sub) = attr.sub(&p.name) {
                out.insert(sub.name.to_owned(), literal_value(lit));
            }
        }
        Filter::And(a, b) => {
            template(attr, a, out);
            template(attr, b, out);
        }
        _ => {}
    }
}

/// Resolves `path`; `Ok(None)` when it names an attribute muster does not keep (ignored, as
/// unknown attributes are on POST and PUT).
pub fn resolve(rt: &'static ResourceType, path: &str) -> Result<Option<Target>, ScimError> {
    let parsed = parse_path(path).map_err(|e| ScimError::invalid_path(format!("{path:?}: {e}")))?;
    let ext = match &parsed.attr.urn {
        None => None,
        Some(urn) if urn.eq_ignore_ascii_case(rt.schema.id) => None,
        Some(urn) => match rt.extension(urn) {
            Some(schema) => Some(schema),
            None => return Ok(None),
        },
    };
    let name = parsed.attr.name.as_str();
    let attr = match ext {
        Some(schema) => schema.attribute(name),
        None => rt
            .schema
            .attribute(name)
            .or_else(|| find(common_attributes(), name)),
    };
    let Some(attr) = attr else { return Ok(None) };
    let sub = match parsed.attr.sub.as_deref().or(parsed.sub.as_deref()) {
        Some(s) => match attr.sub(s) {
            Some(sub) => Some(sub),
            None => return Ok(None),
        },
        None => None,
    };
    let filter = match parsed.filter {
        None => None,
        Some(raw) => {
            if !(attr.multi_valued && attr.ty == Type::Complex) {
                return Err(ScimError::invalid_path(format!(
                    "{path:?}: only multi-valued complex attributes take a value filter"
                )));
            }
            let compiled = compile(Scope::Within(attr), &raw)
                .map_err(|e| ScimError::invalid_path(format!("{path:?}: {}", e.detail)))?;
            let mut t = Map::new();
            template(attr, &raw, &mut t);
            Some(ValueFilter {
                raw,
                compiled,
                template: t,
            })
        }
    };
    Ok(Some(Target {
        ext: ext.map(|s| s.id),
        attr,
        sub,
        filter,
    }))
}
