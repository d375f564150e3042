//! Listing and searching resources: filter (planned into a key lookup when it can be),
//! `sortBy`/`sortOrder`, and paging by `startIndex`/`count` or by RFC 9865 cursor.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::ListParams;
use super::ScimError;
use super::StoredResource;
use super::filter::eval::{Compiled, Scope, Target, compile, resolve};
use super::filter::plan::{Plan, plan};
use super::filter::{parse_filter, parse_path};
use super::repo::Repo;
use super::schema::Type;
use crate::directory::records::{decode, pointed_id};
use crate::ids::TenantId;
use crate::store::{SkRange, page_after, query_all_merged};

/// One page of results.
#[derive(Debug, Default)]
pub struct SearchResult {
    /// How many resources match in all.
    pub total: u64,
    /// The page.
    pub items: Vec<StoredResource>,
    /// In cursor mode, the cursor of the next page when there is one.
    pub next_cursor: Option<String>,
    /// True when the client asked for cursor paging.
    pub cursor_mode: bool,
}

/// Where a cursor resumes: after a resource id (id order) or at an offset (sorted results).
enum Resume {
    AfterId(String),
    Offset(usize),
}

fn invalid_cursor() -> ScimError {
    ScimError::invalid_cursor("the cursor is malformed or was not issued for this query")
}

fn decode_cursor(raw: &str) -> Result<Option<Resume>, ScimError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_cursor)?;
    match text.split_once(':') {
        Some(("i", id)) if !id.is_empty() => Ok(Some(Resume::AfterId(id.to_owned()))),
        Some(("o", n)) => n
            .parse()
            .map(|n| Some(Resume::Offset(n)))
            .map_err(|_| invalid_cursor()),
        _ => Err(invalid_cursor()),
    }
}

fn encode_cursor(resume: &Resume) -> String {
    let text = match resume {
        Resume::AfterId(id) => format!("i:{id}"),
        Resume::Offset(n) => format!("o:{n}"),
    };
    URL_SAFE_NO_PAD.encode(text)
}

/// The first value of `t` in `doc` (the primary one of a multi-valued attribute).
fn sort_key<'a>(doc: &'a Value, t: &Target) -> Option<&'a Value> {
    let container = match t.ext {
        Some(urn) => doc.get(urn)?,
        None => doc,
    };
    let v = container.get(t.attr.name)?;
    let v = match v {
        Value::Array(items) => items
            .iter()
            .find(|i| i["primary"] == Value::Bool(true))
            .or(items.first())?,
        one => one,
    };
    match t
        .sub
        .map(|s| s.name)
        .or((t.attr.ty == Type::Complex).then_some("value"))
    {
        Some(sub) => v.get(sub),
        None => Some(v),
    }
}

fn sort_key_owned(doc: &Value, t: &Target) -> Option<Value> {
    sort_key(doc, t).cloned()
}

fn compare_values(a: &Value, b: &Value, case_exact: bool) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) if case_exact => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

impl Repo {
    fn compile(
        &self,
        params: &ListParams,
    ) -> Result<Option<(super::filter::Filter, Compiled)>, ScimError> {
        let Some(text) = &params.filter else {
            return Ok(None);
        };
        let filter =
            parse_filter(text).map_err(|e| ScimError::invalid_filter(format!("{e}: {text}")))?;
        let compiled = compile(Scope::Resource(self.rt), &filter)?;
        Ok(Some((filter, compiled)))
    }

    fn sort_target(&self, params: &ListParams) -> Result<Option<Target>, ScimError> {
        let Some(raw) = &params.sort_by else {
            return Ok(None);
        };
        let bad = || {
            ScimError::invalid_value(format!(
                "sortBy {raw:?} is not an attribute of {}",
                self.rt.name
            ))
        };
        let path = parse_path(raw).map_err(|_| bad())?;
        if path.filter.is_some() {
            return Err(bad());
        }
        resolve(Scope::Resource(self.rt), &path.attr)
            .map(Some)
            .map_err(|_| bad())
    }

    async fn candidates(
        &self,
        t: &TenantId,
        filter: Option<&super::filter::Filter>,
    ) -> Result<Vec<StoredResource>, ScimError> {
        let planned = filter.map_or(Plan::Scan, |f| plan(self.rt, f, self.kind.indexed));
        match planned {
            Plan::Lookup {
                attribute: "id",
                value,
            } => Ok(self.get(t, &value).await?.into_iter().collect()),
            Plan::Lookup { attribute, value } => {
                let Some(key) = (self.kind.index)(t, attribute, &value) else {
                    return Ok(vec![]);
                };
                let Some(item) = self.table.get(&key).await? else {
                    return Ok(vec![]);
                };
                match pointed_id(&item) {
                    Some(id) => Ok(self.get(t, &id).await?.into_iter().collect()),
                    None => Ok(vec![]),
                }
            }
            Plan::Scan => {
                let range = SkRange::Prefix(self.kind.prefix.to_owned());
                let shards = (self.kind.shards)(t);
                let items = query_all_merged(&*self.table, &shards, &range).await?;
                super::scan::within_budget(items.len())?;
                Ok(items.iter().map(decode).collect::<Result<_, _>>()?)
            }
        }
    }

    /// Lists the resources matching `params` (RFC 7644 §3.4.2).
    pub async fn search(
        &self,
        t: &TenantId,
        params: &ListParams,
    ) -> Result<SearchResult, ScimError> {
        let compiled = self.compile(params)?;
        let sort = self.sort_target(params)?;
        let resume = match &params.cursor {
            Some(c) => decode_cursor(c)?,
            None => None,
        };
        let cursor_mode = params.cursor.is_some();
        if compiled.is_none() && sort.is_none() {
            return self.plain_page(t, params, resume).await;
        }
        let _turn = super::scan::turn(t).await?;
        let found = self
            .candidates(t, compiled.as_ref().map(|(f, _)| f))
            .await?;
        let sort = sort.map(|target| super::scan::Sort {
            target,
            descending: params.descending,
        });
        let filter = compiled.map(|(_, c)| c);
        let found =
            super::scan::filter_and_sort(found, filter, sort, sort_key_owned, compare_values)
                .await?;
        let total = found.len() as u64;
        let start = match (&resume, cursor_mode) {
            (Some(Resume::Offset(n)), _) => *n,
            (Some(Resume::AfterId(id)), _) => {
                found.iter().position(|r| r.id > *id).unwrap_or(found.len())
            }
            (None, true) => 0,
            (None, false) => params.start_index - 1,
        };
        let items: Vec<StoredResource> = found.into_iter().skip(start).take(params.count).collect();
        let end = start + items.len();
        let next_cursor = (cursor_mode && (end as u64) < total && !items.is_empty()).then(|| {
            if params.sort_by.is_some() {
                encode_cursor(&Resume::Offset(end))
            } else {
                encode_cursor(&Resume::AfterId(
                    items.last().expect("non-empty").id.clone(),
                ))
            }
        });
        Ok(SearchResult {
            total,
            items,
            next_cursor,
            cursor_mode,
        })
    }

    /// An unfiltered, unsorted page read straight from the store in id order.
    async fn plain_page(
        &self,
        t: &TenantId,
        params: &ListParams,
        resume: Option<Resume>,
    ) -> Result<SearchResult, ScimError> {
        let total = self.count(t).await?;
        let cursor_mode = params.cursor.is_some();
        if !cursor_mode {
            let items = if params.count == 0 {
                vec![]
            } else {
                self.page(t, params.start_index, params.count).await?
            };
            return Ok(SearchResult {
                total,
                items,
                next_cursor: None,
                cursor_mode,
            });
        }
        let after = match resume {
            None => None,
            Some(Resume::AfterId(id)) => Some(id),
            Some(Resume::Offset(_)) => return Err(invalid_cursor()),
        };
        let prefix = self.kind.prefix;
        let shards = (self.kind.shards)(t);
        let after = after.map(|id| format!("{prefix}{id}"));
        let (found, next) = page_after(
            &*self.table,
            &shards,
            prefix,
            after.as_deref(),
            params.count,
        )
        .await?;
        let items = found.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let next_cursor =
            next.map(|sk| encode_cursor(&Resume::AfterId(sk[prefix.len()..].to_owned())));
        Ok(SearchResult {
            total,
            items,
            next_cursor,
            cursor_mode,
        })
    }
}
