//! Tenants and the secrets that let a client act for one: SCIM bearer tokens.

mod secret;
mod tenants;
mod tokens;

pub use secret::{constant_time_eq, sha256_hex};
pub use tenants::{NewTenant, Tenant, TenantError, Tenants};
pub use tokens::{IssuedToken, ScimTokens};
