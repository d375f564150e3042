//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5) with the `returned`
//! characteristics of RFC 7643 §7: `always` attributes survive any exclusion.

use serde_json::{Map, Value};

use super::ScimError;
use super::filter::eval::matches;
use super::patch::{Target, resolve};
use super::schema::{ResourceType, Returned};

/// Which attributes a response carries.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    only: Vec<Target>,
    excluded: Vec<Target>,
}

fn parse_list(rt: &'static ResourceType, raw: Option<&str>) -> Result<Vec<Target>, ScimError> {
    let mut out = Vec::new();
    for path in raw
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Some(t) = resolve(rt, path)? {
            out.push(t);
        } else if let Some(ext) = rt.extension(path) {
            for attr in &ext.attributes {
                out.push(Target {
                    filter: None,
                    ext: Some(ext.id),
                    attr,
                    sub: None,
                });
            }
        }
    }
    Ok(out)
}

impl Projection {
    /// Parses the comma-separated `attributes` and `excludedAttributes` values.
    pub fn parse(
        rt: &'static ResourceType,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimError> {
        Ok(Self {
            only: parse_list(rt, attributes)?,
            excluded: parse_list(rt, excluded)?,
        })
    }

    /// Whether the core attribute `name` will appear, so callers can skip reading it.
    pub fn includes(&self, name: &str) -> bool {
        self.includes_in(None, name)
    }

    /// Whether attribute `name` of extension `ext` (core when `None`) will appear.
    pub fn includes_in(&self, ext: Option<&str>, name: &str) -> bool {
        let is = |t: &Target| t.ext == ext && t.attr.name == name;
        if !self.only.is_empty() {
            self.only.iter().any(is)
        } else {
            !self.excluded.iter().any(|t| is(t) && t.sub.is_none())
        }
    }

    /// Applies the projection to a rendered resource.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(mut src) = resource else {
            return resource;
        };
        let mut out = if self.only.is_empty() {
            for t in self
                .excluded
                .iter()
                .filter(|t| t.attr.returned != Returned::Always)
            {
                remove(&mut src, t);
            }
            src
        } else {
            let mut out = Map::new();
            for key in ["schemas", "id"] {
                if let Some(v) = src.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            for t in &self.only {
                copy(&src, &mut out, t);
            }
            out
        };
        out.remove("password");
        Value::Object(out)
    }
}

fn container<'a>(doc: &'a Map<String, Value>, t: &Target) -> Option<&'a Map<String, Value>> {
    match t.ext {
        Some(urn) => doc.get(urn).and_then(Value::as_object),
        None => Some(doc),
    }
}

fn copy(src: &Map<String, Value>, out: &mut Map<String, Value>, t: &Target) {
    let Some(value) = container(src, t).and_then(|c| c.get(t.attr.name)) else {
        return;
    };
    let value = &only_matching(value, t);
    let dest = match t.ext {
        Some(urn) => out
            .entry(urn.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("extension entries are objects"),
        None => out,
    };
    let picked = match (t.sub, value) {
        (None, v) => v.clone(),
        (Some(sub), Value::Object(o)) => pick(o, sub.name, dest.get(t.attr.name)),
        (Some(sub), Value::Array(items)) => {
            let already = dest.get(t.attr.name).and_then(Value::as_array);
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, o)| {
                        let o = o.as_object()?;
                        Some(pick(o, sub.name, already.and_then(|a| a.get(i))))
                    })
                    .collect(),
            )
        }
        (Some(_), other) => other.clone(),
    };
    dest.insert(t.attr.name.to_owned(), picked);
}

/// The values of a multi-valued attribute that match the target's value filter, if any.
fn only_matching(value: &Value, t: &Target) -> Value {
    match (&t.filter, value) {
        (Some(f), Value::Array(items)) => Value::Array(
            items
                .iter()
                .filter(|i| matches(&f.compiled, i))
                .cloned()
                .collect(),
        ),
        _ => value.clone(),
    }
}

fn pick(o: &Map<String, Value>, sub: &str, already: Option<&Value>) -> Value {
    let mut m = already
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(v) = o.get(sub) {
        m.insert(sub.to_owned(), v.clone());
    }
    Value::Object(m)
}

fn remove(doc: &mut Map<String, Value>, t: &Target) {
    let container = match t.ext {
        Some(urn) => match doc.get_mut(urn).and_then(Value::as_object_mut) {
            Some(c) => c,
            None => return,
        },
        None => doc,
    };
    if let (Some(f), Some(Value::Array(items))) = (&t.filter, container.get_mut(t.attr.name)) {
        match t.sub {
            None => items.retain(|i| !matches(&f.compiled, i)),
            Some(sub) => items
                .iter_mut()
                .filter(|i| matches(&f.compiled, i))
                .filter_map(Value::as_object_mut)
                .for_each(|o| {
                    o.remove(sub.name);
                }),
        }
        return;
    }
    match t.sub {
        None => {
            container.remove(t.attr.name);
        }
        Some(sub) => match container.get_mut(t.attr.name) {
            Some(Value::Object(o)) => {
                o.remove(sub.name);
            }
            Some(Value::Array(items)) => {
                for o in items.iter_mut().filter_map(Value::as_object_mut) {
                    o.remove(sub.name);
                }
            }
            _ => {}
        },
    }
}
