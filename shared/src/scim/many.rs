//! Users many at a time, for file imports: reads by id or employeeNumber in one batch, and
//! creates that share transactions of up to [`MAX_TRANSACTION_ITEMS`] items. Each user keeps
//! the uniqueness guarantees of a single create.
//!
//! [`MAX_TRANSACTION_ITEMS`]: crate::store::MAX_TRANSACTION_ITEMS

use futures_util::future::join_all;
use serde_json::Value;

use super::repo::{Repo, StoredResource, decode};
use super::resource::{Document, normalize};
use super::users::{check, check_domain, user_rt};
use super::{ScimError, Users};
use crate::ids::TenantId;
use crate::store::{Key, StoreError, Transactions, Write, keys};

/// The answer of one create among many.
pub type Created = Result<StoredResource, ScimError>;

/// The writes that go with the creation of resource number `index` (of a batch) as `id`.
pub type Extra<'a> = dyn Fn(usize, &str) -> Vec<Write> + Send + Sync + 'a;

impl Repo {
    /// Reads resources by id, in order; `None` where absent.
    pub async fn get_many(
        &self,
        t: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<Option<StoredResource>>, ScimError> {
        let keys: Vec<_> = ids.iter().map(|id| (self.kind.key)(t, id)).collect();
        let items = self.table.get_many(&keys).await?;
        items
            .iter()
            .map(|i| i.as_ref().map(decode).transpose())
            .collect()
    }

    /// Creates resources from normalized bodies, each with the writes `extra` makes for its
    /// position and new id, in its transaction; the answer holds each one's outcome, in
    /// order. A transaction that fails a condition wrote nothing; its resources are then
    /// created one by one, so only the one that clashes gets the uniqueness error.
    pub async fn create_many(
        &self,
        t: &TenantId,
        bodies: Vec<Document>,
        extra: &Extra<'_>,
    ) -> Result<Vec<Created>, ScimError> {
        let n = bodies.len();
        let mut transactions = Transactions::default();
        for (index, body) in bodies.into_iter().enumerate() {
            let (stored, mut writes, _) = self.creation(t, body);
            writes.extend(extra(index, &stored.id));
            transactions.push(writes, (index, stored));
        }
        let sent = transactions.into_groups().into_iter();
        let outcomes =
            join_all(sent.map(|(writes, created)| self.commit(t, writes, created, extra))).await;
        let mut out: Vec<Option<Created>> = (0..n).map(|_| None).collect();
        for outcome in outcomes {
            for (index, created) in outcome? {
                out[index] = Some(created);
            }
        }
        Ok(out
            .into_iter()
            .map(|c| c.expect("every creation has an outcome"))
            .collect())
    }

    /// Sends one transaction of creations; when a condition fails, creates them one by one.
    async fn commit(
        &self,
        t: &TenantId,
        writes: Vec<Write>,
        created: Vec<(usize, StoredResource)>,
        extra: &Extra<'_>,
    ) -> Result<Vec<(usize, Created)>, ScimError> {
        match self.table.transact(writes).await {
            Ok(()) => Ok(created
                .into_iter()
                .map(|(i, stored)| (i, Ok(stored)))
                .collect()),
            Err(StoreError::ConditionFailed { .. }) => {
                let mut done = Vec::with_capacity(created.len());
                for (index, stored) in created {
                    let mut body = stored.doc;
                    body.remove("id");
                    body.remove("meta");
                    let created = self.create_with(t, body, |id| extra(index, id));
                    done.push((index, created.await));
                }
                Ok(done)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Users {
    /// Normalizes and checks a user body as a create would, against the tenant's allowed
    /// e-mail `domains` (read once by the caller for a whole batch).
    pub fn prepare(&self, body: Value, domains: &[String]) -> Result<Document, ScimError> {
        let doc = normalize(user_rt(), body)?;
        check(&doc)?;
        check_domain(domains, &doc)?;
        Ok(doc)
    }

    /// Creates users from prepared bodies (see [`Users::prepare`]), each with the writes
    /// `extra` makes for it (its memberships, say) in its transaction; each answer is what a
    /// single create would have answered.
    pub async fn create_many(
        &self,
        t: &TenantId,
        docs: Vec<Document>,
        extra: &Extra<'_>,
    ) -> Result<Vec<Created>, ScimError> {
        self.repo.create_many(t, docs, extra).await
    }

    /// Reads users by id, in order; `None` where absent.
    pub async fn get_many(
        &self,
        t: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<Option<StoredResource>>, ScimError> {
        self.repo.get_many(t, ids).await
    }

    /// The id of the user of each employeeNumber (matricule), in order; `None` where unknown.
    pub async fn by_employee_numbers(
        &self,
        t: &TenantId,
        numbers: &[&str],
    ) -> Result<Vec<Option<String>>, ScimError> {
        let keys = numbers.iter().map(|n| keys::employee_number(t, n));
        self.owners(keys.collect()).await
    }

    /// The id of the user of each userName, in order; `None` where free.
    pub async fn by_user_names(
        &self,
        t: &TenantId,
        names: &[&str],
    ) -> Result<Vec<Option<String>>, ScimError> {
        let keys = names.iter().map(|n| keys::user_name(t, n));
        self.owners(keys.collect()).await
    }

    /// The user each unique-index item points to.
    async fn owners(&self, keys: Vec<Key>) -> Result<Vec<Option<String>>, ScimError> {
        let items = self.repo.table().get_many(&keys).await?;
        Ok(items
            .into_iter()
            .map(|i| {
                i.and_then(|i| serde_json::from_slice::<Value>(&i.body).ok())
                    .and_then(|v| v["id"].as_str().map(str::to_owned))
            })
            .collect())
    }
}
