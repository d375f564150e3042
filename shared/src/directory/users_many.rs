//! Users created many at a time, for file imports, in two steps: [`prepare_many`] reads and
//! computes everything (the documents, the tenant's policy, which ones restore a soft-deleted
//! user, the transactions) and writes nothing; [`commit_many`] writes. An import prepares a
//! chunk's new members while its forecast is being recorded, so the writes follow at once.
//!
//! [`prepare_many`]: UserDirectory::prepare_many
//! [`commit_many`]: UserDirectory::commit_many

use super::records::Document;
use super::records_many::{Extra, PreparedCreates};
use super::user::NewUser;
use super::users::{Made, check};
use super::{DirectoryError, UserDirectory};
use crate::ids::TenantId;

/// Users ready to be written: the ones the policy refused (with their error), the ones that
/// restore a soft-deleted user, and the creations of the others.
pub struct PreparedUsers {
    refused: Vec<(usize, DirectoryError)>,
    restores: Vec<(usize, Document)>,
    /// The position (in the batch) of each prepared creation, in order.
    positions: Vec<usize>,
    creates: PreparedCreates,
}

impl UserDirectory {
    /// Prepares users for [`commit_many`](Self::commit_many), each with the writes `extra`
    /// makes for it (its memberships, say) in its transaction: a user outside the allowed
    /// `domains` (read once by the caller) is refused, and one whose userName or e-mail is a
    /// soft-deleted user's will restore that user, without `extra`. Reads; never writes.
    pub async fn prepare_many(
        &self,
        t: &TenantId,
        users: &[&NewUser],
        domains: &[String],
        extra: &Extra<'_>,
    ) -> Result<PreparedUsers, DirectoryError> {
        let docs: Vec<Document> = users.iter().map(|u| u.record()).collect();
        let restorable = match docs.is_empty() {
            true => Vec::new(),
            false => self.lifecycle.may_restore(t, &docs).await?,
        };
        let (mut refused, mut restores) = (Vec::new(), Vec::new());
        let (mut bodies, mut positions) = (Vec::new(), Vec::new());
        for (i, (doc, restore)) in docs.into_iter().zip(restorable).enumerate() {
            if let Err(e) = check(&doc, domains) {
                refused.push((i, e));
            } else if restore {
                restores.push((i, doc));
            } else {
                positions.push(i);
                bodies.push(doc);
            }
        }
        let shifted = |k: usize, id: &str| extra(positions[k], id);
        let creates = self.records.prepare_creates(t, bodies, &shifted);
        Ok(PreparedUsers {
            refused,
            restores,
            positions,
            creates,
        })
    }

    /// Writes prepared users (with the `extra` they were prepared with); each outcome is what
    /// a single create would have had, in the batch's order.
    pub async fn commit_many(
        &self,
        t: &TenantId,
        prepared: PreparedUsers,
        extra: &Extra<'_>,
    ) -> Result<Vec<Result<Made, DirectoryError>>, DirectoryError> {
        let n = prepared.refused.len() + prepared.restores.len() + prepared.positions.len();
        let mut out: Vec<Option<Result<Made, DirectoryError>>> = (0..n).map(|_| None).collect();
        for (i, e) in prepared.refused {
            out[i] = Some(Err(e));
        }
        for (i, doc) in prepared.restores {
            let restored = self.create_checked(t, doc).await;
            out[i] = Some(restored.map(|record| Made {
                record,
                with_extra: false,
            }));
        }
        let positions = prepared.positions;
        let shifted = |k: usize, id: &str| extra(positions[k], id);
        let created = self
            .records
            .commit_creates(t, prepared.creates, &shifted)
            .await?;
        for (k, c) in created.into_iter().enumerate() {
            out[positions[k]] = Some(c.map(|record| Made {
                record,
                with_extra: true,
            }));
        }
        Ok(out.into_iter().map(|c| c.expect("an outcome")).collect())
    }
}
