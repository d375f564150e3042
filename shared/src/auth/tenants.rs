//! Tenants: the organisations whose directories muster keeps apart.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, now_rfc3339};
use crate::remembered::Remembered;
use crate::store::{Condition, Query, StoreError, Table, Write, keys, query_all};

/// How long a process uses a tenant's allowed domains before reading them again.
pub const DOMAINS_CACHE_SECS: u64 = 5;

/// The allowed domains this process has read, by tenant.
fn known_domains() -> &'static Remembered<TenantId, Vec<String>> {
    static KNOWN: LazyLock<Remembered<TenantId, Vec<String>>> =
        LazyLock::new(|| Remembered::new(Duration::from_secs(DOMAINS_CACHE_SECS), 10_000));
    &KNOWN
}

/// A tenant's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// The tenant's id, as in its URLs.
    pub id: TenantId,
    /// A display name.
    pub name: String,
    /// E-mail domains the tenant's users must belong to (empty: any domain).
    pub domains: Vec<String>,
    /// When the tenant was created (RFC 3339).
    pub created: String,
    /// How many days soft-deleted users are kept before they are purged
    /// (absent: [`DEFAULT_RETENTION_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_user_retention_days: Option<u32>,
    /// How much of the service the tenant may use at once (absent: [`RequestLimits::DEFAULT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<RequestLimits>,
    /// The synchronization switch: whether the identity provider's groups grant community
    /// access through their mappings. Absent on tenants made before the switch: on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<bool>,
    /// Set (to a fresh nonce) when the switch changes, until every mapped group has an intent
    /// to be derived again: the tenant-wide durable intent of a switch (see
    /// `Reconciler::drain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_pending: Option<u64>,
    /// The MIRROR guard when an import states none: the largest share (0 to 1) of the
    /// members in scope a MIRROR may remove (absent: 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_threshold: Option<f64>,
    /// When automatic invitations were turned on (RFC 3339); absent while they are off (the
    /// default). While set, every member created in a community is sent its invitation
    /// without an administrator asking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_invite_since: Option<String>,
}

impl Tenant {
    /// Whether groups grant access through their mappings now.
    pub fn syncs(&self) -> bool {
        self.sync.unwrap_or(true)
    }

    /// Whether members created now are sent their invitation automatically.
    pub fn auto_invites(&self) -> bool {
        self.auto_invite_since.is_some()
    }

    /// Turns automatic invitations on (from now, keeping an earlier start) or off.
    pub fn set_auto_invite(&mut self, on: bool) {
        match (on, &self.auto_invite_since) {
            (true, Some(_)) => {}
            (true, None) => self.auto_invite_since = Some(now_rfc3339()),
            (false, _) => self.auto_invite_since = None,
        }
    }
}

/// A tenant's share of the service: requests per second (a token bucket of `burst`) and
/// requests in flight at once. Past either, requests are answered 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLimits {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests that may arrive at once after a quiet spell.
    pub burst: u32,
    /// Requests in flight at once.
    pub concurrent: u32,
}

impl RequestLimits {
    /// What a tenant gets unless set otherwise: far above what Entra ID or Okta send
    /// (a few requests per second each), well below what one tenant would need to crowd
    /// out the others.
    pub const DEFAULT: RequestLimits = RequestLimits {
        per_second: 200,
        burst: 400,
        concurrent: 16,
    };
}

/// How long soft-deleted users are kept when the tenant says nothing.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

impl Serialize for TenantId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TenantId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Whether `address`'s domain is one of `domains` or a subdomain of one (ignoring case).
pub fn address_allowed(domains: &[String], address: &str) -> bool {
    let domain = address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_lowercase();
    domains
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
}

/// What is needed to create a tenant.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    /// Display name (required, not blank).
    pub name: String,
    /// Allowed e-mail domains.
    pub domains: Vec<String>,
    /// Whether the synchronization switch starts on (a new integration starts off).
    pub sync: bool,
}

/// Why a tenant operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The request was invalid.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The tenant repository.
#[derive(Clone)]
pub struct Tenants {
    table: Arc<dyn Table>,
}

impl Tenants {
    /// A repository over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates a tenant with a fresh id; its record and list entry are written together.
    pub async fn create(&self, new: NewTenant) -> Result<Tenant, TenantError> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(TenantError::Invalid(
                "a tenant needs a non-blank name".into(),
            ));
        }
        let mut domains = Vec::new();
        for d in new.domains {
            let d = d.trim().trim_start_matches('@').to_lowercase();
            if d.is_empty() || !d.contains('.') || d.contains(['@', ' ', '/']) {
                return Err(TenantError::Invalid(format!(
                    "{d:?} is not an e-mail domain"
                )));
            }
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let tenant = Tenant {
            id: TenantId::generate(name),
            name: name.to_owned(),
            domains,
            created: now_rfc3339(),
            deleted_user_retention_days: None,
            limits: None,
            sync: Some(new.sync),
            sync_pending: None,
            mirror_threshold: None,
            auto_invite_since: None,
        };
        let body = serde_json::to_vec(&tenant).expect("a tenant serialises");
        let record = crate::store::Item::new(keys::tenant(&tenant.id), 1, body.clone());
        let listing = crate::store::Item::new(keys::tenant_listing(&tenant.id), 1, body);
        self.table
            .transact(vec![
                Write::Put {
                    item: record,
                    condition: Condition::NotExists,
                },
                Write::Put {
                    item: listing,
                    condition: Condition::NotExists,
                },
            ])
            .await?;
        Ok(tenant)
    }

    /// Reads a tenant; `Ok(None)` when it does not exist.
    pub async fn get(&self, id: &TenantId) -> Result<Option<Tenant>, TenantError> {
        match self.table.get(&keys::tenant(id)).await? {
            Some(item) => Ok(Some(decode(&item.body)?)),
            None => Ok(None),
        }
    }

    /// The tenant's allowed e-mail domains, as every user create checks them: read at most
    /// once per [`DOMAINS_CACHE_SECS`] per process (a change made through [`Self::update`] in
    /// this process applies at once; one made elsewhere within that bound). Empty when the
    /// tenant does not exist.
    pub async fn allowed_domains(&self, id: &TenantId) -> Result<Vec<String>, TenantError> {
        if let Some(domains) = known_domains().get(id) {
            return Ok(domains);
        }
        let domains = self.get(id).await?.map(|t| t.domains).unwrap_or_default();
        known_domains().insert(id.clone(), domains.clone());
        Ok(domains)
    }

    /// Changes a tenant's settings with `change` (its id and creation stay); the record and
    /// its list entry are written together, only if no one changed the record meanwhile.
    /// `Ok(None)` when the tenant does not exist.
    pub async fn update(
        &self,
        id: &TenantId,
        change: impl Fn(&mut Tenant),
    ) -> Result<Option<Tenant>, TenantError> {
        for _ in 0..8 {
            let Some(item) = self.table.get(&keys::tenant(id)).await? else {
                return Ok(None);
            };
            let mut tenant = decode(&item.body)?;
            change(&mut tenant);
            let body = serde_json::to_vec(&tenant).expect("a tenant serialises");
            let version = item.version + 1;
            let writes = vec![
                Write::Put {
                    item: crate::store::Item::new(keys::tenant(id), version, body.clone()),
                    condition: Condition::VersionIs(item.version),
                },
                Write::Put {
                    item: crate::store::Item::new(keys::tenant_listing(id), version, body),
                    condition: Condition::Always,
                },
            ];
            match self.table.transact(writes).await {
                Ok(()) => {
                    known_domains().remove(id);
                    return Ok(Some(tenant));
                }
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TenantError::Invalid(format!(
            "tenant {id} keeps changing; try again"
        )))
    }

    /// Turns the synchronization switch on or off. Changing it records the tenant-wide
    /// intent (`sync_pending`) in the same write, so the reconciler derives every mapped
    /// group again even if this process stops now. `Ok(None)` when the tenant does not exist.
    pub async fn set_sync(&self, id: &TenantId, on: bool) -> Result<Option<Tenant>, TenantError> {
        let nonce = u64::from_le_bytes(crate::ids::random_bytes::<8>()) >> 11 | 1;
        self.update(id, |t| {
            if t.syncs() != on || t.sync.is_none() {
                t.sync = Some(on);
                t.sync_pending = Some(nonce);
            }
        })
        .await
    }

    /// Clears the tenant-wide intent if it is still `nonce` (a switch changed again meanwhile
    /// keeps its own).
    pub async fn clear_sync_pending(&self, id: &TenantId, nonce: u64) -> Result<(), TenantError> {
        self.update(id, |t| {
            if t.sync_pending == Some(nonce) {
                t.sync_pending = None;
            }
        })
        .await
        .map(|_| ())
    }

    /// Every tenant, ordered by id.
    pub async fn list(&self) -> Result<Vec<Tenant>, TenantError> {
        let items = query_all(&*self.table, Query::prefix(keys::TENANTS_PK, "T#")).await?;
        items.iter().map(|i| decode(&i.body)).collect()
    }
}

fn decode(body: &[u8]) -> Result<Tenant, TenantError> {
    serde_json::from_slice(body)
        .map_err(|e| TenantError::Store(StoreError::Backend(format!("corrupt tenant record: {e}"))))
}
