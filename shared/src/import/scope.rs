//! MIRROR's scope: the file-sourced memberships of the communities in scope that the file does
//! not list (what a MIRROR deletes), and what each community would lose. Each community is
//! read in a task of its own, a few at once.

use std::collections::hash_map::RandomState;
use std::sync::Arc;

use futures_util::StreamExt;

use super::check::{Checked, CommunityLoss, fingerprint};
use super::fingerprints::Fingerprints;
use super::jobs::Job;
use super::task::Spawned;
use super::worker::ImportContext;
use crate::store::StoreError;

/// Members read per page of a community.
const PAGE: usize = 1000;

/// Communities read at once: enough to keep the cores busy, few enough that a scope of
/// hundreds of communities does not burst a table's read capacity.
const COMMUNITIES_AT_ONCE: usize = 4;

/// One community's loss and the (user id, community id) memberships it would lose.
type Loss = (CommunityLoss, Vec<(String, String)>);

/// Adds to `out` the deletions and losses of every community of `scope` (its id and its small
/// number in the `keep` fingerprints), in scope order. `keep` holds the fingerprints, under
/// `hasher`, of the (existing user, community) pairs the file lists.
pub(super) async fn deletions(
    ctx: &ImportContext,
    job: &Job,
    hasher: &RandomState,
    keep: Fingerprints<()>,
    scope: Vec<(String, u32)>,
    out: &mut Checked,
) -> Result<(), StoreError> {
    let keep = Arc::new(keep);
    let reads = scope.into_iter().map(|(community, index)| {
        let (ctx, t) = (ctx.clone(), job.tenant.clone());
        let (hasher, keep) = (hasher.clone(), keep.clone());
        Spawned::new(async move {
            let fp = |user: &str| fingerprint(&hasher, (fingerprint(&hasher, user), index));
            community_loss(&ctx, &t, community, |user| !keep.contains(fp(user))).await
        })
    });
    let mut losses = futures_util::stream::iter(reads).buffered(COMMUNITIES_AT_ONCE);
    while let Some(read) = losses.next().await {
        let (loss, deletions) = read?;
        out.members_in_scope += loss.members;
        out.deletions.extend(deletions);
        out.per_community.push(loss);
    }
    Ok(())
}

/// Reads every member of `community`: counts them, and lists the file-sourced ones for which
/// `lost` holds.
async fn community_loss(
    ctx: &ImportContext,
    t: &crate::ids::TenantId,
    community: String,
    lost: impl Fn(&str) -> bool,
) -> Result<Loss, StoreError> {
    let mut loss = CommunityLoss {
        community: community.clone(),
        ..CommunityLoss::default()
    };
    let mut deletions = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = ctx
            .memberships
            .of_community(t, &community, cursor, PAGE)
            .await?;
        loss.members += page.len() as u64;
        for (user, from_file) in page {
            loss.from_file += u64::from(from_file);
            if from_file && lost(&user) {
                loss.deletions += 1;
                deletions.push((user, community.clone()));
            }
        }
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok((loss, deletions)),
        }
    }
}
