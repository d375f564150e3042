//! The XML representation of SCIM resources, as the collaboration platform's SCIM pages
//! document it next to JSON (seed 003): `<scimUser>` with `<schemas><schema>…</schema>
//! </schemas>`, plural containers holding singular items, `<meta><location>`.
//!
//! JSON stays the model: an XML body is read into the JSON a handler expects
//! ([`read`]), and a JSON answer is written out as XML ([`write`]) when the client asked for
//! it ([`wants_xml`]). Two names are muster's choice, since a URN and `$ref` are no XML
//! names: an extension is `<extension schema="urn:…">` and `$ref` is `<ref>`.

mod read;
mod tree;
mod write;

use serde_json::Value;

pub use read::Body;
pub use tree::{Element, parse};
pub use write::to_xml;

use super::ScimError;

/// The `Content-Type` of XML answers.
pub const XML_MEDIA_TYPE: &str = "application/xml; charset=utf-8";

/// The element that holds an extension's attributes.
pub(crate) const EXTENSION_ELEMENT: &str = "extension";

/// The element name of `$ref`.
pub(crate) const REF_ELEMENT: &str = "ref";

/// Reads an XML request body into the JSON form of `body` (see [`parse`] for what is
/// refused).
pub fn read(bytes: &[u8], body: Body) -> Result<Value, ScimError> {
    read::to_json(&parse(bytes)?, body)
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// True for `application/xml`, `text/xml` and any `…+xml` media type (parameters ignored).
pub fn is_xml(media_type: &str) -> bool {
    let t = essence(media_type);
    t == "application/xml" || t == "text/xml" || t.ends_with("+xml")
}

fn is_json(media_type: &str) -> bool {
    let t = essence(media_type);
    t == "application/json" || t.ends_with("+json")
}

/// Whether the answer should be XML: when `Accept` ranks an XML type above every JSON
/// type (RFC 9110 §12.5.1 quality values), or, with no preference either way, when the
/// request itself was XML. JSON stays the default.
pub fn wants_xml(accept: Option<&str>, request_is_xml: bool) -> bool {
    let (mut xml, mut json) = (0.0f32, 0.0f32);
    for range in accept.unwrap_or("").split(',') {
        let q = range
            .split(';')
            .skip(1)
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if is_xml(range) {
            xml = xml.max(q);
        } else if is_json(range) {
            json = json.max(q);
        }
    }
    if xml == 0.0 && json == 0.0 {
        request_is_xml
    } else {
        xml > json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_decides_and_the_request_type_breaks_a_tie() {
        assert!(wants_xml(Some("application/xml"), false));
        assert!(wants_xml(Some("text/xml; charset=utf-8"), false));
        assert!(!wants_xml(Some("application/scim+json"), true));
        assert!(!wants_xml(
            Some("application/xml;q=0.5, application/json"),
            false
        ));
        assert!(wants_xml(
            Some("application/json;q=0.2, application/xml"),
            false
        ));
        assert!(wants_xml(None, true));
        assert!(wants_xml(Some("*/*"), true));
        assert!(!wants_xml(Some("*/*"), false));
        assert!(!wants_xml(None, false));
    }
}
