//! From a JSON response body to its XML representation: the root element is named after the
//! body's schema (`<scimUser>`, `<scimListResponse>`, `<scimError>`), a multi-valued
//! attribute becomes a container of singular items (`<phoneNumbers><phoneNumber>`), an
//! extension becomes `<extension schema="urn:…">`, and `$ref` is written `<ref>`.

use serde_json::{Map, Value};

use super::{EXTENSION_ELEMENT, REF_ELEMENT};

/// The XML document for `body`, with an XML declaration; nulls are left out.
pub fn to_xml(body: &Value) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    element(&mut out, &root_name(body), None, body);
    out
}

/// `scim` followed by the last segment of the first schema URN, such as `scimUser`.
fn root_name(body: &Value) -> String {
    let schema = body
        .get("schemas")
        .and_then(|s| s.get(0))
        .and_then(Value::as_str)
        .and_then(|urn| urn.rsplit(':').next())
        .filter(|last| is_name(last));
    format!("scim{}", schema.unwrap_or("Response"))
}

/// The element name of one item of the container `name`.
fn singular(name: &str) -> &str {
    if let Some(stem) = name.strip_suffix("sses") {
        &name[..stem.len() + 2]
    } else if let Some(stem) = name.strip_suffix('s') {
        stem
    } else {
        "item"
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn element(out: &mut String, name: &str, schema: Option<&str>, value: &Value) {
    if value.is_null() {
        return;
    }
    out.push('<');
    out.push_str(name);
    if let Some(urn) = schema {
        out.push_str(" schema=\"");
        text(out, urn);
        out.push('"');
    }
    out.push('>');
    match value {
        Value::Object(fields) => members(out, fields),
        Value::Array(items) => {
            for item in items {
                // The resources of a list are named as they are when read alone.
                let item_name = if name == "Resources" && item.get("schemas").is_some() {
                    root_name(item)
                } else {
                    singular(name).to_owned()
                };
                element(out, &item_name, None, item);
            }
        }
        Value::String(s) => text(out, s),
        other => out.push_str(&other.to_string()),
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn members(out: &mut String, fields: &Map<String, Value>) {
    for (key, value) in fields {
        if key.starts_with("urn:") {
            element(out, EXTENSION_ELEMENT, Some(key), value);
        } else if key == "$ref" {
            element(out, REF_ELEMENT, None, value);
        } else if is_name(key) {
            element(out, key, None, value);
        } else {
            // A key that is no XML name (none of muster's own) still reaches the client.
            let mut holder = Map::new();
            holder.insert("name".into(), Value::String(key.clone()));
            holder.insert("value".into(), value.clone());
            element(out, "attribute", None, &Value::Object(holder));
        }
    }
}

/// Escapes `s` as character data; characters XML 1.0 cannot carry at all (controls other
/// than tab and line ends) become U+FFFD.
fn text(out: &mut String, s: &str) {
    let allowed = |c: char| {
        (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    let cleaned: std::borrow::Cow<'_, str> = if s.chars().all(allowed) {
        s.into()
    } else {
        s.chars()
            .map(|c| if allowed(c) { c } else { '\u{fffd}' })
            .collect::<String>()
            .into()
    };
    out.push_str(&quick_xml::escape::escape(cleaned.as_ref()));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn containers_hold_singular_items_and_the_root_follows_the_schema() {
        let xml = to_xml(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "phoneNumbers": [{"value": "555"}],
            "addresses": [{"locality": "Paris"}],
            "nickName": null,
        }));
        assert!(xml.contains("<scimUser><schemas><schema>urn:ietf:params:scim:schemas:core:2.0:User</schema></schemas>"), "{xml}");
        assert!(xml.contains(
            "<phoneNumbers><phoneNumber><value>555</value></phoneNumber></phoneNumbers>"
        ));
        assert!(
            xml.contains("<addresses><address><locality>Paris</locality></address></addresses>")
        );
        assert!(!xml.contains("nickName"));
    }

    #[test]
    fn extensions_refs_and_special_characters_are_written_safely() {
        let xml = to_xml(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "members": [{"value": "1", "$ref": "https://h/Users/1"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D <1>"},
            "displayName": "a\u{0}b",
        }));
        assert!(xml.contains("<member><value>1</value><ref>https://h/Users/1</ref></member>"));
        assert!(xml.contains(r#"<extension schema="urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"><department>R&amp;D &lt;1&gt;</department></extension>"#), "{xml}");
        assert!(xml.contains("<displayName>a\u{fffd}b</displayName>"));
    }
}
