//! The Users service: create, read, list, replace, patch and delete SCIM Users of a tenant.

use std::sync::Arc;

use serde_json::{Value, json};

use super::repo::{Kind, Repo, SaveError, StoredResource, UniqueValue, no_intents};
use super::resource::{Document, normalize};
use super::schema::MEMBERSHIP_SCHEMA;
use super::schema::{ENTERPRISE_SCHEMA, ResourceType, resource_type};
use super::search::SearchResult;
use super::update::{ATTEMPTS, busy, settle};
use super::{ListParams, Preconditions, Projection, ScimError, patch};
use crate::auth::{TenantError, Tenants};
use crate::community::{Communities, Memberships};
use crate::directory::{DirectoryError, Lifecycle, Members, Reconciler, Target, is_active};
use crate::ids::{TenantId, now_rfc3339};
use crate::store::{Table, keys};

pub(super) fn user_rt() -> &'static ResourceType {
    resource_type("User")
}

fn unique_values(t: &TenantId, doc: &Document) -> Vec<UniqueValue> {
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

/// The Users service of every tenant.
pub struct Users {
    pub(super) repo: Repo,
    members: Members,
    memberships: Memberships,
    communities: Communities,
    tenants: Tenants,
    lifecycle: Lifecycle,
    reconciler: Reconciler,
}

/// 403 unless every e-mail of the user (or its userName, when it has no e-mail) belongs to one
/// of `domains`, when there are any.
pub(super) fn check_domain(domains: &[String], doc: &Document) -> Result<(), ScimError> {
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
    if addresses.is_empty() {
        addresses.extend(
            doc.get("userName")
                .and_then(Value::as_str)
                .filter(|n| n.contains('@')),
        );
    }
    for address in addresses {
        if !crate::auth::address_allowed(domains, address) {
            return Err(ScimError::forbidden(format!(
                "the e-mail domain of {address:?} is not allowed for this tenant (allowed: {})",
                domains.join(", ")
            )));
        }
    }
    Ok(())
}

/// The status a membership reads as while its user is inactive: it grants no access and no
/// invitation is sent for it.
pub const SUSPENDED: &str = "suspended";

/// Checks a normalized user body beyond its schema.
pub(super) fn check(doc: &Document) -> Result<(), ScimError> {
    let name = doc.get("userName").and_then(Value::as_str).unwrap_or("");
    if name.trim().is_empty() {
        return Err(ScimError::invalid_value("userName must not be blank"));
    }
    Ok(())
}

impl Users {
    /// Users kept in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        let kind = Kind {
            rt: user_rt(),
            key: keys::user,
            prefix: keys::USER_PREFIX,
            count_prefix: keys::USER_NAME_PREFIX,
            unique: unique_values,
            indexed: &["userName", "externalId", "employeeNumber"],
            index: |t, attribute, value| match attribute {
                "userName" => Some(keys::user_name(t, value)),
                "externalId" => Some(keys::user_external_id(t, value)),
                "employeeNumber" => Some(keys::employee_number(t, value)),
                _ => None,
            },
            intents: no_intents,
        };
        Self {
            lifecycle: Lifecycle::new(table.clone()),
            reconciler: Reconciler::new(table.clone()),
            members: Members::new(table.clone()),
            memberships: Memberships::new(table.clone()),
            communities: Communities::new(table.clone()),
            tenants: Tenants::new(table.clone()),
            repo: Repo::new(table, kind),
        }
    }

    /// The tenant's allowed e-mail domains (empty: any).
    async fn domains(&self, t: &TenantId) -> Result<Vec<String>, ScimError> {
        let tenant = self.tenants.get(t).await.map_err(|e| match e {
            TenantError::Store(s) => ScimError::from(s),
            TenantError::Invalid(m) => ScimError::invalid_value(m),
        })?;
        Ok(tenant.map(|t| t.domains).unwrap_or_default())
    }

    /// Creates a user from a POST body (RFC 7644 §3.3). A soft-deleted user with the same
    /// userName (or else one of the same e-mail addresses) is restored instead: same id,
    /// updated from the body.
    pub async fn create(&self, t: &TenantId, body: Value) -> Result<StoredResource, ScimError> {
        let doc = normalize(user_rt(), body)?;
        check(&doc)?;
        check_domain(&self.domains(t).await?, &doc)?;
        for _ in 0..ATTEMPTS {
            let Some(deleted) = self.lifecycle.find_deleted(t, &doc).await? else {
                return self.repo.create(t, doc).await;
            };
            match self.restore(t, &deleted, doc.clone()).await {
                Err(DirectoryError::Stale) => continue,
                done => return Ok(done?),
            }
        }
        Err(busy())
    }

    async fn restore(
        &self,
        t: &TenantId,
        deleted: &crate::directory::Deleted,
        body: Document,
    ) -> Result<StoredResource, DirectoryError> {
        let now = now_rfc3339();
        let created = deleted
            .doc
            .get("meta")
            .and_then(|m| m.get("created"))
            .cloned();
        let mut doc = Document::new();
        doc.insert("id".into(), json!(deleted.id));
        doc.extend(body);
        doc.insert(
            "meta".into(),
            json!({"resourceType": "User", "created": created.unwrap_or(json!(now)), "lastModified": now}),
        );
        let unique = unique_values(t, &doc)
            .into_iter()
            .map(|u| (u.key, u.attribute))
            .collect();
        let version = self.lifecycle.restore(t, deleted, &doc, unique).await?;
        let target = [Target::User(deleted.id.clone())];
        self.reconciler.settle_or_defer(t, &target).await;
        Ok(StoredResource {
            id: deleted.id.clone(),
            version,
            doc,
        })
    }

    /// The id of the user whose employeeNumber (matricule) is `number`, if any.
    pub async fn by_employee_number(
        &self,
        t: &TenantId,
        number: &str,
    ) -> Result<Option<String>, ScimError> {
        let item = self
            .repo
            .table()
            .get(&keys::employee_number(t, number))
            .await?;
        Ok(item
            .and_then(|i| serde_json::from_slice::<Value>(&i.body).ok())
            .and_then(|v| v["id"].as_str().map(str::to_owned)))
    }

    /// Reads a user or answers 404.
    pub async fn get(&self, t: &TenantId, id: &str) -> Result<StoredResource, ScimError> {
        self.repo.fetch(t, id).await
    }

    /// Replaces a user with a PUT body (RFC 7644 §3.5.1); unknown attributes are ignored.
    pub async fn replace(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let doc = normalize(user_rt(), body)?;
        check(&doc)?;
        check_domain(&self.domains(t).await?, &doc)?;
        self.repo
            .update(t, id, pre, |_| Ok(Some(doc.clone())))
            .await
    }

    /// Applies a PatchOp body (RFC 7644 §3.5.2), all operations or none.
    pub async fn patch(
        &self,
        t: &TenantId,
        id: &str,
        body: Value,
        pre: &Preconditions,
    ) -> Result<StoredResource, ScimError> {
        let ops = patch::parse_request(body)?;
        let domains = self.domains(t).await?;
        self.repo
            .update(t, id, pre, |current| {
                let mut doc = current.body();
                for op in &ops {
                    patch::apply(user_rt(), &mut doc, op)?;
                }
                let doc = normalize(user_rt(), Value::Object(doc))?;
                check(&doc)?;
                check_domain(&domains, &doc)?;
                Ok(Some(doc))
            })
            .await
    }

    /// Soft-deletes a user (RFC 7644 §3.6: it is no longer returned): it leaves every group
    /// and every group-derived membership; a POST with its userName restores it.
    pub async fn delete(
        &self,
        t: &TenantId,
        id: &str,
        pre: &Preconditions,
    ) -> Result<(), ScimError> {
        for _ in 0..ATTEMPTS {
            let current = self.repo.fetch(t, id).await?;
            pre.check_match(current.version)?;
            let indexes = unique_values(t, &current.doc)
                .into_iter()
                .map(|u| u.key)
                .collect();
            let deleted = self
                .lifecycle
                .soft_delete(t, id, current.version, &current.doc, indexes)
                .await;
            if let Some(done) = settle(deleted.map_err(SaveError::from), pre) {
                done?;
                let target = [Target::User(id.to_owned())];
                self.reconciler.settle_or_defer(t, &target).await;
                return Ok(());
            }
        }
        Err(busy())
    }

    /// The resources matching a list or search request.
    pub async fn search(
        &self,
        t: &TenantId,
        params: &ListParams,
    ) -> Result<SearchResult, ScimError> {
        self.repo.search(t, params).await
    }

    /// The user as answered: `meta.location`, `meta.version`, its `groups` when projected.
    pub async fn render(
        &self,
        t: &TenantId,
        user: &StoredResource,
        base: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let mut value = user.render(base, "/Users");
        if projection.includes("groups") {
            let mut groups = Vec::new();
            for group in self.members.of_user(t, &user.id).await? {
                let display = self
                    .repo
                    .table()
                    .get(&keys::group(t, &group))
                    .await?
                    .and_then(|i| serde_json::from_slice::<Value>(&i.body).ok())
                    .and_then(|g| g.get("displayName").cloned());
                let mut entry = json!({"value": group, "$ref": format!("{base}/Groups/{group}"), "type": "direct"});
                if let Some(d) = display {
                    entry["display"] = d;
                }
                groups.push(entry);
            }
            if !groups.is_empty() {
                value["groups"] = Value::Array(groups);
            }
        }
        if projection.includes_in(Some(MEMBERSHIP_SCHEMA), "memberships") {
            let active = is_active(&user.doc);
            let mut memberships = Vec::new();
            for m in self.memberships.of_user(t, &user.id).await? {
                let status = if active {
                    json!(m.status)
                } else {
                    json!(SUSPENDED)
                };
                let mut entry = json!({
                    "value": m.community,
                    "$ref": format!("{base}/Communities/{}", m.community),
                    "role": m.role,
                    "status": status,
                });
                if let Some(name) = self.communities.name(t, &m.community).await? {
                    entry["display"] = json!(name);
                }
                memberships.push(entry);
            }
            if !memberships.is_empty() {
                value[MEMBERSHIP_SCHEMA] = json!({ "memberships": memberships });
            }
            if value.get(MEMBERSHIP_SCHEMA).is_some()
                && let Some(Value::Array(schemas)) = value.get_mut("schemas")
                && !schemas.contains(&json!(MEMBERSHIP_SCHEMA))
            {
                schemas.push(json!(MEMBERSHIP_SCHEMA));
            }
        }
        Ok(projection.apply(value))
    }
}
