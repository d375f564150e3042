//! Tenants and the secrets that let a client act for one: SCIM bearer tokens, OAuth API
//! clients, and the signed access tokens issued to them.

mod clients;
mod ip_range;
mod jwt;
mod keyring;
mod keys;
mod scope;
mod secret;
mod tenants;
mod tokens;
mod usage;

pub use clients::{ApiClients, ClientError, ClientRecord, IssuedClient, NewClient};
pub use ip_range::{InvalidIpRange, IpRange};
pub use jwt::{ACCESS_TOKEN_LIFETIME_SECS, Claims, ISSUER, JwtError, LEEWAY_SECS};
pub use keyring::{KeyRing, KeySource, MAX_SIGNING_AGE, MIN_RELOAD_INTERVAL};
pub use keys::{AccessToken, KeysError, MIN_SECRET_BYTES, SigningKeys};
pub use scope::{Scope, UnknownScope};
pub use secret::{constant_time_eq, sha256_hex};
pub use tenants::{
    DEFAULT_RETENTION_DAYS, NewTenant, RequestLimits, Tenant, TenantError, Tenants, address_allowed,
};
pub use tokens::{DEFAULT_TOKEN_NAME, IssuedToken, ScimTokens, TokenInfo};
pub use usage::{USAGE_RESOLUTION, Usage};
