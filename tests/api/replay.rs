//! Replays the recorded identity-provider request sequences of `tests/fixtures/idp/` through
//! the Router. Each step names the status it expects and a subset of the body; `{{name}}`
//! stands for a value captured by an earlier step, `{{any}}` for any present value.

use std::collections::HashMap;
use std::path::Path;

use http::Method;
use muster::scim::schema::resource_type;
use muster::scim::xml;
use serde_json::Value;

use crate::helpers::TestApp;

fn fill(text: &str, vars: &HashMap<String, String>) -> String {
    vars.iter().fold(text.to_owned(), |t, (k, v)| {
        t.replace(&format!("{{{{{k}}}}}"), v)
    })
}

fn fill_json(v: &Value, vars: &HashMap<String, String>) -> Value {
    serde_json::from_str(&fill(&v.to_string(), vars)).unwrap()
}

/// Percent-encodes what a URI query cannot hold (spaces, quotes), as an HTTP client would.
fn encode_query(path: &str) -> String {
    match path.split_once('?') {
        None => path.to_owned(),
        Some((p, q)) => {
            let q: String = q
                .bytes()
                .map(|b| match b {
                    b' ' => "%20".to_owned(),
                    b'"' => "%22".to_owned(),
                    b'@' => "%40".to_owned(),
                    _ => (b as char).to_string(),
                })
                .collect();
            format!("{p}?{q}")
        }
    }
}

/// Whether `actual` holds everything `expected` states (arrays element by element).
fn contains(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(s), a) if s == "{{any}}" => {
            if a.is_null() {
                Err(format!("{at}: expected a value"))
            } else {
                Ok(())
            }
        }
        (Value::Object(e), Value::Object(a)) => e.iter().try_for_each(|(k, v)| {
            contains(v, a.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}"))
        }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .try_for_each(|(i, (e, a))| contains(e, a, &format!("{at}[{i}]"))),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{at}: expected {e}, got {a}")),
    }
}

/// The JSON form of an XML answer, typed as a resource of the endpoint `path` names.
fn xml_as_json(path: &str, body: &Value) -> Value {
    let Some(text) = body.as_str() else {
        return body.clone();
    };
    let rt = if path.starts_with("/Groups") {
        "Group"
    } else {
        "User"
    };
    xml::read(text.as_bytes(), xml::Body::Resource(resource_type(rt)))
        .unwrap_or_else(|e| panic!("{path}: the answer is not SCIM XML: {e}\n{text}"))
}

async fn replay(file: &Path) {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let app = TestApp::new().await;
    let mut vars = HashMap::new();
    for step in fixture["steps"].as_array().unwrap() {
        let name = format!("{} / {}", file.display(), step["name"].as_str().unwrap());
        let method = Method::from_bytes(step["method"].as_str().unwrap().as_bytes()).unwrap();
        let path = encode_query(&fill(step["path"].as_str().unwrap(), &vars));
        let a = match step.get("xml") {
            // An XML exchange (`"xml": null` for one without a body): the answer is read
            // back with muster's XML reader.
            Some(xml) => {
                let xml = xml.as_str().map(|x| fill(x, &vars));
                let mut a = app
                    .xml(method, &path, xml.as_deref(), "application/xml")
                    .await;
                a.body = xml_as_json(&path, &a.body);
                a
            }
            None => {
                let body = step.get("body").map(|b| fill_json(b, &vars));
                app.call(method, &path, body).await
            }
        };
        let expect = &step["expect"];
        assert_eq!(
            a.status.as_u16() as u64,
            expect["status"].as_u64().unwrap(),
            "{name}: {}",
            a.body
        );
        if let Some(shape) = expect.get("body")
            && let Err(e) = contains(&fill_json(shape, &vars), &a.body, "body")
        {
            panic!("{name}: {e}\nbody: {}", a.body);
        }
        for absent in expect["absent"].as_array().into_iter().flatten() {
            assert!(
                a.body.get(absent.as_str().unwrap()).is_none(),
                "{name}: {absent} must be absent"
            );
        }
        for (var, field) in step["capture"].as_object().into_iter().flatten() {
            let value = a.body[field.as_str().unwrap()].as_str().unwrap().to_owned();
            vars.insert(var.clone(), value);
        }
    }
}

async fn replay_dir(idp: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/idp")
        .join(idp);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    for file in files {
        replay(&file).await;
    }
}

#[tokio::test]
async fn entra_id_request_sequences_replay_unmodified() {
    replay_dir("entra").await;
}

#[tokio::test]
async fn okta_request_sequences_replay_unmodified() {
    replay_dir("okta").await;
}

#[tokio::test]
async fn the_seed_documents_request_sequences_replay_unmodified() {
    replay_dir("seeds").await;
}
