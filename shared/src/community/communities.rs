//! Communities: created by administrators, each an item with a unique-name index item written
//! in the same transaction. Stored as the document SCIM clients read at `/Communities`
//! ([`crate::scim::CommunityResources`] serves it), but written and read here without SCIM.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use crate::directory::DirectoryError;
use crate::ids::{TenantId, now_rfc3339, random_id};
use crate::store::{Condition, Item, Query, StoreError, Table, Write, keys, query_all};

/// URN of the Community resource schema, which every stored community carries.
pub const COMMUNITY_SCHEMA: &str = "urn:muster:params:scim:schemas:core:2.0:Community";

/// A community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Community {
    /// Its id.
    pub id: String,
    /// Its name, unique in the tenant ignoring case.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created: String,
}

fn decode(item: &Item) -> Result<Community, StoreError> {
    let doc: Value = serde_json::from_slice(&item.body)
        .map_err(|e| StoreError::Backend(format!("corrupt community: {e}")))?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(Community {
        id: text(&doc["id"]),
        name: text(&doc["displayName"]),
        created: text(&doc["meta"]["created"]),
    })
}

/// Communities this process has read, by (tenant, id): process-wide, bounded.
fn known() -> &'static std::sync::Mutex<HashMap<(String, String), Community>> {
    static KNOWN: OnceLock<std::sync::Mutex<HashMap<(String, String), Community>>> =
        OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

/// Communities remembered at most.
const KNOWN_MAX: usize = 100_000;

/// The communities of every tenant.
pub struct Communities {
    table: Arc<dyn Table>,
}

impl Communities {
    /// Communities kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates a community; its name must be new in the tenant ([`DirectoryError::Uniqueness`]
    /// otherwise) and not blank ([`DirectoryError::Invalid`]).
    pub async fn create(&self, t: &TenantId, name: &str) -> Result<Community, DirectoryError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DirectoryError::Invalid(
                "a community needs a non-blank name".into(),
            ));
        }
        let (id, now) = (random_id(), now_rfc3339());
        let doc = json!({
            "id": id,
            "schemas": [COMMUNITY_SCHEMA],
            "displayName": name,
            "meta": {"resourceType": "Community", "created": now, "lastModified": now},
        });
        let body = serde_json::to_vec(&doc).expect("json");
        let index = serde_json::to_vec(&json!({ "id": id })).expect("json");
        let writes = vec![
            Write::Put {
                item: Item::new(keys::community(t, &id), 1, body),
                condition: Condition::NotExists,
            },
            Write::Put {
                item: Item::new(keys::community_name(t, name), 1, index),
                condition: Condition::NotExists,
            },
        ];
        match self.table.transact(writes).await {
            Ok(()) => Ok(Community {
                id,
                name: name.to_owned(),
                created: now,
            }),
            Err(StoreError::ConditionFailed { .. }) => Err(DirectoryError::Uniqueness(
                "another Community already has this displayName".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The community with this id, if any. A community never changes once made (no
    /// operation renames or removes one), so one found is remembered by the process and read
    /// from the store no more: SCIM answers name each membership's community without a read
    /// in the tenant's partition.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<Option<Community>, StoreError> {
        let at = (t.to_string(), id.to_owned());
        if let Some(c) = known().lock().expect("community cache").get(&at) {
            return Ok(Some(c.clone()));
        }
        let item = self.table.get(&keys::community(t, id)).await?;
        let found = item.as_ref().map(decode).transpose()?;
        if let Some(c) = &found {
            let mut cache = known().lock().expect("community cache");
            if cache.len() >= KNOWN_MAX {
                cache.clear();
            }
            cache.insert(at, c.clone());
        }
        Ok(found)
    }

    /// Every community of the tenant, in id order.
    pub async fn list(&self, t: &TenantId) -> Result<Vec<Community>, StoreError> {
        let query = Query::prefix(keys::tenant_pk(t), keys::COMMUNITY_PREFIX);
        query_all(&*self.table, query)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The community with this id, or else with this name (ignoring case).
    pub async fn resolve(
        &self,
        t: &TenantId,
        id_or_name: &str,
    ) -> Result<Option<Community>, StoreError> {
        if let Some(c) = self.get(t, id_or_name).await? {
            return Ok(Some(c));
        }
        let Some(index) = self.table.get(&keys::community_name(t, id_or_name)).await? else {
            return Ok(None);
        };
        let pointer: Value = serde_json::from_slice(&index.body)
            .map_err(|e| StoreError::Backend(format!("corrupt community index: {e}")))?;
        self.get(t, pointer["id"].as_str().unwrap_or_default())
            .await
    }

    /// The community's name, if it exists.
    pub async fn name(&self, t: &TenantId, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.get(t, id).await?.map(|c| c.name))
    }
}
