//! Bulk (RFC 7644 §3.7): many operations in one request, with `bulkId` references between
//! them, `failOnErrors`, and circular-reference detection.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::service::ResourceService;
use super::{Preconditions, ScimError, etag};
use crate::ids::TenantId;

/// The BulkRequest message URN.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The BulkResponse message URN.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// The most operations one Bulk request may carry (advertised as `bulk.maxOperations`).
pub const MAX_BULK_OPERATIONS: usize = 1000;

/// The resource endpoints a Bulk operation may address.
pub struct Endpoints<'a> {
    /// `/Users`.
    pub users: &'a dyn ResourceService,
    /// `/Groups`.
    pub groups: &'a dyn ResourceService,
}

struct Operation {
    method: String,
    path: String,
    bulk_id: Option<String>,
    data: Option<Value>,
    version: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Pending,
    Running,
    Done,
}

fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn parse_operation(raw: &Value) -> Result<Operation, ScimError> {
    let Value::Object(o) = raw else {
        return Err(ScimError::invalid_syntax(
            "each Bulk operation must be an object",
        ));
    };
    let text = |name| field(o, name).and_then(Value::as_str).map(str::to_owned);
    let method = text("method")
        .map(|m| m.to_ascii_uppercase())
        .filter(|m| ["POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()));
    let (Some(method), Some(path)) = (method, text("path")) else {
        return Err(ScimError::invalid_syntax(
            "a Bulk operation needs a method (POST, PUT, PATCH, DELETE) and a path",
        ));
    };
    let bulk_id = text("bulkId");
    if method == "POST" && bulk_id.is_none() {
        return Err(ScimError::invalid_syntax(
            "a Bulk POST needs a bulkId (RFC 7644 §3.7)",
        ));
    }
    Ok(Operation {
        method,
        path,
        bulk_id,
        data: field(o, "data").cloned(),
        version: text("version"),
    })
}

/// The bulkIds a value refers to (`"bulkId:…"` strings anywhere inside).
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                out.push(id.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, out)),
        Value::Object(o) => o.values().for_each(|i| references(i, out)),
        _ => {}
    }
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, ids)),
        Value::Object(o) => o.values_mut().for_each(|i| substitute(i, ids)),
        _ => {}
    }
}

fn error_result(op: Option<&Operation>, e: &ScimError) -> Value {
    let mut r = json!({"status": e.status.as_str(), "response": e.body()});
    if let Some(op) = op {
        r["method"] = json!(op.method);
        if let Some(b) = &op.bulk_id {
            r["bulkId"] = json!(b);
        }
    }
    r
}

/// Runs a BulkRequest for tenant `t` and returns the BulkResponse.
pub async fn run(
    endpoints: Endpoints<'_>,
    t: &TenantId,
    base: &str,
    body: Value,
) -> Result<Value, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "the body must be a BulkRequest object",
        ));
    };
    let listed = field(&body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(BULK_REQUEST)));
    if !listed {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {BULK_REQUEST}"
        )));
    }
    let raw_ops = field(&body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be an array"))?;
    if raw_ops.len() > MAX_BULK_OPERATIONS {
        return Err(ScimError::payload_too_large(format!(
            "a Bulk request carries at most {MAX_BULK_OPERATIONS} operations"
        )));
    }
    let fail_on_errors =
        match field(&body, "failOnErrors") {
            None | Some(Value::Null) => usize::MAX,
            Some(v) => v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ScimError::invalid_value("failOnErrors must be a positive integer")
            })? as usize,
        };
    let ops: Vec<Result<Operation, ScimError>> = raw_ops.iter().map(parse_operation).collect();
    let mut by_bulk_id = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Ok(Operation {
            bulk_id: Some(b), ..
        }) = op
        {
            by_bulk_id.entry(b.clone()).or_insert(i);
        }
    }
    let mut run = Runner {
        endpoints,
        t,
        base,
        ops,
        by_bulk_id,
        state: vec![],
        results: vec![],
        created: HashMap::new(),
        errors: 0,
    };
    run.state = vec![State::Pending; run.ops.len()];
    run.results = vec![None; run.ops.len()];
    for i in 0..run.ops.len() {
        if run.errors >= fail_on_errors {
            break;
        }
        run.resolve(i, fail_on_errors).await;
    }
    let results: Vec<Value> = run.results.into_iter().flatten().collect();
    Ok(json!({"schemas": [BULK_RESPONSE], "Operations": results}))
}

struct Runner<'a> {
    endpoints: Endpoints<'a>,
    t: &'a TenantId,
    base: &'a str,
    ops: Vec<Result<Operation, ScimError>>,
    by_bulk_id: HashMap<String, usize>,
    state: Vec<State>,
    results: Vec<Option<Value>>,
    created: HashMap<String, String>,
    errors: usize,
}

impl Runner<'_> {
    fn refs(&self, i: usize) -> Vec<usize> {
        let Ok(op) = &self.ops[i] else { return vec![] };
        let mut names = Vec::new();
        references(
            &Value::String(op.path.rsplit('/').next().unwrap_or("").to_owned()),
            &mut names,
        );
        if let Some(d) = &op.data {
            references(d, &mut names);
        }
        names
            .iter()
            .filter_map(|n| self.by_bulk_id.get(n).copied())
            .collect()
    }

    fn finish(&mut self, i: usize, result: Value) {
        if result["status"]
            .as_str()
            .is_some_and(|s| !s.starts_with('2'))
        {
            self.errors += 1;
        }
        self.results[i] = Some(result);
        self.state[i] = State::Done;
    }

    /// Runs operation `i` after the operations it references, depth first without recursion.
    async fn resolve(&mut self, i: usize, fail_on_errors: usize) {
        let mut stack = vec![i];
        while let Some(&top) = stack.last() {
            if self.state[top] == State::Done {
                stack.pop();
                continue;
            }
            self.state[top] = State::Running;
            let deps = self.refs(top);
            if let Some(&next) = deps.iter().find(|&&d| self.state[d] == State::Pending) {
                stack.push(next);
                continue;
            }
            let result = if deps
                .iter()
                .any(|&d| self.state[d] == State::Running && d != top)
                || deps.contains(&top)
            {
                let e = ScimError::conflict("circular bulkId references cannot be resolved");
                error_result(self.ops[top].as_ref().ok(), &e)
            } else if self.errors >= fail_on_errors {
                stack.pop();
                self.state[top] = State::Pending;
                continue;
            } else {
                self.execute(top).await
            };
            self.finish(top, result);
            stack.pop();
        }
    }

    async fn execute(&mut self, i: usize) -> Value {
        let op = match &self.ops[i] {
            Ok(op) => op,
            Err(e) => return error_result(None, e),
        };
        let mut path = op.path.clone();
        let mut data = op.data.clone().unwrap_or(Value::Null);
        let mut missing = Vec::new();
        references(&data, &mut missing);
        references(
            &Value::String(path.rsplit('/').next().unwrap_or("").to_owned()),
            &mut missing,
        );
        if let Some(m) = missing.iter().find(|m| !self.created.contains_key(*m)) {
            let e = ScimError::conflict(format!("bulkId {m:?} did not create a resource"));
            return error_result(Some(op), &e);
        }
        substitute(&mut data, &self.created);
        if let Some((head, last)) = path.rsplit_once('/')
            && let Some(id) = last
                .strip_prefix("bulkId:")
                .and_then(|b| self.created.get(b))
        {
            path = format!("{head}/{id}");
        }
        let outcome = self.dispatch(op, &path, data).await;
        let (method, bulk_id) = (op.method.clone(), op.bulk_id.clone());
        match outcome {
            Ok((status, endpoint, id, version)) => {
                if let (Some(b), Some(id)) = (&bulk_id, &id) {
                    self.created.insert(b.clone(), id.clone());
                }
                let mut r = json!({"method": method, "status": status.to_string()});
                if let Some(b) = &bulk_id {
                    r["bulkId"] = json!(b);
                }
                if let Some(id) = id {
                    r["location"] = json!(format!("{}{endpoint}/{id}", self.base));
                }
                if let Some(v) = version {
                    r["version"] = json!(etag(v));
                }
                r
            }
            Err(e) => {
                let mut r = error_result(None, &e);
                r["method"] = json!(method);
                if let Some(b) = bulk_id {
                    r["bulkId"] = json!(b);
                }
                r
            }
        }
    }

    async fn dispatch(
        &self,
        op: &Operation,
        path: &str,
        data: Value,
    ) -> Result<(u16, &'static str, Option<String>, Option<u64>), ScimError> {
        let trimmed = path.trim_start_matches('/');
        let (endpoint, id) = match trimmed.split_once('/') {
            Some((e, id)) => (e, Some(id)),
            None => (trimmed, None),
        };
        let svc = match endpoint {
            "Users" => self.endpoints.users,
            "Groups" => self.endpoints.groups,
            _ => return Err(ScimError::invalid_path(format!("no endpoint {path:?}"))),
        };
        let pre = Preconditions {
            if_match: op.version.clone(),
            if_none_match: None,
        };
        match (op.method.as_str(), id) {
            ("POST", None) => {
                let r = svc.create(self.t, data).await?;
                Ok((
                    201,
                    svc.resource_type().endpoint,
                    Some(r.id),
                    Some(r.version),
                ))
            }
            ("PUT", Some(id)) => {
                let r = svc.replace(self.t, id, data, &pre).await?;
                Ok((
                    200,
                    svc.resource_type().endpoint,
                    Some(r.id),
                    Some(r.version),
                ))
            }
            ("PATCH", Some(id)) => {
                let r = svc.patch(self.t, id, data, &pre).await?;
                let status = if svc.patch_returns_resource() {
                    200
                } else {
                    204
                };
                Ok((
                    status,
                    svc.resource_type().endpoint,
                    Some(r.id),
                    Some(r.version),
                ))
            }
            ("DELETE", Some(id)) => {
                svc.delete(self.t, id, &pre).await?;
                Ok((204, svc.resource_type().endpoint, Some(id.to_owned()), None))
            }
            _ => Err(ScimError::invalid_path(format!(
                "{} is not allowed on {path:?}",
                op.method
            ))),
        }
    }
}
