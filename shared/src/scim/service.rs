//! The operations every SCIM resource endpoint offers, so the HTTP layer serves Users and
//! Groups with one set of handlers.

use async_trait::async_trait;
use serde_json::Value;

use super::schema::{ResourceType, resource_type};
use super::search::SearchResult;
use super::{Groups, ListParams, Preconditions, Projection, ScimError, StoredResource, Users};
use crate::ids::TenantId;

/// A SCIM resource endpoint (`/Users`, `/Groups`).
#[async_trait]
pub trait ResourceService: Send + Sync + 'static {
    /// The resource type served.
    fn resource_type(&self) -> &'static ResourceType;
    /// Whether PATCH answers 200 with the resource (else 204 without a body).
    fn patch_returns_resource(&self) -> bool;
    /// POST.
    async fn create(&self, t: &TenantId, body: Value) -> Result<StoredResource, ScimError>;
    /// GET by id.
    async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError>;
    /// PUT.
    async fn replace(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError>;
    /// PATCH.
    async fn patch(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError>;
    /// DELETE.
    async fn delete(&self, t: &TenantId, id: &str, pre: &Preconditions) -> Result<(), ScimError>;
    /// GET list and `.search`.
    async fn search(&self, t: &TenantId, params: &ListParams) -> Result<SearchResult, ScimError>;
    /// The resource as answered under `base`, projected.
    async fn render(
        &self,
        t: &TenantId,
        r: &StoredResource,
        base: &str,
        p: &Projection,
    ) -> Result<Value, ScimError>;
    /// The resources of a list page as answered under `base`, projected, in their order (what
    /// each needs besides itself read together where the type allows; one by one here).
    async fn render_page(
        &self,
        t: &TenantId,
        rs: Vec<StoredResource>,
        base: &str,
        p: &Projection,
    ) -> Result<Vec<Value>, ScimError> {
        let mut out = Vec::with_capacity(rs.len());
        for r in &rs {
            out.push(self.render(t, r, base, p).await?);
        }
        Ok(out)
    }
}

macro_rules! delegate {
    ($ty:ty, $name:literal, $patch_body:expr $(, $page:ident)?) => {
        #[async_trait]
        impl ResourceService for $ty {
            fn resource_type(&self) -> &'static ResourceType {
                resource_type($name)
            }
            fn patch_returns_resource(&self) -> bool {
                $patch_body
            }
            async fn create(&self, t: &TenantId, body: Value) -> Result<StoredResource, ScimError> {
                <$ty>::create(self, t, body).await
            }
            async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
                <$ty>::get(self, t, id).await
            }
            async fn replace(
                &self,
                t: &TenantId,
                id: &str,
                body: Value,
                pre: &Preconditions,
            ) -> Result<StoredResource, ScimError> {
                <$ty>::replace(self, t, id, body, pre).await
            }
            async fn patch(
                &self,
                t: &TenantId,
                id: &str,
                body: Value,
                pre: &Preconditions,
            ) -> Result<StoredResource, ScimError> {
                <$ty>::patch(self, t, id, body, pre).await
            }
            async fn delete(
                &self,
                t: &TenantId,
                id: &str,
                pre: &Preconditions,
            ) -> Result<(), ScimError> {
                <$ty>::delete(self, t, id, pre).await
            }
            async fn search(
                &self,
                t: &TenantId,
                params: &ListParams,
            ) -> Result<SearchResult, ScimError> {
                <$ty>::search(self, t, params).await
            }
            async fn render(
                &self,
                t: &TenantId,
                r: &StoredResource,
                base: &str,
                p: &Projection,
            ) -> Result<Value, ScimError> {
                <$ty>::render(self, t, r, base, p).await
            }
            $(
                async fn $page(
                    &self,
                    t: &TenantId,
                    rs: Vec<StoredResource>,
                    base: &str,
                    p: &Projection,
                ) -> Result<Vec<Value>, ScimError> {
                    <$ty>::$page(self, t, rs, base, p).await
                }
            )?
        }
    };
}

delegate!(Users, "User", true, render_page);
// RFC 7644 §3.5.2 lets a PATCH answer 204; identity providers expect it for groups, whose
// member lists can be very large.
delegate!(Groups, "Group", false);
