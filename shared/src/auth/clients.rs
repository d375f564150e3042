//! OAuth API clients (RFC 6749 §2): per-tenant confidential clients, their scopes, their
//! address allowlists, and the authentication of a client id and secret.
//!
//! A client id is globally unique, because the token endpoint has no tenant in its URL: the
//! record lives at `CLIENT#{id}` and a listing entry under the tenant, written together. Only
//! the SHA-256 of the 256-bit secret is stored.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::ip_range::IpRange;
use super::scope::Scope;
use super::secret::{constant_time_eq, sha256_hex};
use super::usage::Usage;
use crate::ids::{TenantId, now_rfc3339, random_bytes, to_hex};
use crate::store::{Condition, Item, Query, StoreError, Table, Write, keys, query_all};

const CLIENT_ID_PREFIX: &str = "mcl_";

/// The SHA-256 compared against when the client does not exist, so that an unknown client
/// costs the same work as a wrong secret. No secret hashes to it that anyone knows.
const DUMMY_SECRET_SHA256: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// An API client as stored and listed (never with its secret or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The client's id (`mcl_` and 32 hex digits), unique across tenants.
    pub client_id: String,
    /// The tenant the client acts for.
    pub tenant: TenantId,
    /// A display name.
    pub name: String,
    /// The scopes the client may obtain, in canonical order (never empty).
    pub scopes: Vec<Scope>,
    /// Networks the client may call from; empty means any address.
    pub allowed_ips: Vec<IpRange>,
    /// The user ids the client may act as on `/v1`; empty means any administrator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acting_users: Vec<String>,
    /// When the client was created (RFC 3339).
    pub created: String,
    /// When it last obtained an access token (Unix seconds, to within a minute): filled in
    /// by [`ApiClients::list`], never stored in the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<i64>,
}

/// The acting users a client is bound to: trimmed, without blanks or repeats.
fn acting_users(ids: Vec<String>) -> Result<Vec<String>, ClientError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim();
        if id.is_empty() {
            return Err(ClientError::Invalid(
                "an acting user id must not be blank".into(),
            ));
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

impl ClientRecord {
    /// True when the client may name `user_id` as its acting user.
    pub fn may_act_as(&self, user_id: &str) -> bool {
        self.acting_users.is_empty() || self.acting_users.iter().any(|u| u == user_id)
    }

    /// True when a request from `ip` is allowed; an unknown source address passes only an
    /// empty allowlist.
    pub fn allows_ip(&self, ip: Option<IpAddr>) -> bool {
        if self.allowed_ips.is_empty() {
            return true;
        }
        ip.is_some_and(|ip| self.allowed_ips.iter().any(|r| r.contains(ip)))
    }
}

#[derive(Serialize, Deserialize)]
struct StoredClient {
    #[serde(flatten)]
    client: ClientRecord,
    secret_sha256: String,
}

/// What is needed to create a client.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// Display name (required, not blank).
    pub name: String,
    /// Scopes the client may obtain (at least one).
    pub scopes: Vec<Scope>,
    /// CIDR networks or bare addresses the client may call from; empty means any.
    pub allowed_ips: Vec<String>,
    /// The user ids the client may name as acting user (`user_id` on `/v1`); empty means
    /// any administrator.
    pub acting_users: Vec<String>,
}

/// A newly created client: the only time its secret exists in clear.
#[derive(Debug, Clone)]
pub struct IssuedClient {
    /// The client id (safe to log).
    pub client_id: String,
    /// The client secret: 256 random bits, base64url without padding.
    pub client_secret: String,
    /// The stored record.
    pub client: ClientRecord,
}

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request was invalid.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The API client repository.
#[derive(Clone)]
pub struct ApiClients {
    table: Arc<dyn Table>,
    usage: Usage,
}

impl ApiClients {
    /// A repository over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            usage: Usage::new(table.clone()),
            table,
        }
    }

    /// Records that `client` just obtained an access token (see [`Usage`]).
    pub async fn used(&self, client: &ClientRecord) {
        let key = keys::client_usage(&client.tenant, &client.client_id);
        self.usage.touch(key).await;
    }

    /// Creates a client of `tenant` with a fresh id and secret. The caller checks that the
    /// tenant exists.
    pub async fn create(
        &self,
        tenant: &TenantId,
        new: NewClient,
    ) -> Result<IssuedClient, ClientError> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(ClientError::Invalid(
                "a client needs a non-blank name".into(),
            ));
        }
        let mut scopes = new.scopes;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(ClientError::Invalid(
                "a client needs at least one scope".into(),
            ));
        }
        let allowed_ips = new
            .allowed_ips
            .iter()
            .map(|s| s.parse::<IpRange>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let client = ClientRecord {
            client_id: format!("{CLIENT_ID_PREFIX}{}", to_hex(&random_bytes::<16>())),
            tenant: tenant.clone(),
            name: name.to_owned(),
            scopes,
            allowed_ips,
            acting_users: acting_users(new.acting_users)?,
            created: now_rfc3339(),
            last_used: None,
        };
        // The prefix keeps a secret from starting with `-`, which command lines would take for a flag.
        let client_secret = format!("mcs_{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()));
        let stored = StoredClient {
            client: client.clone(),
            secret_sha256: sha256_hex(client_secret.as_bytes()),
        };
        let record = serde_json::to_vec(&stored).expect("a client record serialises");
        let listing = serde_json::to_vec(&client).expect("a client record serialises");
        self.table
            .transact(vec![
                Write::Put {
                    item: Item::new(keys::client(&client.client_id), 1, record),
                    condition: Condition::NotExists,
                },
                Write::Put {
                    item: Item::new(keys::client_listing(tenant, &client.client_id), 1, listing),
                    condition: Condition::NotExists,
                },
            ])
            .await?;
        Ok(IssuedClient {
            client_id: client.client_id.clone(),
            client_secret,
            client,
        })
    }

    /// Deletes a client of `tenant` at once: its secret and its access tokens stop working.
    /// `Ok(false)` when `tenant` has no such client.
    pub async fn revoke(&self, tenant: &TenantId, client_id: &str) -> Result<bool, StoreError> {
        if !well_formed(client_id) {
            return Ok(false);
        }
        let result = self
            .table
            .transact(vec![
                Write::Delete {
                    key: keys::client_listing(tenant, client_id),
                    condition: Condition::Exists,
                },
                Write::Delete {
                    key: keys::client(client_id),
                    condition: Condition::Exists,
                },
            ])
            .await;
        match result {
            Ok(()) => {
                self.usage
                    .forget(&keys::client_usage(tenant, client_id))
                    .await?;
                Ok(true)
            }
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The clients of `tenant`, ordered by id.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<ClientRecord>, StoreError> {
        let query = Query::prefix(keys::tenant_pk(tenant), keys::CLIENT_PREFIX);
        let items = query_all(&*self.table, query).await?;
        let mut clients: Vec<ClientRecord> = items
            .iter()
            .map(|i| serde_json::from_slice(&i.body).map_err(corrupt))
            .collect::<Result<_, _>>()?;
        let usage: Vec<_> = clients
            .iter()
            .map(|c| keys::client_usage(tenant, &c.client_id))
            .collect();
        for (client, used) in clients.iter_mut().zip(self.usage.read(&usage).await?) {
            client.last_used = used;
        }
        Ok(clients)
    }

    /// Reads a live client by id; `Ok(None)` when it does not exist or was revoked.
    pub async fn find(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        if !well_formed(client_id) {
            return Ok(None);
        }
        Ok(self.read(client_id).await?.map(|s| s.client))
    }

    /// The client whose id and secret these are; `Ok(None)` for an unknown or revoked client
    /// and for a wrong secret alike. Every call costs one store read, one hash and one
    /// constant-time comparison, whether or not the client exists.
    pub async fn authenticate(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<ClientRecord>, StoreError> {
        let lookup = if well_formed(client_id) {
            client_id
        } else {
            "-"
        };
        let stored = self.read(lookup).await?;
        let presented = sha256_hex(secret.as_bytes());
        let expected = stored
            .as_ref()
            .map_or(DUMMY_SECRET_SHA256, |s| s.secret_sha256.as_str());
        let matches = constant_time_eq(presented.as_bytes(), expected.as_bytes());
        Ok(stored.filter(|_| matches).map(|s| s.client))
    }

    async fn read(&self, client_id: &str) -> Result<Option<StoredClient>, StoreError> {
        match self.table.get(&keys::client(client_id)).await? {
            Some(item) => Ok(Some(serde_json::from_slice(&item.body).map_err(corrupt)?)),
            None => Ok(None),
        }
    }
}

fn well_formed(client_id: &str) -> bool {
    client_id.strip_prefix(CLIENT_ID_PREFIX).is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("corrupt client record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> IpRange {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_empty_allowlist_allows_any_address_even_an_unknown_one() {
        let mut client = ClientRecord {
            client_id: "mcl_x".into(),
            tenant: TenantId::parse("acme").unwrap(),
            name: "x".into(),
            scopes: vec![Scope::Scim],
            allowed_ips: vec![],
            acting_users: vec![],
            created: now_rfc3339(),
            last_used: None,
        };
        assert!(client.allows_ip(None));
        client.allowed_ips = vec![range("192.0.2.0/24")];
        assert!(!client.allows_ip(None));
        assert!(client.allows_ip(Some(ip("192.0.2.1"))));
        assert!(!client.allows_ip(Some(ip("198.51.100.1"))));
    }

    #[tokio::test]
    async fn a_client_authenticates_with_its_secret_until_it_is_revoked() {
        let table: Arc<dyn Table> = Arc::new(crate::store::EmbeddedTable::in_memory());
        let clients = ApiClients::new(table);
        let acme = TenantId::parse("acme").unwrap();
        let new = NewClient {
            name: " sync ".into(),
            scopes: vec![Scope::Imports, Scope::Scim, Scope::Imports],
            allowed_ips: vec!["192.0.2.0/24".into()],
            acting_users: vec![],
        };
        let issued = clients.create(&acme, new).await.unwrap();
        assert_eq!(issued.client.scopes, Scope::ALL.to_vec());
        assert_eq!(issued.client.name, "sync");
        let id = &issued.client_id;
        let found = clients.authenticate(id, &issued.client_secret).await;
        assert_eq!(found.unwrap(), Some(issued.client.clone()));
        assert_eq!(clients.authenticate(id, "wrong").await.unwrap(), None);
        assert_eq!(clients.authenticate("nope", "x").await.unwrap(), None);
        assert_eq!(
            clients.list(&acme).await.unwrap(),
            vec![issued.client.clone()]
        );
        let beta = TenantId::parse("beta").unwrap();
        assert!(
            !clients.revoke(&beta, id).await.unwrap(),
            "not beta's client"
        );
        assert!(clients.revoke(&acme, id).await.unwrap());
        assert_eq!(
            clients
                .authenticate(id, &issued.client_secret)
                .await
                .unwrap(),
            None
        );
        assert!(clients.list(&acme).await.unwrap().is_empty());
        let bad = NewClient {
            name: "x".into(),
            scopes: vec![Scope::Scim],
            allowed_ips: vec!["10.0.0.0/99".into()],
            acting_users: vec![],
        };
        assert!(matches!(
            clients.create(&acme, bad).await,
            Err(ClientError::Invalid(_))
        ));
    }
}
