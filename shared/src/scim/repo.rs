//! Storage of SCIM resources with their unique indexes, written once for Users and Groups.
//!
//! A resource lives at its own key; each unique attribute value has an index item written in
//! the same transaction, so two creates racing for one userName end in one success and one
//! [`ScimError::uniqueness`].

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::ScimError;
use super::resource::Document;
use super::schema::ResourceType;
use crate::ids::{TenantId, now_rfc3339, random_id};
use crate::store::{Condition, Item, Key, Query, SkRange, StoreError, Table, Write};

/// One unique value of a resource: its index key and the attribute it comes from.
pub struct UniqueValue {
    /// The index item's key.
    pub key: Key,
    /// The attribute's name, for error messages.
    pub attribute: &'static str,
}

/// What distinguishes one kind of resource in storage.
pub struct Kind {
    /// The resource type.
    pub rt: &'static ResourceType,
    /// The key of a resource.
    pub key: fn(&TenantId, &str) -> Key,
    /// The sort-key prefix of resources of this kind in the tenant partition.
    pub prefix: &'static str,
    /// The sort-key prefix of the index of the required unique name (userName,
    /// displayName): one small item per resource, written in the resource's own transactions,
    /// so counting it counts the resources while reading a tenth of the bytes.
    pub count_prefix: &'static str,
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

/// For kinds whose changes imply nothing to derive.
pub fn no_intents(_: &TenantId, _: &str, _: &Document, _: Option<&Document>) -> Vec<Write> {
    Vec::new()
}

/// A resource as stored: its document (with `id` and `meta` minus `version`/`location`) and
/// its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// The resource id.
    pub id: String,
    /// Monotonic version, exposed as a weak ETag.
    pub version: u64,
    /// The document, including `id` and `meta.created`/`meta.lastModified`/`meta.resourceType`.
    pub doc: Document,
}

impl StoredResource {
    /// The document without `id` and `meta`, as a client would send it.
    pub fn body(&self) -> Document {
        let mut d = self.doc.clone();
        d.remove("id");
        d.remove("meta");
        d
    }

    /// The resource as answered: `meta.location` under `base` and `meta.version`.
    pub fn render(&self, base: &str, endpoint: &str) -> Value {
        let mut doc = self.doc.clone();
        if let Some(Value::Object(meta)) = doc.get_mut("meta") {
            meta.insert(
                "location".into(),
                json!(format!("{base}{endpoint}/{}", self.id)),
            );
            meta.insert("version".into(), json!(super::etag(self.version)));
        }
        Value::Object(doc)
    }
}

/// Why a save did not happen.
pub enum SaveError {
    /// Someone else saved first; reload and retry (or 412 if the client pinned a version).
    Stale,
    /// Any other failure.
    Scim(ScimError),
}

impl From<crate::directory::DirectoryError> for SaveError {
    fn from(e: crate::directory::DirectoryError) -> Self {
        match e {
            crate::directory::DirectoryError::Stale => SaveError::Stale,
            other => SaveError::Scim(other.into()),
        }
    }
}

impl From<ScimError> for SaveError {
    fn from(e: ScimError) -> Self {
        SaveError::Scim(e)
    }
}

/// The resource repository for one [`Kind`].
pub struct Repo {
    pub(crate) table: Arc<dyn Table>,
    pub(crate) kind: Kind,
}

fn index_item(key: Key, id: &str) -> Item {
    Item::new(
        key,
        1,
        serde_json::to_vec(&json!({ "id": id })).expect("json"),
    )
}

pub(crate) fn decode(item: &Item) -> Result<StoredResource, ScimError> {
    let doc: Map<String, Value> = serde_json::from_slice(&item.body)
        .map_err(|e| ScimError::from(StoreError::Backend(format!("corrupt resource: {e}"))))?;
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(StoredResource {
        id,
        version: item.version,
        doc,
    })
}

impl Repo {
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
    ) -> ScimError {
        match labels.get(index) {
            Some(attr) if index < writes.len() => ScimError::uniqueness(format!(
                "another {} already has this {attr}",
                self.kind.rt.name
            )),
            _ => ScimError::uniqueness(format!("the {} already exists", self.kind.rt.name)),
        }
    }

    /// Creates a resource from a normalized body; `id` and `meta` are assigned here.
    pub async fn create(&self, t: &TenantId, body: Document) -> Result<StoredResource, ScimError> {
        self.create_with(t, body, |_| Vec::new()).await
    }

    /// Creates a resource and, in the same transaction, the writes `extra` makes for its id
    /// (each of which must also hold, or nothing is written).
    pub(crate) async fn create_with(
        &self,
        t: &TenantId,
        body: Document,
        extra: impl Fn(&str) -> Vec<Write>,
    ) -> Result<StoredResource, ScimError> {
        let (stored, mut writes, labels) = self.creation(t, body);
        writes.extend(extra(&stored.id));
        match self.table.transact(writes.clone()).await {
            Ok(()) => Ok(stored),
            Err(StoreError::ConditionFailed { index }) => {
                Err(self.uniqueness_error(&writes, index, &labels))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new resource made of `body` and the writes that store it with its unique indexes,
    /// each conditional on its key being free (with the attribute each write stands for).
    pub(crate) fn creation(
        &self,
        t: &TenantId,
        body: Document,
    ) -> (StoredResource, Vec<Write>, Vec<&'static str>) {
        let id = random_id();
        let now = now_rfc3339();
        let mut doc = Map::new();
        doc.insert("id".into(), json!(id));
        doc.extend(body);
        doc.insert(
            "meta".into(),
            json!({"resourceType": self.kind.rt.name, "created": now, "lastModified": now}),
        );
        let stored = StoredResource {
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
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<Option<StoredResource>, ScimError> {
        match self.table.get(&(self.kind.key)(t, id)).await? {
            Some(item) => Ok(Some(decode(&item)?)),
            None => Ok(None),
        }
    }

    /// Replaces the body of `old` with `body`, moving unique indexes that changed. Fails with
    /// [`SaveError::Stale`] when `old` is no longer the stored version.
    pub async fn save(
        &self,
        t: &TenantId,
        old: &StoredResource,
        body: Document,
    ) -> Result<StoredResource, SaveError> {
        let mut doc = Map::new();
        doc.insert("id".into(), json!(old.id));
        doc.extend(body);
        let mut meta = old.doc.get("meta").cloned().unwrap_or_else(|| json!({}));
        meta["lastModified"] = json!(now_rfc3339());
        doc.insert("meta".into(), meta);
        let new = StoredResource {
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
            Err(StoreError::ConditionFailed { index: 0 }) => Err(SaveError::Stale),
            Err(StoreError::ConditionFailed { index }) => Err(SaveError::Scim(
                self.uniqueness_error(&writes, index, &labels),
            )),
            Err(e) => Err(SaveError::Scim(e.into())),
        }
    }

    /// Deletes `old` and its indexes; [`SaveError::Stale`] when it changed meanwhile.
    pub async fn delete(&self, t: &TenantId, old: &StoredResource) -> Result<(), SaveError> {
        let mut writes = vec![Write::Delete {
            key: (self.kind.key)(t, &old.id),
            condition: Condition::VersionIs(old.version),
        }];
        writes.extend((self.kind.intents)(t, &old.id, &old.doc, None));
        for u in (self.kind.unique)(t, &old.doc) {
            writes.push(Write::Delete {
                key: u.key,
                condition: Condition::Always,
            });
        }
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(SaveError::Stale),
            Err(e) => Err(SaveError::Scim(e.into())),
        }
    }

    /// How many resources of this kind the tenant has.
    pub async fn count(&self, t: &TenantId) -> Result<u64, ScimError> {
        let pk = crate::store::keys::tenant_pk(t);
        Ok(self
            .table
            .count(&pk, &SkRange::Prefix(self.kind.count_prefix.into()))
            .await?)
    }

    /// Up to `count` resources starting at the 1-based `start_index`, in id order.
    pub async fn page(
        &self,
        t: &TenantId,
        start_index: usize,
        count: usize,
    ) -> Result<Vec<StoredResource>, ScimError> {
        let pk = crate::store::keys::tenant_pk(t);
        let mut skip = start_index.saturating_sub(1);
        let mut query = Query::prefix(pk, self.kind.prefix).limit(skip + count);
        let mut out = Vec::new();
        while out.len() < count {
            query.limit = skip + count - out.len();
            let page = self.table.query(&query).await?;
            for item in &page.items {
                if skip > 0 {
                    skip -= 1;
                } else if out.len() < count {
                    out.push(decode(item)?);
                }
            }
            match page.cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }
}
