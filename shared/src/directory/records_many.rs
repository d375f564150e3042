//! Records many at a time, for file imports: reads by id in one batch, and creates that share
//! transactions of up to [`MAX_TRANSACTION_ITEMS`] items, each record keeping the uniqueness
//! guarantees of a single create.
//!
//! [`MAX_TRANSACTION_ITEMS`]: crate::store::MAX_TRANSACTION_ITEMS

use futures_util::future::join_all;

use super::DirectoryError;
use super::records::{Document, Record, Records, decode};
use crate::ids::TenantId;
use crate::store::{Item, StoreError, Transactions, Write};

/// The outcome of one create among many.
pub type Created = Result<Record, DirectoryError>;

/// The writes that go with the creation of record number `index` (of a batch) as `id`.
pub type Extra<'a> = dyn Fn(usize, &str) -> Vec<Write> + Send + Sync + 'a;

/// One transaction of creations: its writes, with the position (in the batch) and stamped
/// record of each creation it holds.
type Sendable = (Vec<Write>, Vec<(usize, Record)>);

/// Creations ready to send.
pub struct PreparedCreates {
    groups: Vec<Sendable>,
}

impl Records {
    /// Reads records by id, in order; `None` where absent.
    pub async fn get_many(
        &self,
        t: &TenantId,
        ids: &[&str],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        self.get_many_as(t, ids, decode).await
    }

    /// Reads records by id in one batch, each read from its item by `read`, in order; `None`
    /// where absent.
    pub async fn get_many_as<T>(
        &self,
        t: &TenantId,
        ids: &[&str],
        read: impl Fn(&Item) -> Result<T, StoreError>,
    ) -> Result<Vec<Option<T>>, StoreError> {
        let keys: Vec<_> = ids.iter().map(|id| (self.kind.key)(t, id)).collect();
        let items = self.table.get_many(&keys).await?;
        items
            .iter()
            .map(|i| i.as_ref().map(&read).transpose())
            .collect()
    }

    /// Prepares the creation of records from bodies, each with the writes `extra` makes for
    /// its position and new id, in its transaction: ids drawn, bodies stamped, transactions
    /// packed; nothing is sent until [`commit_creates`](Self::commit_creates).
    pub fn prepare_creates(
        &self,
        t: &TenantId,
        bodies: Vec<Document>,
        extra: &Extra<'_>,
    ) -> PreparedCreates {
        let mut transactions = Transactions::default();
        for (index, body) in bodies.into_iter().enumerate() {
            let (stored, mut writes, _) = self.creation(t, body);
            writes.extend(extra(index, &stored.id));
            writes.extend(self.kind.counted.add(t, &stored.id, 1));
            transactions.push(writes, (index, stored));
        }
        PreparedCreates {
            groups: transactions.into_groups(),
        }
    }

    /// Sends prepared creations (with the same `extra` they were prepared with, for the
    /// records created one by one after a transaction fails a condition); the answer holds
    /// each one's outcome, in order. A transaction that fails a condition wrote nothing; its
    /// records are then created one by one, so only the one that clashes gets the uniqueness
    /// error.
    pub async fn commit_creates(
        &self,
        t: &TenantId,
        prepared: PreparedCreates,
        extra: &Extra<'_>,
    ) -> Result<Vec<Created>, DirectoryError> {
        let n = prepared
            .groups
            .iter()
            .map(|(_, created)| created.len())
            .sum();
        let sent = prepared.groups.into_iter();
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
        created: Vec<(usize, Record)>,
        extra: &Extra<'_>,
    ) -> Result<Vec<(usize, Created)>, DirectoryError> {
        match self.table.transact(writes).await {
            Ok(()) => Ok(created
                .into_iter()
                .map(|(i, stored)| (i, Ok(stored)))
                .collect()),
            Err(StoreError::ConditionFailed { .. }) => {
                let mut done = Vec::with_capacity(created.len());
                for (index, stored) in created {
                    let body = stored.body();
                    let created = self.create_with(t, body, |id| extra(index, id));
                    done.push((index, created.await));
                }
                Ok(done)
            }
            Err(e) => Err(e.into()),
        }
    }
}
