//! Storage planning: the part of a filter that a key lookup can answer. `attr eq "value"` on
//! an attribute with a unique index (alone, or as one operand of `and`) becomes one lookup;
//! anything else scans the tenant's resources of that type. The whole filter is still
//! evaluated on what the lookup finds.

use super::eval::{Scope, resolve};
use super::{CompareOp, Filter, Literal};
use crate::scim::schema::ResourceType;

/// How to find the candidates of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Read at most one resource: the one whose indexed `attribute` equals `value`
    /// (`attribute` is canonical: `id`, `userName`, `externalId`, `employeeNumber`,
    /// `displayName`).
    Lookup {
        /// Canonical attribute name.
        attribute: &'static str,
        /// The value looked up.
        value: String,
    },
    /// Visit every resource of the type.
    Scan,
}

/// Plans `filter` for `rt`, given the attributes that have a unique index.
pub fn plan(rt: &'static ResourceType, filter: &Filter, indexed: &[&str]) -> Plan {
    match filter {
        Filter::Compare(path, CompareOp::Eq, Literal::String(value)) if path.sub.is_none() => {
            match resolve(Scope::Resource(rt), path) {
                Ok(t)
                    if t.sub.is_none()
                        && (t.attr.name == "id" || indexed.contains(&t.attr.name)) =>
                {
                    Plan::Lookup {
                        attribute: t.attr.name,
                        value: value.clone(),
                    }
                }
                _ => Plan::Scan,
            }
        }
        Filter::And(a, b) => match plan(rt, a, indexed) {
            Plan::Scan => plan(rt, b, indexed),
            lookup => lookup,
        },
        _ => Plan::Scan,
    }
}
