//! Fuzzes the SCIM filter parser (`muster::scim::filter::parse_filter`) on arbitrary UTF-8,
//! then feeds every filter it accepts to what consumes filters: printing (which must parse
//! back to the same tree), storage planning and compiling plus evaluating against a user.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster::scim::filter::eval::{Scope, compile, matches};
use muster::scim::filter::parse_filter;
use muster::scim::filter::plan::plan;
use muster::scim::schema::resource_types;
use serde_json::{Value, json};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "ada@acme.example",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [
            {"value": "ada@acme.example", "type": "work", "primary": true},
            {"value": "ada@home.example", "type": "home"}
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E1"},
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"}
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };
    // The contract of `impl Display for Filter`: the printed form parses back to the same tree.
    let printed = filter.to_string();
    assert_eq!(
        parse_filter(&printed).as_ref(),
        Ok(&filter),
        "{text:?} printed as {printed:?}"
    );
    let doc = user();
    for rt in resource_types() {
        let _ = plan(rt, &filter, &["userName", "externalId", "displayName"]);
        if let Ok(compiled) = compile(Scope::Resource(rt), &filter) {
            let _ = matches(&compiled, &doc);
        }
    }
});
