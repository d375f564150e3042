//! Records of the directory (users, groups) with their unique indexes, written once for both.
//!
//! A record lives at its own key; each unique attribute value has an index item written in the
//! same transaction, so two creates racing for one userName end in one success and one
//! [`DirectoryError::Uniqueness`]. The stored document is the resource's SCIM representation
//! (RFC 7643 §4): the directory reads the attributes it needs from it and keeps the rest as is.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::DirectoryError;
use crate::ids::{TenantId, now_rfc3339, random_id};
use crate::store::{Condition, Item, Key, SkRange, StoreError, Table, Write};

/// A record's body: `schemas`, `externalId`, attributes and one object per extension URN.
pub type Document = Map<String, Value>;

/// One unique value of a resource: its index key and the attribute it comes from.
pub struct UniqueValue {
    /// The index item's key.
    pub key: Key,
    /// The attribute's name, for error messages.
    pub attribute: &'static str,
}

/// What distinguishes one kind of record in storage.
#[derive(Clone, Copy)]
pub struct Kind {
    /// The kind's name, for messages (`User`, `Group`).
    pub name: &'static str,
    /// The key of a resource.
    pub key: fn(&TenantId, &str) -> Key,
    /// The sort-key prefix of resources of this kind.
    pub prefix: &'static str,
    /// The partitions (shards) holding the resources of this kind.
    pub shards: fn(&TenantId) -> Vec<String>,
    /// How the resources are counted.
    pub counted: Counted,
    /// The unique values of a document.
    pub unique: fn(&TenantId, &Document) -> Vec<UniqueValue>,
    /// Attributes (canonical names) with a unique index that a filter lookup may use.
    pub indexed: &'static [&'static str],
    /// The index key of `value` for one of the `indexed` attributes.
    pub index: fn(&TenantId, &str, &str) -> Option<Key>,
    /// The intents a change of the resource `id` from `old` to `new` (`None`: deleted) must
    /// record in its own transaction, so the directory derives what it implies.
    pub intents: fn(&TenantId, &str, &Document, Option<&Document>) -> Vec<Write>,
}

/// How a kind's resources are counted (`totalResults`).
#[derive(Clone, Copy)]
pub enum Counted {
    /// By maintained counters: each create adds 1 to `one(id)` and each delete takes 1 from
    /// it, in the record's own transaction; the count is the sum of `all`, read in one batch.
    Counters {
        /// The counter a resource `id` counts on.
        one: fn(&TenantId, &str) -> Key,
        /// Every counter of the tenant.
        all: fn(&TenantId) -> Vec<Key>,
    },
    /// By counting the index items of the required unique name, in `shards` (for small
    /// collections written outside [`Records`], such as communities).
    Index {
        /// The sort-key prefix of the index.
        prefix: &'static str,
        /// The partitions holding it.
        shards: fn(&TenantId) -> Vec<String>,
    },
}

impl Counted {
    /// The write that counts resource `id` `delta` more times, if counters are kept.
    pub(crate) fn add(&self, t: &TenantId, id: &str, delta: i64) -> Option<Write> {
        match self {
            Counted::Counters { one, .. } => Some(Write::Add {
                key: one(t, id),
                delta,
            }),
            Counted::Index { .. } => None,
        }
    }
}

/// For kinds whose changes imply nothing to derive.
pub fn no_intents(_: &TenantId, _: &str, _: &Document, _: Option<&Document>) -> Vec<Write> {
    Vec::new()
}

/// A record as stored: its document (with `id` and `meta`: `resourceType`, `created`,
/// `lastModified`) and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id.
    pub id: String,
    /// Monotonic version (an ETag on the wire).
    pub version: u64,
    /// The document, including `id` and `meta`.
    pub doc: Document,
}

impl Record {
    /// The document without `id` and `meta`, as a client would send it.
    pub fn body(&self) -> Document {
        let mut d = self.doc.clone();
        d.remove("id");
        d.remove("meta");
        d
    }
}

/// The records of one [`Kind`].
#[derive(Clone)]
pub struct Records {
    pub(crate) table: Arc<dyn Table>,
    pub(crate) kind: Kind,
}

/// An index item at `key` pointing to the record `id`.
pub(crate) fn index_item(key: Key, id: &str) -> Item {
    Item::new(
        key,
        1,
        serde_json::to_vec(&json!({ "id": id })).expect("json"),
    )
}

/// The id an index item (unique value, restore key) points to; `None` for a body that names
/// none.
pub(crate) fn pointed_id(item: &Item) -> Option<String> {
    /// Only the `id` member, borrowed where the JSON has no escapes: an import's check reads
    /// two index items per row, and a whole JSON value per item was most of that read's cost.
    #[derive(serde::Deserialize)]
    struct Pointer<'a> {
        #[serde(borrow)]
        id: Option<std::borrow::Cow<'a, str>>,
    }
    if item.body.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<Pointer<'_>>(&item.body)
        .ok()
        .and_then(|p| p.id.map(std::borrow::Cow::into_owned))
}

/// The storage failure of a record's item whose body does not read.
pub(crate) fn corrupt(item: &Item, e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt record at {:?}: {e}", item.key))
}

/// The record an item holds; a body that is not a JSON object is a storage failure.
pub(crate) fn decode(item: &Item) -> Result<Record, StoreError> {
    let doc: Map<String, Value> =
        serde_json::from_slice(&item.body).map_err(|e| corrupt(item, e))?;
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Record {
        id,
        version: item.version,
        doc,
    })
}

impl Records {
    /// A repository of `kind` resources over `table`.
    pub fn new(table: Arc<dyn Table>, kind: Kind) -> Self {
        Self { table, kind }
    }

    /// The table, for the services that keep more than the resource itself.
    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    fn uniqueness_error(
        &self,
        writes: &[Write],
        index: usize,
        labels: &[&'static str],
    ) -> DirectoryError {
        match labels.get(index) {
            Some(attr) if index < writes.len() => DirectoryError::Uniqueness(format!(
                "another {} already has this {attr}",
                self.kind.name
            )),
            _ => DirectoryError::Uniqueness(format!("the {} already exists", self.kind.name)),
        }
    }

    /// Creates a resource from a normalized body; `id` and `meta` are assigned here.
    pub async fn create(&self, t: &TenantId, body: Document) -> Result<Record, DirectoryError> {
        self.create_with(t, body, |_| Vec::new()).await
    }

    /// Creates a resource and, in the same transaction, the writes `extra` makes for its id
    /// (each of which must also hold, or nothing is written).
    pub(crate) async fn create_with(
        &self,
        t: &TenantId,
        body: Document,
        extra: impl Fn(&str) -> Vec<Write>,
    ) -> Result<Record, DirectoryError> {
        let (stored, mut writes, labels) = self.creation(t, body);
        writes.extend(extra(&stored.id));
        writes.extend(self.kind.counted.add(t, &stored.id, 1));
        match self.table.transact(writes.clone()).await {
            Ok(()) => Ok(stored),
            Err(StoreError::ConditionFailed { index }) => {
                Err(self.uniqueness_error(&writes, index, &labels))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The document of record `id`: its `body` with `id` and `meta` (its kind, `created` and
    /// `lastModified`).
    pub(crate) fn stamped(
        &self,
        id: &str,
        body: Document,
        created: &str,
        modified: &str,
    ) -> Document {
        // In place: `id` first, `meta` last, the body's members between in their order (a
        // new map would hash every member's name again, a tenth of an import's creates).
        let mut doc = body;
        doc.shift_insert(0, "id".into(), json!(id));
        doc.shift_remove("meta");
        doc.insert(
            "meta".into(),
            json!({"resourceType": self.kind.name, "created": created, "lastModified": modified}),
        );
        doc
    }

    /// A new resource made of `body` and the writes that store it with its unique indexes,
    /// each conditional on its key being free (with the attribute each write stands for).
    pub(crate) fn creation(
        &self,
        t: &TenantId,
        body: Document,
    ) -> (Record, Vec<Write>, Vec<&'static str>) {
        let id = random_id();
        let now = now_rfc3339();
        let doc = self.stamped(&id, body, &now, &now);
        let stored = Record {
            id: id.clone(),
            version: 1,
            doc,
        };
        let body = serde_json::to_vec(&stored.doc).expect("json");
        let mut writes = vec![Write::Put {
            item: Item::new((self.kind.key)(t, &id), 1, body),
            condition: Condition::NotExists,
        }];
        let mut labels = vec!["id"];
        for u in (self.kind.unique)(t, &stored.doc) {
            writes.push(Write::Put {
                item: index_item(u.key, &id),
                condition: Condition::NotExists,
            });
            labels.push(u.attribute);
        }
        (stored, writes, labels)
    }

    /// Reads a resource; `Ok(None)` when absent.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<Option<Record>, StoreError> {
        match self.table.get(&(self.kind.key)(t, id)).await? {
            Some(item) => Ok(Some(decode(&item)?)),
            None => Ok(None),
        }
    }

    /// Replaces the body of `old` with `body`, moving unique indexes that changed. Fails with
    /// [`DirectoryError::Stale`] when `old` is no longer the stored version.
    pub async fn save(
        &self,
        t: &TenantId,
        old: &Record,
        body: Document,
    ) -> Result<Record, DirectoryError> {
        let mut doc = Map::new();
        doc.insert("id".into(), json!(old.id));
        doc.extend(body);
        let mut meta = old.doc.get("meta").cloned().unwrap_or_else(|| json!({}));
        meta["lastModified"] = json!(now_rfc3339());
        doc.insert("meta".into(), meta);
        let new = Record {
            id: old.id.clone(),
            version: old.version + 1,
            doc,
        };
        let body = serde_json::to_vec(&new.doc).expect("json");
        let mut writes = vec![Write::Put {
            item: Item::new((self.kind.key)(t, &old.id), new.version, body),
            condition: Condition::VersionIs(old.version),
        }];
        let mut labels = vec!["id"];
        for w in (self.kind.intents)(t, &old.id, &old.doc, Some(&new.doc)) {
            writes.push(w);
            labels.push("id");
        }
        let before = (self.kind.unique)(t, &old.doc);
        let after = (self.kind.unique)(t, &new.doc);
        for u in &before {
            if !after.iter().any(|a| a.key == u.key) {
                writes.push(Write::Delete {
                    key: u.key.clone(),
                    condition: Condition::Always,
                });
                labels.push(u.attribute);
            }
        }
        for u in after {
            if !before.iter().any(|b| b.key == u.key) {
                writes.push(Write::Put {
                    item: index_item(u.key, &old.id),
                    condition: Condition::NotExists,
                });
                labels.push(u.attribute);
            }
        }
        match self.table.transact(writes.clone()).await {
            Ok(()) => Ok(new),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(DirectoryError::Stale),
            Err(StoreError::ConditionFailed { index }) => {
                Err(self.uniqueness_error(&writes, index, &labels))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes `old` and its indexes; [`DirectoryError::Stale`] when it changed meanwhile.
    pub async fn delete(&self, t: &TenantId, old: &Record) -> Result<(), DirectoryError> {
        let mut writes = vec![Write::Delete {
            key: (self.kind.key)(t, &old.id),
            condition: Condition::VersionIs(old.version),
        }];
        writes.extend((self.kind.intents)(t, &old.id, &old.doc, None));
        writes.extend(self.kind.counted.add(t, &old.id, -1));
        for u in (self.kind.unique)(t, &old.doc) {
            writes.push(Write::Delete {
                key: u.key,
                condition: Condition::Always,
            });
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(DirectoryError::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// How many resources of this kind the tenant has: one batch read of its counters.
    pub async fn count(&self, t: &TenantId) -> Result<u64, StoreError> {
        match self.kind.counted {
            Counted::Counters { all, .. } => {
                crate::store::sum_counters(&*self.table, &all(t)).await
            }
            Counted::Index { prefix, shards } => {
                let range = SkRange::Prefix(prefix.into());
                crate::store::count_merged(&*self.table, &shards(t), &range).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(body: &str) -> Option<String> {
        pointed_id(&Item::new(Key::new("P", "S"), 1, body.as_bytes().to_vec()))
    }

    #[test]
    fn an_index_item_points_to_the_id_it_names_and_to_nothing_otherwise() {
        let item = index_item(Key::new("P", "S"), "u-1");
        assert_eq!(pointed_id(&item).as_deref(), Some("u-1"));
        assert_eq!(pointer(r#"{"x":[1],"id":"a\"b"}"#).as_deref(), Some("a\"b"));
        for nothing in [r#"{"id":5}"#, r#"{"x":"u"}"#, r#"["u-1"]"#, "not json", ""] {
            assert_eq!(pointer(nothing), None, "{nothing}");
        }
    }
}
