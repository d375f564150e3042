//! `cargo bench -p muster`: filter parse + evaluate and PATCH apply, timed over many
//! iterations with the standard clock (no harness dependency). Prints ns per operation.

use std::hint::black_box;
use std::time::Instant;

use muster::scim::filter::eval::{Scope, compile, matches};
use muster::scim::filter::parse_filter;
use muster::scim::patch::{apply, parse_request};
use muster::scim::resource::normalize;
use muster::scim::schema::resource_type;
use serde_json::{Value, json};

fn time(label: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!("{label:<48} {ns:>10.0} ns/op  ({:.0} ops/s)", 1e9 / ns);
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646", "userName": "bjensen@example.com", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
        "meta": {"created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-02T00:00:00Z", "resourceType": "User"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"},
    })
}

fn main() {
    let rt = resource_type("User");
    let doc = user();
    let simple = r#"userName eq "BJENSEN@example.com""#;
    let complex = r#"(emails[type eq "work" and value co "example.com"] or userName sw "x") and not (active eq false) and meta.lastModified gt "2025-12-31T00:00:00Z""#;
    time("filter parse: userName eq", 200_000, || {
        black_box(parse_filter(black_box(simple)).unwrap());
    });
    time(
        "filter parse: value path, and/or/not, dateTime",
        100_000,
        || {
            black_box(parse_filter(black_box(complex)).unwrap());
        },
    );
    let compiled_simple = compile(Scope::Resource(rt), &parse_filter(simple).unwrap()).unwrap();
    let compiled_complex = compile(Scope::Resource(rt), &parse_filter(complex).unwrap()).unwrap();
    time("filter evaluate: userName eq", 1_000_000, || {
        black_box(matches(&compiled_simple, black_box(&doc)));
    });
    time(
        "filter evaluate: value path, and/or/not, dateTime",
        500_000,
        || {
            black_box(matches(&compiled_complex, black_box(&doc)));
        },
    );
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "value": {"name.givenName": "Babs", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D"}},
    ]});
    let mut base = doc.as_object().unwrap().clone();
    base.remove("id");
    base.remove("meta");
    time(
        "PATCH parse + apply 3 Entra operations + validate",
        100_000,
        || {
            let ops = parse_request(black_box(body.clone())).unwrap();
            let mut d = base.clone();
            for op in &ops {
                apply(rt, &mut d, op).unwrap();
            }
            black_box(normalize(rt, Value::Object(d)).unwrap());
        },
    );
}
