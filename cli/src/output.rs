//! How commands print: one JSON value with `--json`, else aligned `key: value` lines.

use serde_json::Value;

/// Prints `value` as JSON, or as readable lines.
pub fn print(value: &Value, json: bool) {
    if json {
        println!("{value}");
        return;
    }
    match value {
        Value::Array(items) if items.is_empty() => println!("(none)"),
        Value::Array(items) => {
            for item in items {
                println!("{}", one_line(item));
            }
        }
        Value::Object(fields) => {
            let width = fields.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in fields {
                println!("{k:<width$}  {}", text(v));
            }
        }
        other => println!("{}", text(other)),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn one_line(v: &Value) -> String {
    match v {
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect::<Vec<_>>()
            .join("  "),
        other => text(other),
    }
}
