//! SCIM secret tokens: random bearer tokens bound to one tenant, stored hashed.
//!
//! A token reads `mst_<id>.<secret>`: `id` (16 hex digits) names the stored record under the
//! tenant, `secret` carries 256 random bits. Only the SHA-256 of the secret is stored, and a
//! presented secret is compared with it in constant time.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::secret::{constant_time_eq, sha256_hex};
use super::usage::Usage;
use crate::ids::{TenantId, now_rfc3339, random_bytes, to_hex};
use crate::remembered::Remembered;
use crate::store::{Condition, Item, Query, StoreError, Table, keys, query_all};

const PREFIX: &str = "mst_";

/// How long a process trusts a token it has read without reading it again: the bound on how
/// long a token revoked by another process (another Lambda instance) keeps working here. A
/// revocation made in this process applies to it at once.
pub const TOKEN_CACHE_SECS: u64 = 10;

/// Tokens this process has read: (tenant, token id) → secret hash, or empty for a tombstone
/// (revoked here). Process-wide, so a revocation through any repository reaches it.
fn known() -> &'static Remembered<(String, String), String> {
    static KNOWN: LazyLock<Remembered<(String, String), String>> =
        LazyLock::new(|| Remembered::new(Duration::from_secs(TOKEN_CACHE_SECS), KNOWN_MAX));
    &KNOWN
}

/// Tokens remembered at most (a process serves few tenants' tokens; the bound keeps a flood of
/// issued tokens from growing it).
const KNOWN_MAX: usize = 10_000;

#[derive(Debug, Serialize, Deserialize)]
struct TokenRecord {
    id: String,
    secret_sha256: String,
    created: String,
    #[serde(default)]
    name: String,
}

/// The name of a token issued without one.
pub const DEFAULT_TOKEN_NAME: &str = "SCIM token";

/// A token as listed: never its secret or the secret's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The token's id.
    pub id: String,
    /// A name to tell tokens apart (which IdP holds it).
    pub name: String,
    /// When it was issued (RFC 3339).
    pub created: String,
    /// When a request last carried it (Unix seconds, to within a minute), if ever.
    pub last_used: Option<i64>,
}

/// A newly issued token: the only time its plaintext exists.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token's id (safe to log and to use for revocation).
    pub id: String,
    /// The bearer token to hand to the identity provider.
    pub token: String,
}

/// The SCIM token repository.
#[derive(Clone)]
pub struct ScimTokens {
    table: Arc<dyn Table>,
    usage: Usage,
}

impl ScimTokens {
    /// A repository over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            usage: Usage::new(table.clone()),
            table,
        }
    }

    /// Issues a new token for `tenant`, named [`DEFAULT_TOKEN_NAME`].
    pub async fn issue(&self, tenant: &TenantId) -> Result<IssuedToken, StoreError> {
        self.issue_named(tenant, DEFAULT_TOKEN_NAME).await
    }

    /// Issues a new token for `tenant` named `name` (trimmed, at most 100 characters; blank
    /// means [`DEFAULT_TOKEN_NAME`]).
    pub async fn issue_named(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<IssuedToken, StoreError> {
        let id = to_hex(&random_bytes::<8>());
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let name: String = name
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let record = TokenRecord {
            id: id.clone(),
            secret_sha256: sha256_hex(secret.as_bytes()),
            created: now_rfc3339(),
            name: if name.is_empty() {
                DEFAULT_TOKEN_NAME.into()
            } else {
                name
            },
        };
        let body = serde_json::to_vec(&record).expect("a token record serialises");
        let item = Item::new(keys::scim_token(tenant, &id), 1, body);
        self.table.put(item, Condition::NotExists).await?;
        Ok(IssuedToken {
            token: format!("{PREFIX}{id}.{secret}"),
            id,
        })
    }

    /// True when `presented` is a live token of `tenant`. A token of another tenant, a
    /// malformed token and an unknown one are all simply `false`.
    pub async fn verify(&self, tenant: &TenantId, presented: &str) -> Result<bool, StoreError> {
        let Some((id, secret)) = presented
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
        else {
            return Ok(false);
        };
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let Some(stored) = self.stored_hash(tenant, id).await? else {
            return Ok(false);
        };
        let presented_hash = sha256_hex(secret.as_bytes());
        let valid = constant_time_eq(presented_hash.as_bytes(), stored.as_bytes());
        if valid {
            self.usage.touch(keys::scim_token_usage(tenant, id)).await;
        }
        Ok(valid)
    }

    /// The secret hash of token `id`: remembered for [`TOKEN_CACHE_SECS`] once read, so a
    /// known token costs no store read per request.
    async fn stored_hash(&self, tenant: &TenantId, id: &str) -> Result<Option<String>, StoreError> {
        let at = (tenant.to_string(), id.to_owned());
        if let Some(hash) = known().get(&at) {
            // An empty hash is a tombstone: revoked here.
            return Ok((!hash.is_empty()).then_some(hash));
        }
        let Some(item) = self.table.get(&keys::scim_token(tenant, id)).await? else {
            known().remove(&at);
            return Ok(None);
        };
        let record: TokenRecord = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt token record: {e}")))?;
        // A revocation in this process since the read keeps its tombstone.
        let hash = record.secret_sha256;
        Ok(known()
            .insert_unless(at, hash.clone(), String::is_empty)
            .then_some(hash))
    }

    /// The live tokens of `tenant`, oldest first, with their last use.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<TokenInfo>, StoreError> {
        let query = Query::prefix(keys::tenant_pk(tenant), "TOKEN#");
        let mut tokens = Vec::new();
        for item in query_all(&*self.table, query).await? {
            let r: TokenRecord = serde_json::from_slice(&item.body)
                .map_err(|e| StoreError::Backend(format!("corrupt token record: {e}")))?;
            tokens.push(TokenInfo {
                id: r.id,
                name: if r.name.is_empty() {
                    DEFAULT_TOKEN_NAME.into()
                } else {
                    r.name
                },
                created: r.created,
                last_used: None,
            });
        }
        let usage: Vec<_> = tokens
            .iter()
            .map(|t| keys::scim_token_usage(tenant, &t.id))
            .collect();
        for (token, used) in tokens.iter_mut().zip(self.usage.read(&usage).await?) {
            token.last_used = used;
        }
        tokens.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(tokens)
    }

    /// Revokes a token by id; true if it existed. Requests bearing it fail from now on.
    pub async fn revoke(&self, tenant: &TenantId, token_id: &str) -> Result<bool, StoreError> {
        // A tombstone, set before and after the delete: a verification in this process that
        // read the token just before cannot remember it again.
        let at = (tenant.to_string(), token_id.to_owned());
        known().insert(at.clone(), String::new());
        let deleted = self
            .table
            .delete(&keys::scim_token(tenant, token_id), Condition::Exists)
            .await;
        known().insert(at, String::new());
        match deleted {
            Ok(()) => {
                self.usage
                    .forget(&keys::scim_token_usage(tenant, token_id))
                    .await?;
                Ok(true)
            }
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
