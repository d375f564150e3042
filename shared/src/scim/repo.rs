//! SCIM's view of the directory's records: each resource endpoint pairs the records of one
//! kind with its SCIM resource type, for lists and filters ([`super::search`]) and for the
//! representation it answers.

use std::ops::Deref;

use serde_json::{Value, json};

use super::schema::ResourceType;
use crate::directory::{Record, Records};

/// The records of one kind, read as resources of type `rt`.
pub(crate) struct Repo {
    records: Records,
    /// The resource type the records are served as.
    pub(crate) rt: &'static ResourceType,
}

impl Repo {
    /// The records served as `rt`.
    pub(crate) fn new(records: Records, rt: &'static ResourceType) -> Self {
        Self { records, rt }
    }
}

impl Deref for Repo {
    type Target = Records;
    fn deref(&self) -> &Records {
        &self.records
    }
}

/// A record as answered under `base`: its document with `meta.location` (`endpoint` + id)
/// and `meta.version` (RFC 7644 §3.14).
pub fn render(record: &Record, base: &str, endpoint: &str) -> Value {
    render_owned(record.clone(), base, endpoint)
}

/// [`render`] of a record the caller is done with: its document is answered without a copy.
pub fn render_owned(record: Record, base: &str, endpoint: &str) -> Value {
    let mut doc = record.doc;
    if let Some(Value::Object(meta)) = doc.get_mut("meta") {
        meta.insert(
            "location".into(),
            json!(format!("{base}{endpoint}/{}", record.id)),
        );
        meta.insert("version".into(), json!(super::etag(record.version)));
    }
    Value::Object(doc)
}
