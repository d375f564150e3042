//! Communities: created by administrators, read by SCIM clients as the `Community` resource
//! type. They are stored like SCIM resources (one item, a unique-name index item).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::ids::TenantId;
use crate::scim::repo::{Kind, Repo, UniqueValue};
use crate::scim::resource::Document;
use crate::scim::schema::{COMMUNITY_SCHEMA, ResourceType, resource_type};
use crate::scim::service::ResourceService;
use crate::scim::{ListParams, Preconditions, Projection, ScimError, SearchResult, StoredResource};
use crate::store::{Table, keys};

use keys::{community as community_key, community_name as name_key};

fn unique_values(t: &TenantId, doc: &Document) -> Vec<UniqueValue> {
    doc.get("displayName")
        .and_then(Value::as_str)
        .map(|n| UniqueValue {
            key: name_key(t, n),
            attribute: "displayName",
        })
        .into_iter()
        .collect()
}

/// The communities of every tenant.
pub struct Communities {
    repo: Repo,
}

impl Communities {
    /// Communities kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let kind = Kind {
            rt: resource_type("Community"),
            key: community_key,
            prefix: keys::COMMUNITY_PREFIX,
            count_prefix: keys::COMMUNITY_NAME_PREFIX,
            unique: unique_values,
            indexed: &["displayName"],
            index: |t, attribute, value| (attribute == "displayName").then(|| name_key(t, value)),
            intents: crate::scim::repo::no_intents,
        };
        Self {
            repo: Repo::new(table, kind),
        }
    }

    /// Creates a community; its name must be new in the tenant (409 otherwise).
    pub async fn create(&self, t: &TenantId, name: &str) -> Result<StoredResource, ScimError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ScimError::invalid_value(
                "a community needs a non-blank name",
            ));
        }
        let mut doc = Document::new();
        doc.insert("schemas".into(), json!([COMMUNITY_SCHEMA]));
        doc.insert("displayName".into(), json!(name));
        self.repo.create(t, doc).await
    }

    /// Reads a community or answers 404.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        self.repo.fetch(t, id).await
    }

    /// Every community of the tenant, in id order.
    pub async fn list(&self, t: &TenantId) -> Result<Vec<StoredResource>, ScimError> {
        let params = ListParams {
            start_index: 1,
            count: usize::MAX,
            ..ListParams::default()
        };
        Ok(self.repo.search(t, &params).await?.items)
    }

    /// The community with this id, or else with this name (ignoring case).
    pub async fn resolve(
        &self,
        t: &TenantId,
        id_or_name: &str,
    ) -> Result<Option<StoredResource>, ScimError> {
        if let Some(c) = self.repo.get(t, id_or_name).await? {
            return Ok(Some(c));
        }
        let params = ListParams {
            start_index: 1,
            count: 1,
            filter: Some(format!(
                "displayName eq {}",
                Value::String(id_or_name.to_owned())
            )),
            ..ListParams::default()
        };
        Ok(self.repo.search(t, &params).await?.items.into_iter().next())
    }

    /// The community's name, if it exists.
    pub async fn name(&self, t: &TenantId, id: &str) -> Result<Option<String>, ScimError> {
        Ok(self.repo.get(t, id).await?.and_then(|c| {
            c.doc
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }))
    }
}

fn read_only() -> ScimError {
    ScimError::method_not_allowed("communities are read-only over SCIM; administrators manage them")
}

#[async_trait]
impl ResourceService for Communities {
    fn resource_type(&self) -> &'static ResourceType {
        resource_type("Community")
    }
    fn patch_returns_resource(&self) -> bool {
        true
    }
    async fn create(&self, _: &TenantId, _: Value) -> Result<StoredResource, ScimError> {
        Err(read_only())
    }
    async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        self.repo.fetch(t, id).await
    }
    async fn replace(
        &self,
        _: &TenantId,
        _: &str,
        _: Value,
        _: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        Err(read_only())
    }
    async fn patch(
        &self,
        _: &TenantId,
        _: &str,
        _: Value,
        _: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        Err(read_only())
    }
    async fn delete(&self, _: &TenantId, _: &str, _: &Preconditions) -> Result<(), ScimError> {
        Err(read_only())
    }
    async fn search(&self, t: &TenantId, params: &ListParams) -> Result<SearchResult, ScimError> {
        self.repo.search(t, params).await
    }
    async fn render(
        &self,
        _: &TenantId,
        r: &StoredResource,
        base: &str,
        p: &Projection,
    ) -> Result<Value, ScimError> {
        Ok(p.apply(r.render(base, "/Communities")))
    }
}
