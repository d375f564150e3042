//! A user's lifecycle: live, soft-deleted, purged.
//!
//! A soft-deleted user moves from its live key to a deleted key in one transaction that also
//! releases its live unique indexes, keeps its userName and e-mail addresses for a restore,
//! and records its intent (the reconciler then takes it out of every group and every group
//! source). Being absent from the live key, it is absent from every read, filter and list,
//! and no group can take it as a member. A POST with its userName or one of its e-mail
//! addresses restores the same id. It is purged after the tenant's retention period.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::DirectoryError;
use super::intent::{Intents, Target};
use super::records::{index_item, pointed_id};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{
    Condition, Item, Key, Query, SkRange, StoreError, Table, Write, keys, query_all,
    query_all_merged,
};

/// A soft-deleted user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    /// The user's id, kept by a restore.
    pub id: String,
    /// The stored version of the deleted record.
    pub version: u64,
    /// The document it had, with `meta.deleted` set.
    pub doc: Map<String, Value>,
}

/// Whether a user document is active (`active` absent counts as active): only an active
/// user's memberships grant access.
pub fn is_active(doc: &Map<String, Value>) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// A unique value of a user: its index key and the attribute it stands for.
pub type Unique = (Key, &'static str);

/// The user's lifecycle over the Table port.
#[derive(Clone)]
pub struct Lifecycle {
    table: Arc<dyn Table>,
}

fn emails(doc: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = doc
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value")?.as_str())
        .map(str::to_lowercase)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The restore keys of a user document: its userName and e-mail addresses.
fn restore_keys(t: &TenantId, doc: &Map<String, Value>) -> Vec<Key> {
    let name = doc.get("userName").and_then(Value::as_str).unwrap_or("");
    let mut keys = vec![keys::deleted_user_name(t, name)];
    keys.extend(emails(doc).iter().map(|e| keys::deleted_email(t, e)));
    keys
}

fn pointer(key: Key, id: &str) -> Write {
    Write::Put {
        item: index_item(key, id),
        condition: Condition::Always,
    }
}

fn points_to(item: &Item, id: &str) -> bool {
    pointed_id(item).as_deref() == Some(id)
}

impl Lifecycle {
    /// The lifecycle over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The soft-deleted user a create with this userName (first) or one of these e-mail
    /// addresses would restore, if any.
    pub async fn find_deleted(
        &self,
        t: &TenantId,
        doc: &Map<String, Value>,
    ) -> Result<Option<Deleted>, StoreError> {
        let keys = restore_keys(t, doc);
        for item in self.table.get_many(&keys).await?.into_iter().flatten() {
            let id = pointed_id(&item).unwrap_or_default();
            if let Some(found) = self.deleted(t, &id).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// For each document, whether a restore key of it exists: only those may restore a
    /// soft-deleted user ([`find_deleted`](Self::find_deleted) says which). One batched read.
    pub async fn may_restore(
        &self,
        t: &TenantId,
        docs: &[Map<String, Value>],
    ) -> Result<Vec<bool>, StoreError> {
        let per_doc: Vec<Vec<Key>> = docs.iter().map(|d| restore_keys(t, d)).collect();
        let all: Vec<Key> = per_doc.iter().flatten().cloned().collect();
        let mut found = self.table.get_many(&all).await?.into_iter();
        Ok(per_doc
            .iter()
            .map(|keys| found.by_ref().take(keys.len()).any(|i| i.is_some()))
            .collect())
    }

    /// The soft-deleted user with this id, if any.
    pub async fn deleted(&self, t: &TenantId, id: &str) -> Result<Option<Deleted>, StoreError> {
        let Some(item) = self.table.get(&keys::deleted_user(t, id)).await? else {
            return Ok(None);
        };
        let doc = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt deleted user: {e}")))?;
        Ok(Some(Deleted {
            id: id.to_owned(),
            version: item.version,
            doc,
        }))
    }

    /// The users among `users` whose memberships grant access: live and active (an inactive
    /// user's memberships are suspended). Order is kept.
    pub async fn entitled(
        &self,
        t: &TenantId,
        users: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let keys: Vec<Key> = users.iter().map(|u| keys::user(t, u)).collect();
        let found = self.table.get_many(&keys).await?;
        Ok(users
            .iter()
            .zip(found)
            .filter(|(_, item)| {
                item.as_ref().is_some_and(|i| {
                    serde_json::from_slice::<Map<String, Value>>(&i.body)
                        .is_ok_and(|d| is_active(&d))
                })
            })
            .map(|(user, _)| user.clone())
            .collect())
    }

    /// Soft-deletes the live user `id` at `version` whose document is `doc` and whose live
    /// unique index items are `live_indexes`. [`DirectoryError::Stale`] when it changed.
    pub async fn soft_delete(
        &self,
        t: &TenantId,
        id: &str,
        version: u64,
        doc: &Map<String, Value>,
        live_indexes: Vec<Key>,
    ) -> Result<(), DirectoryError> {
        let mut kept = doc.clone();
        if let Some(Value::Object(meta)) = kept.get_mut("meta") {
            meta.insert("deleted".into(), json!(now_rfc3339()));
        }
        let mut writes = vec![
            Write::Delete {
                key: keys::user(t, id),
                condition: Condition::VersionIs(version),
            },
            Write::Put {
                item: Item::new(
                    keys::deleted_user(t, id),
                    version + 1,
                    serde_json::to_vec(&kept).expect("json"),
                ),
                condition: Condition::Always,
            },
            Intents::mark(t, &Target::User(id.to_owned())),
        ];
        writes.extend(live_indexes.into_iter().map(|key| Write::Delete {
            key,
            condition: Condition::Always,
        }));
        writes.extend(restore_keys(t, doc).into_iter().map(|k| pointer(k, id)));
        writes.push(Write::Add {
            key: keys::user_counter(t, id),
            delta: -1,
        });
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(DirectoryError::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// Restores `deleted` as the live user `doc` (with its id and meta), taking the unique
    /// values `unique`; the restore keys that point to it are released. Fails with
    /// [`DirectoryError::Uniqueness`] naming a value another user took meanwhile, and with
    /// [`DirectoryError::Stale`] when someone else restored or purged it first.
    pub async fn restore(
        &self,
        t: &TenantId,
        deleted: &Deleted,
        doc: &Map<String, Value>,
        unique: Vec<Unique>,
    ) -> Result<u64, DirectoryError> {
        let id = &deleted.id;
        let version = deleted.version + 1;
        let mut writes = vec![
            Write::Delete {
                key: keys::deleted_user(t, id),
                condition: Condition::VersionIs(deleted.version),
            },
            Write::Put {
                item: Item::new(
                    keys::user(t, id),
                    version,
                    serde_json::to_vec(doc).expect("json"),
                ),
                condition: Condition::NotExists,
            },
            Intents::mark(t, &Target::User(id.clone())),
        ];
        let labels: Vec<&str> = unique.iter().map(|(_, label)| *label).collect();
        writes.extend(unique.into_iter().map(|(key, _)| Write::Put {
            item: index_item(key, id),
            condition: Condition::NotExists,
        }));
        let restore = restore_keys(t, &deleted.doc);
        for (key, item) in restore.iter().zip(self.table.get_many(&restore).await?) {
            if item.is_some_and(|i| points_to(&i, id)) {
                writes.push(Write::Delete {
                    key: key.clone(),
                    condition: Condition::Always,
                });
            }
        }
        writes.push(Write::Add {
            key: keys::user_counter(t, id),
            delta: 1,
        });
        match self.table.transact(writes).await {
            Ok(()) => Ok(version),
            Err(StoreError::ConditionFailed { index }) if index < 3 => Err(DirectoryError::Stale),
            Err(StoreError::ConditionFailed { index }) => Err(DirectoryError::Uniqueness(format!(
                "another User already has this {}",
                labels.get(index - 3).copied().unwrap_or("value")
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Purges the users soft-deleted before `cutoff` (RFC 3339): their record, restore keys
    /// and every membership. Answers how many were purged.
    pub async fn purge(&self, t: &TenantId, cutoff: &str) -> Result<u64, StoreError> {
        let range = SkRange::Prefix(keys::DELETED_USER_PREFIX.to_owned());
        let shards = keys::users_shards(t);
        let mut purged = 0;
        for item in query_all_merged(&*self.table, &shards, &range).await? {
            let id = &item.key.sk[keys::DELETED_USER_PREFIX.len()..];
            let Some(found) = self.deleted(t, id).await? else {
                continue;
            };
            let at = found.doc.get("meta").and_then(|m| m.get("deleted"));
            if at.and_then(Value::as_str).is_none_or(|at| at >= cutoff) {
                continue;
            }
            self.purge_one(t, &found).await?;
            purged += 1;
        }
        Ok(purged)
    }

    async fn purge_one(&self, t: &TenantId, user: &Deleted) -> Result<(), StoreError> {
        let id = &user.id;
        let links = query_all(&*self.table, Query::prefix(keys::user_links_pk(t, id), "")).await?;
        let mut writes = Vec::new();
        for item in links {
            if let Some(c) = item.key.sk.strip_prefix(keys::USER_COMMUNITY_PREFIX) {
                writes.push(keys::community_member(t, c, id));
            } else if let Some(g) = item.key.sk.strip_prefix(keys::USER_GROUP_PREFIX) {
                writes.push(keys::group_member(t, g, id));
            }
            writes.push(item.key);
        }
        let restore = restore_keys(t, &user.doc);
        for (key, item) in restore.iter().zip(self.table.get_many(&restore).await?) {
            if item.is_some_and(|i| points_to(&i, id)) {
                writes.push(key.clone());
            }
        }
        let deletes = writes
            .into_iter()
            .map(|key| Write::Delete {
                key,
                condition: Condition::Always,
            })
            .collect();
        self.table.batch_write(deletes).await?;
        match self
            .table
            .delete(
                &keys::deleted_user(t, id),
                Condition::VersionIs(user.version),
            )
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
