//! Evaluating a filter on a resource. A filter is first compiled against the resource type:
//! attribute names are resolved (case-insensitively) to their definitions, operators are
//! checked against types (RFC 7644 §3.4.2.2: `gt` on a boolean is an error) and literals are
//! coerced (`"True"` for a boolean). The compiled filter then compares per attribute, honouring
//! each attribute's `caseExact`.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::{AttrPath, CompareOp, Filter, Literal};
use crate::scim::ScimError;
use crate::scim::resource::parse_bool;
use crate::scim::schema::{Attribute, ResourceType, Type, common_attributes, find};

/// Where a compiled comparison reads its values.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Extension URN holding the attribute, if any.
    pub ext: Option<&'static str>,
    /// The attribute.
    pub attr: &'static Attribute,
    /// The sub-attribute, if any.
    pub sub: Option<&'static Attribute>,
}

impl Target {
    /// The attribute whose type and case rules apply to compared values.
    fn leaf(&self) -> &'static Attribute {
        self.sub
            .or_else(|| {
                if self.attr.ty == Type::Complex {
                    self.attr.sub("value")
                } else {
                    None
                }
            })
            .unwrap_or(self.attr)
    }
}

/// A literal coerced to the type of the attribute it is compared with.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A string, lowercased when the attribute is not case-exact.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A date-time.
    Time(DateTime<FixedOffset>),
    /// `null`: compares with presence.
    Null,
}

/// A filter bound to one resource type.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// A comparison.
    Compare(Target, CompareOp, Operand),
    /// Presence.
    Present(Target),
    /// Conjunction.
    And(Box<Compiled>, Box<Compiled>),
    /// Disjunction.
    Or(Box<Compiled>, Box<Compiled>),
    /// Negation.
    Not(Box<Compiled>),
    /// Some element of a multi-valued attribute matches the inner filter.
    Any(Target, Box<Compiled>),
}

/// The attributes a path may name: those of a resource type, or the sub-attributes of one
/// attribute inside a value filter.
#[derive(Clone, Copy)]
pub enum Scope {
    /// Top level of a resource.
    Resource(&'static ResourceType),
    /// Inside `attr[…]`.
    Within(&'static Attribute),
}

/// Resolves an attribute path in `scope`.
pub fn resolve(scope: Scope, path: &AttrPath) -> Result<Target, ScimError> {
    let unknown = || ScimError::invalid_filter(format!("unknown attribute {path}"));
    let (ext, attr) = match scope {
        Scope::Within(parent) if path.urn.is_none() => {
            (None, parent.sub(&path.name).ok_or_else(unknown)?)
        }
        Scope::Within(_) => return Err(unknown()),
        Scope::Resource(rt) => match &path.urn {
            Some(urn) if urn.eq_ignore_ascii_case(rt.schema.id) => {
                (None, rt.schema.attribute(&path.name).ok_or_else(unknown)?)
            }
            Some(urn) => {
                let ext = rt.extension(urn).ok_or_else(unknown)?;
                (Some(ext.id), ext.attribute(&path.name).ok_or_else(unknown)?)
            }
            None => match rt
                .schema
                .attribute(&path.name)
                .or_else(|| find(common_attributes(), &path.name))
            {
                Some(a) => (None, a),
                None => rt
                    .extensions
                    .iter()
                    .find_map(|(s, _)| s.attribute(&path.name).map(|a| (Some(s.id), a)))
                    .ok_or_else(unknown)?,
            },
        },
    };
    if attr.name == "groups"
        && ext.is_none()
        && matches!(scope, Scope::Resource(rt) if rt.name == "User")
    {
        return Err(ScimError::invalid_filter(
            "filtering users by groups is not supported; read the group instead",
        ));
    }
    let sub = match &path.sub {
        Some(s) => Some(attr.sub(s).ok_or_else(unknown)?),
        None => None,
    };
    Ok(Target { ext, attr, sub })
}

fn operand(
    target: &Target,
    op: CompareOp,
    lit: &Literal,
    path: &AttrPath,
) -> Result<Operand, ScimError> {
    let leaf = target.leaf();
    let bad = |why: &str| {
        Err(ScimError::invalid_filter(format!(
            "{path} {}: {why}",
            op.keyword()
        )))
    };
    let ordering = matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if let Literal::Null = lit {
        return if matches!(op, CompareOp::Eq | CompareOp::Ne) {
            Ok(Operand::Null)
        } else {
            bad("null only compares with eq or ne")
        };
    }
    match (leaf.ty, lit) {
        (Type::Boolean | Type::Binary, _) if ordering => {
            bad("booleans and binaries cannot be ordered")
        }
        (Type::Boolean, _) if substring => bad("booleans have no substrings"),
        (Type::Boolean, Literal::Bool(b)) => Ok(Operand::Bool(*b)),
        (Type::Boolean, Literal::String(s)) => parse_bool(s)
            .map(Operand::Bool)
            .map_or_else(|| bad("expected true or false"), Ok),
        (Type::Boolean, _) => bad("expected true or false"),
        (Type::Integer | Type::Decimal, Literal::Number(n)) if !substring => {
            Ok(Operand::Number(n.as_f64().unwrap_or(f64::NAN)))
        }
        (Type::Integer | Type::Decimal, _) => bad("expected a number"),
        (Type::DateTime, Literal::String(s)) if !substring => DateTime::parse_from_rfc3339(s)
            .map(Operand::Time)
            .or_else(|_| bad("expected an RFC 3339 date-time")),
        (Type::DateTime, _) => bad("expected an RFC 3339 date-time"),
        (_, Literal::String(s)) => Ok(Operand::Text(if leaf.case_exact {
            s.clone()
        } else if substring {
            crate::unicode::fold_untrimmed(s)
        } else {
            crate::unicode::fold(s)
        })),
        (_, _) => bad("expected a string"),
    }
}

/// Compiles `filter` for `scope`.
pub fn compile(scope: Scope, filter: &Filter) -> Result<Compiled, ScimError> {
    Ok(match filter {
        Filter::Compare(path, op, lit) => {
            let target = resolve(scope, path)?;
            let value = operand(&target, *op, lit, path)?;
            Compiled::Compare(target, *op, value)
        }
        Filter::Present(path) => Compiled::Present(resolve(scope, path)?),
        Filter::And(a, b) => {
            Compiled::And(Box::new(compile(scope, a)?), Box::new(compile(scope, b)?))
        }
        Filter::Or(a, b) => {
            Compiled::Or(Box::new(compile(scope, a)?), Box::new(compile(scope, b)?))
        }
        Filter::Not(x) => Compiled::Not(Box::new(compile(scope, x)?)),
        Filter::ValuePath(path, inner) => {
            let target = resolve(scope, path)?;
            if target.attr.ty != Type::Complex || target.sub.is_some() {
                return Err(ScimError::invalid_filter(format!(
                    "{path} has no sub-attributes to filter on"
                )));
            }
            Compiled::Any(
                target,
                Box::new(compile(Scope::Within(target.attr), inner)?),
            )
        }
    })
}

/// The values a target names in `doc`: for multi-valued attributes every element (or every
/// element's sub-attribute); for complex values without a sub-attribute, their `value`.
fn values<'a>(doc: &'a Value, t: &Target) -> Vec<&'a Value> {
    let container = match t.ext {
        Some(urn) => doc.get(urn),
        None => Some(doc),
    };
    let Some(v) = container.and_then(|c| c.get(t.attr.name)) else {
        return vec![];
    };
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let sub = t.sub.map(|s| s.name).or(if t.attr.ty == Type::Complex {
        Some("value")
    } else {
        None
    });
    match sub {
        Some(name) => items.into_iter().filter_map(|i| i.get(name)).collect(),
        None => items,
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare_one(v: &Value, leaf: &Attribute, op: CompareOp, want: &Operand) -> bool {
    let ord = |o: Ordering| match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        _ => false,
    };
    match (want, v) {
        (Operand::Text(w), Value::String(s)) => {
            let s = if leaf.case_exact {
                s.clone()
            } else if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                crate::unicode::fold_untrimmed(s)
            } else {
                crate::unicode::fold(s)
            };
            match op {
                CompareOp::Co => s.contains(w.as_str()),
                CompareOp::Sw => s.starts_with(w.as_str()),
                CompareOp::Ew => s.ends_with(w.as_str()),
                _ => ord(s.as_str().cmp(w.as_str())),
            }
        }
        (Operand::Number(w), Value::Number(n)) => {
            n.as_f64().and_then(|n| n.partial_cmp(w)).is_some_and(ord)
        }
        (Operand::Bool(w), Value::Bool(b)) => ord(b.cmp(w)),
        (Operand::Time(w), Value::String(s)) => {
            DateTime::parse_from_rfc3339(s).is_ok_and(|t| ord(t.cmp(w)))
        }
        _ => false,
    }
}

/// Whether `doc` matches the compiled filter.
pub fn matches(f: &Compiled, doc: &Value) -> bool {
    match f {
        Compiled::Compare(t, op, Operand::Null) => {
            let has = values(doc, t).into_iter().any(present);
            if *op == CompareOp::Eq { !has } else { has }
        }
        Compiled::Compare(t, CompareOp::Ne, want) => !values(doc, t)
            .into_iter()
            .any(|v| compare_one(v, t.leaf(), CompareOp::Eq, want)),
        Compiled::Compare(t, op, want) => values(doc, t)
            .into_iter()
            .any(|v| compare_one(v, t.leaf(), *op, want)),
        Compiled::Present(t) => values(doc, t).into_iter().any(present),
        Compiled::And(a, b) => matches(a, doc) && matches(b, doc),
        Compiled::Or(a, b) => matches(a, doc) || matches(b, doc),
        Compiled::Not(x) => !matches(x, doc),
        Compiled::Any(t, inner) => {
            let container = match t.ext {
                Some(urn) => doc.get(urn),
                None => Some(doc),
            };
            match container.and_then(|c| c.get(t.attr.name)) {
                Some(Value::Array(items)) => items.iter().any(|i| matches(inner, i)),
                Some(one @ Value::Object(_)) => matches(inner, one),
                _ => false,
            }
        }
    }
}
