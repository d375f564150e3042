//! The `Community` resource type: communities as SCIM clients read them (RFC 7644 §3.4), and
//! refuse to write them (administrators manage communities; see [`crate::community`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::repo::{Repo, render};
use super::schema::{ResourceType, resource_type};
use super::service::ResourceService;
use super::{ListParams, Preconditions, Projection, ScimError, SearchResult, StoredResource};
use crate::directory::{Counted, Document, Kind, Records, UniqueValue, no_intents};
use crate::ids::TenantId;
use crate::store::{Table, keys};

fn unique_values(t: &TenantId, doc: &Document) -> Vec<UniqueValue> {
    doc.get("displayName")
        .and_then(Value::as_str)
        .map(|n| UniqueValue {
            key: keys::community_name(t, n),
            attribute: "displayName",
        })
        .into_iter()
        .collect()
}

/// The read-only `/Communities` endpoint of every tenant.
pub struct CommunityResources {
    repo: Repo,
}

impl CommunityResources {
    /// Communities read from `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let kind = Kind {
            name: "Community",
            key: keys::community,
            prefix: keys::COMMUNITY_PREFIX,
            shards: |t| vec![keys::tenant_pk(t)],
            counted: Counted::Index {
                prefix: keys::COMMUNITY_NAME_PREFIX,
                shards: |t| vec![keys::tenant_pk(t)],
            },
            unique: unique_values,
            indexed: &["displayName"],
            index: |t, attribute, value| {
                (attribute == "displayName").then(|| keys::community_name(t, value))
            },
            intents: no_intents,
        };
        Self {
            repo: Repo::new(Records::new(table, kind), resource_type("Community")),
        }
    }
}

fn read_only() -> ScimError {
    ScimError::method_not_allowed("communities are read-only over SCIM; administrators manage them")
}

#[async_trait]
impl ResourceService for CommunityResources {
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
        Ok(self.repo.fetch(t, id).await?)
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
        Ok(p.apply(render(r, base, "/Communities")))
    }
}
