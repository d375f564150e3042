//! A small element tree read with quick-xml: names, attributes, text and children, with
//! document type declarations and entity references other than XML's five refused.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::scim::ScimError;

/// How deep elements may nest; SCIM resources need five levels, PATCH operations seven.
const MAX_DEPTH: usize = 24;

/// One element: its local name (any namespace prefix dropped), its attributes, its text and
/// its child elements in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// The local name, such as `userName` for `<userName>` or `<scim:userName>`.
    pub name: String,
    /// Attributes other than namespace declarations, by local name.
    pub attributes: Vec<(String, String)>,
    /// The concatenated character data directly inside the element.
    pub text: String,
    /// Child elements.
    pub children: Vec<Element>,
}

impl Element {
    /// The value of the attribute called `name` (local name, exact case).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the element carries `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        matches!(self.attribute("nil"), Some("true" | "1"))
    }
}

fn syntax(detail: impl std::fmt::Display) -> ScimError {
    ScimError::invalid_syntax(format!("the body is not well-formed XML: {detail}"))
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

fn open(start: &BytesStart<'_>) -> Result<Element, ScimError> {
    let mut element = Element {
        name: local(start.name().as_ref()),
        ..Element::default()
    };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(syntax)?;
        let key = attribute.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(syntax)?;
        element.attributes.push((local(key), value.into_owned()));
    }
    Ok(element)
}

/// The character an entity reference stands for: one of XML's five predefined entities or a
/// character reference; anything else would need a DTD, which is refused.
fn entity(name: &str) -> Result<char, ScimError> {
    Ok(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ if name.starts_with('#') => {
            let bytes = quick_xml::events::BytesRef::new(name);
            bytes.resolve_char_ref().map_err(syntax)?.ok_or_else(|| {
                ScimError::invalid_syntax(format!("&{name}; is not a character reference"))
            })?
        }
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "the entity reference &{name}; is refused: only XML's predefined entities and \
                 character references are read"
            )));
        }
    })
}

/// Parses a whole document into its root element.
///
/// Refused with 400 `invalidSyntax`: a document type declaration (so no entity can be
/// defined or expanded), entity references other than `&lt; &gt; &amp; &apos; &quot;` and
/// character references, mismatched tags, nesting deeper than 24, text beside the root, and
/// more than one root.
pub fn parse(bytes: &[u8]) -> Result<Element, ScimError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ScimError::invalid_syntax("the XML body is not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(syntax)?;
        match event {
            Event::DocType(_) => {
                return Err(ScimError::invalid_syntax(
                    "a document type declaration (<!DOCTYPE …>) is refused",
                ));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(format!("elements nest deeper than {MAX_DEPTH}")));
                }
                if root.is_some() && stack.is_empty() {
                    return Err(syntax("more than one root element"));
                }
                stack.push(open(&start)?);
            }
            Event::Empty(start) => {
                let element = open(&start)?;
                close(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| syntax("an unmatched end tag"))?;
                close(&mut stack, &mut root, element)?;
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(c) => push_text(&mut stack, &c.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = entity(&r.xml10_content())?;
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(syntax("the document ends inside an element"));
    }
    root.ok_or_else(|| syntax("there is no root element"))
}

fn close(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), ScimError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err(syntax("more than one root element")),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), ScimError> {
    match stack.last_mut() {
        Some(parent) => parent.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(syntax("text outside the root element")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_are_read_with_prefixes_dropped() {
        let root = parse(
            br#"<?xml version="1.0"?><s:scimUser xmlns:s="x" xmlns:xsi="y"><userName>a&amp;b&#x41;</userName><nick xsi:nil="true"/></s:scimUser>"#,
        )
        .unwrap();
        assert_eq!(root.name, "scimUser");
        assert_eq!(root.children[0].text, "a&bA");
        assert!(root.children[1].is_nil());
        assert!(root.attributes.is_empty());
    }

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_defined() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><scimUser><userName>&lol2;</userName></scimUser>"#;
        let e = parse(bomb).unwrap_err();
        assert!(e.detail.contains("document type"), "{e}");
    }

    #[test]
    fn an_undefined_entity_is_refused() {
        let e = parse(b"<a>&xxe;</a>").unwrap_err();
        assert!(e.detail.contains("&xxe;"), "{e}");
    }

    #[test]
    fn malformed_documents_are_refused() {
        for doc in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"",
            b"<a/><b/>",
            b"text<a/>",
            b"<a>&#0;</a>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
