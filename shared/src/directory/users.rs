//! The users of a tenant's directory: create (or restore a soft-deleted one), change,
//! soft-delete, and the lookups by unique value; every write keeps the tenant's policy (a
//! non-blank userName, e-mails in the allowed domains) and records the intents the directory
//! must derive. Protocols (SCIM, member files) translate their requests into these calls.

use std::sync::Arc;

use serde_json::Value;

use super::change::{ATTEMPTS, Pin, settle};
use super::records::{
    Counted, Document, Kind, Record, Records, UniqueValue, corrupt, no_intents, pointed_id,
};
use super::user::{ENTERPRISE_SCHEMA, UserChange};
use super::{Deleted, DirectoryError, Lifecycle, Reconciler, Target};
use crate::auth::{TenantError, Tenants};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Item, Key, StoreError, Table, keys};

/// The unique values of a user document: userName, externalId, employeeNumber.
pub fn unique_values(t: &TenantId, doc: &Document) -> Vec<UniqueValue> {
    let mut out = Vec::new();
    if let Some(name) = doc.get("userName").and_then(Value::as_str) {
        out.push(UniqueValue {
            key: keys::user_name(t, name),
            attribute: "userName",
        });
    }
    if let Some(ext) = doc.get("externalId").and_then(Value::as_str) {
        out.push(UniqueValue {
            key: keys::user_external_id(t, ext),
            attribute: "externalId",
        });
    }
    let number = doc
        .get(ENTERPRISE_SCHEMA)
        .and_then(|e| e.get("employeeNumber"))
        .and_then(Value::as_str);
    if let Some(n) = number {
        out.push(UniqueValue {
            key: keys::employee_number(t, n),
            attribute: "employeeNumber",
        });
    }
    out
}

/// How users are kept.
pub fn kind() -> Kind {
    Kind {
        name: "User",
        key: keys::user,
        prefix: keys::USER_PREFIX,
        shards: keys::users_shards,
        counted: Counted::Counters {
            one: keys::user_counter,
            all: keys::user_counters,
        },
        unique: unique_values,
        indexed: &["userName", "externalId", "employeeNumber"],
        index: |t, attribute, value| match attribute {
            "userName" => Some(keys::user_name(t, value)),
            "externalId" => Some(keys::user_external_id(t, value)),
            "employeeNumber" => Some(keys::employee_number(t, value)),
            _ => None,
        },
        intents: no_intents,
    }
}

/// [`DirectoryError::Refused`] unless every e-mail of the user (or its userName, when it has no
/// e-mail) belongs to one of `domains`, when there are any; [`DirectoryError::Invalid`] for a
/// blank userName.
pub fn check(doc: &Document, domains: &[String]) -> Result<(), DirectoryError> {
    let name = doc.get("userName").and_then(Value::as_str).unwrap_or("");
    if name.trim().is_empty() {
        return Err(DirectoryError::Invalid("userName must not be blank".into()));
    }
    super::names::vet_user(doc)?;
    if domains.is_empty() {
        return Ok(());
    }
    let mut addresses: Vec<&str> = doc
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
        .collect();
    if addresses.is_empty() && name.contains('@') {
        addresses.push(name);
    }
    for address in addresses {
        if !crate::auth::address_allowed(domains, address) {
            return Err(DirectoryError::Refused(format!(
                "the e-mail domain of {address:?} is not allowed for this tenant (allowed: {})",
                domains.join(", ")
            )));
        }
    }
    Ok(())
}

/// A user a batch create made.
#[derive(Debug, Clone)]
pub struct Made {
    /// The user as stored.
    pub record: Record,
    /// Whether the batch's extra writes went with it (not for a restored user).
    pub with_extra: bool,
}

/// The users of every tenant over one table.
pub struct UserDirectory {
    pub(super) records: Records,
    pub(super) lifecycle: Lifecycle,
    reconciler: Reconciler,
    tenants: Tenants,
}

impl UserDirectory {
    /// Users kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            lifecycle: Lifecycle::new(table.clone()),
            reconciler: Reconciler::new(table.clone()),
            tenants: Tenants::new(table.clone()),
            records: Records::new(table, kind()),
        }
    }

    /// The stored users, for reads a protocol shapes itself (lists, filters).
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// The tenant's allowed e-mail domains (empty: any).
    pub async fn domains(&self, t: &TenantId) -> Result<Vec<String>, DirectoryError> {
        match self.tenants.allowed_domains(t).await {
            Ok(domains) => Ok(domains),
            Err(TenantError::Store(s)) => Err(s.into()),
            Err(TenantError::Invalid(m)) => Err(DirectoryError::Invalid(m)),
        }
    }

    /// Creates a user from its body. A soft-deleted user with the same userName (or else one
    /// of the same e-mail addresses) is restored instead: same id, its body replaced.
    pub async fn create(&self, t: &TenantId, doc: Document) -> Result<Record, DirectoryError> {
        check(&doc, &self.domains(t).await?)?;
        self.create_checked(t, doc).await
    }

    /// [`create`](Self::create) of a body already checked against the tenant's policy.
    pub(super) async fn create_checked(
        &self,
        t: &TenantId,
        doc: Document,
    ) -> Result<Record, DirectoryError> {
        for _ in 0..ATTEMPTS {
            let Some(deleted) = self.lifecycle.find_deleted(t, &doc).await? else {
                return self.records.create(t, doc).await;
            };
            match self.restore_checked(t, &deleted, doc.clone()).await {
                Err(DirectoryError::Stale) => continue,
                done => return done,
            }
        }
        Err(DirectoryError::Busy)
    }

    /// The soft-deleted user with this id, if any.
    pub async fn deleted(&self, t: &TenantId, id: &str) -> Result<Option<Deleted>, StoreError> {
        self.lifecycle.deleted(t, id).await
    }

    /// Restores the soft-deleted user `deleted` (same id) with the body `body`, which must keep
    /// the tenant's policy; [`DirectoryError::Stale`] when someone restored or purged it first.
    pub async fn restore(
        &self,
        t: &TenantId,
        deleted: &Deleted,
        body: Document,
    ) -> Result<Record, DirectoryError> {
        check(&body, &self.domains(t).await?)?;
        self.restore_checked(t, deleted, body).await
    }

    async fn restore_checked(
        &self,
        t: &TenantId,
        deleted: &Deleted,
        body: Document,
    ) -> Result<Record, DirectoryError> {
        let now = now_rfc3339();
        let created = deleted.doc.get("meta").and_then(|m| m.get("created"));
        let created = created.and_then(Value::as_str).unwrap_or(&now);
        let doc = self.records.stamped(&deleted.id, body, created, &now);
        let unique = unique_values(t, &doc)
            .into_iter()
            .map(|u| (u.key, u.attribute))
            .collect();
        let version = self.lifecycle.restore(t, deleted, &doc, unique).await?;
        let target = [Target::User(deleted.id.clone())];
        self.reconciler.settle_or_defer(t, &target).await;
        Ok(Record {
            id: deleted.id.clone(),
            version,
            doc,
        })
    }

    /// Reads a live user or fails with [`DirectoryError::NotFound`].
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<Record, DirectoryError> {
        self.records.fetch(t, id).await
    }

    /// Changes a user: `change` makes the new body from the stored user (`None`: nothing to
    /// change), which must keep the tenant's policy. Retried on a concurrent write unless
    /// `pin` names versions.
    pub async fn change<F, E>(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
        mut change: F,
    ) -> Result<Record, E>
    where
        F: FnMut(&Record) -> Result<Option<Document>, E>,
        E: From<DirectoryError>,
    {
        let domains = self.domains(t).await?;
        self.records
            .update(t, id, pin, |current| match change(current)? {
                Some(doc) => {
                    check(&doc, &domains)?;
                    Ok(Some(doc))
                }
                None => Ok(None),
            })
            .await
    }

    /// Applies a typed change to a user.
    pub async fn apply(
        &self,
        t: &TenantId,
        id: &str,
        change: &UserChange,
    ) -> Result<Record, DirectoryError> {
        self.change(t, id, &super::Unpinned, |current| {
            let mut doc = current.body();
            change.apply(&mut doc);
            Ok::<_, DirectoryError>(Some(doc))
        })
        .await
    }

    /// Soft-deletes a user: it leaves every group and every group-derived membership (through
    /// its intent, settled before this returns or left to the reconciler); a create with its
    /// userName or e-mail restores it.
    pub async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        pin: &dyn Pin,
    ) -> Result<(), DirectoryError> {
        for _ in 0..ATTEMPTS {
            let current = self.records.fetch(t, id).await?;
            pin.check(current.version)?;
            let indexes = unique_values(t, &current.doc)
                .into_iter()
                .map(|u| u.key)
                .collect();
            let deleted = self
                .lifecycle
                .soft_delete(t, id, current.version, &current.doc, indexes)
                .await;
            if let Some(done) = settle::<_, DirectoryError>(deleted, pin) {
                done?;
                let target = [Target::User(id.to_owned())];
                self.reconciler.settle_or_defer(t, &target).await;
                return Ok(());
            }
        }
        Err(DirectoryError::Busy)
    }

    /// Reads users by id, in order; `None` where absent.
    pub async fn get_many(
        &self,
        t: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        self.records.get_many(t, ids).await
    }

    /// The attributes a member file states (see [`stated`](super::user::stated)) of each user
    /// by id, in order; `None` where absent.
    pub async fn stated_many(
        &self,
        t: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<Option<super::Document>>, StoreError> {
        let read = |item: &Item| super::user::stated(&item.body).map_err(|e| corrupt(item, e));
        self.records.get_many_as(t, ids, read).await
    }

    /// The id of the user of each employeeNumber (matricule), in order; `None` where unknown.
    pub async fn by_employee_numbers(
        &self,
        t: &TenantId,
        numbers: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let keys = numbers.iter().map(|n| keys::employee_number(t, n));
        self.owners(keys.collect()).await
    }

    /// The id of the user of each userName, in order; `None` where free.
    pub async fn by_user_names(
        &self,
        t: &TenantId,
        names: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let keys = names.iter().map(|n| keys::user_name(t, n));
        self.owners(keys.collect()).await
    }

    /// The user each unique-index item points to.
    async fn owners(&self, keys: Vec<Key>) -> Result<Vec<Option<String>>, StoreError> {
        let items = self.records.table().get_many(&keys).await?;
        Ok(items
            .iter()
            .map(|i| i.as_ref().and_then(pointed_id))
            .collect())
    }
}
