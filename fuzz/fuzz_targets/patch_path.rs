//! Fuzzes PATCH paths and bodies: `muster::scim::filter::parse_path` and path resolution on
//! arbitrary UTF-8, and, when the input is JSON, `muster::scim::patch::parse_request` followed
//! by applying the parsed operations to a user and validating the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster::scim::filter::parse_path;
use muster::scim::patch::{apply, parse_request, resolve};
use muster::scim::resource::normalize;
use muster::scim::schema::{resource_type, resource_types};
use serde_json::{Value, json};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada@acme.example",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [
            {"value": "ada@acme.example", "type": "work", "primary": true},
            {"value": "ada@home.example", "type": "home"}
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E1"}
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = parse_path(text)
        && let Some(filter) = &path.filter
    {
        let _ = filter.to_string();
    }
    for rt in resource_types() {
        let _ = resolve(rt, text);
    }
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Ok(ops) = parse_request(body) else {
        return;
    };
    let rt = resource_type("User");
    let Ok(mut doc) = normalize(rt, user()) else {
        return;
    };
    for op in &ops {
        if apply(rt, &mut doc, op).is_err() {
            return;
        }
    }
    let _ = normalize(rt, Value::Object(doc));
});
