//! One-time sign-in links of the administration console: a random code, stored only as its
//! SHA-256, redeemable once within [`LINK_LIFETIME_SECS`].

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::auth::sha256_hex;
use crate::ids::{TenantId, random_bytes};
use crate::store::{Condition, Item, StoreError, Table, keys};

/// How long a sign-in link stays valid, in seconds.
pub const LINK_LIFETIME_SECS: i64 = 15 * 60;

/// A link just issued: its code (shown once) and when it stops working.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    /// The one-time code (43 base64url characters, 256 random bits).
    pub code: String,
    /// Unix seconds after which the code is refused.
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct LinkRecord {
    user: String,
    expires_at: i64,
}

/// The sign-in links of every tenant.
#[derive(Clone)]
pub struct ConsoleLinks {
    table: Arc<dyn Table>,
}

impl ConsoleLinks {
    /// Links stored in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Issues a link that signs `user` (a user id of `t`) in, at `now` (Unix seconds).
    pub async fn issue(
        &self,
        t: &TenantId,
        user: &str,
        now: i64,
    ) -> Result<IssuedLink, StoreError> {
        let code = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let expires_at = now + LINK_LIFETIME_SECS;
        let body = serde_json::to_vec(&LinkRecord {
            user: user.to_owned(),
            expires_at,
        })
        .expect("a link record serialises");
        let item = Item::new(keys::console_link(t, &sha256_hex(code.as_bytes())), 1, body)
            .expiring_at(expires_at);
        self.table.put(item, Condition::NotExists).await?;
        Ok(IssuedLink { code, expires_at })
    }

    /// The user `code` signs in, consuming it: a code works once, and only until it
    /// expires. Of two concurrent redemptions, only one succeeds. Unknown, used and expired
    /// codes all answer `None`.
    pub async fn redeem(
        &self,
        t: &TenantId,
        code: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(None);
        }
        let key = keys::console_link(t, &sha256_hex(code.as_bytes()));
        let Some(item) = self.table.get(&key).await? else {
            return Ok(None);
        };
        match self
            .table
            .delete(&key, Condition::VersionIs(item.version))
            .await
        {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let record: LinkRecord = serde_json::from_slice(&item.body)
            .map_err(|e| StoreError::Backend(format!("corrupt console link: {e}")))?;
        Ok((now < record.expires_at).then_some(record.user))
    }
}

/// The URL that signs in with `code` on the service at `base` (its public origin).
pub fn sign_in_url(base: &str, t: &TenantId, code: &str) -> String {
    format!(
        "{}/console/sign-in?tenant={t}&code={code}",
        base.trim_end_matches('/')
    )
}

/// The JSON answer of an issued link: `url`, `user_id`, `expires_at` (RFC 3339).
pub fn link_json(base: &str, t: &TenantId, user_id: &str, link: &IssuedLink) -> serde_json::Value {
    let expires = chrono::DateTime::from_timestamp(link.expires_at, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    serde_json::json!({
        "url": sign_in_url(base, t, &link.code),
        "tenant_id": t.as_str(),
        "user_id": user_id,
        "expires_at": expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedTable;

    const T0: i64 = 1_800_000_000;

    #[tokio::test]
    async fn a_link_signs_in_once_and_only_before_it_expires() {
        let links = ConsoleLinks::new(Arc::new(EmbeddedTable::in_memory()));
        let t = TenantId::parse("acme").unwrap();
        let link = links.issue(&t, "u1", T0).await.unwrap();
        assert_eq!(link.expires_at, T0 + LINK_LIFETIME_SECS);
        let other = TenantId::parse("beta").unwrap();
        assert_eq!(links.redeem(&other, &link.code, T0).await.unwrap(), None);
        assert_eq!(
            links
                .redeem(&t, &link.code, T0 + 10)
                .await
                .unwrap()
                .as_deref(),
            Some("u1")
        );
        assert_eq!(
            links.redeem(&t, &link.code, T0 + 11).await.unwrap(),
            None,
            "used"
        );
        let late = links.issue(&t, "u1", T0).await.unwrap();
        assert_eq!(
            links
                .redeem(&t, &late.code, T0 + LINK_LIFETIME_SECS)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            links.redeem(&t, &late.code, T0).await.unwrap(),
            None,
            "an expired code is consumed too"
        );
    }

    #[tokio::test]
    async fn of_many_concurrent_redemptions_of_one_link_exactly_one_signs_in() {
        let links = ConsoleLinks::new(Arc::new(EmbeddedTable::in_memory()));
        let t = TenantId::parse("acme").unwrap();
        let link = links.issue(&t, "u1", T0).await.unwrap();
        let tries = (0..16).map(|_| {
            let (links, t, code) = (links.clone(), t.clone(), link.code.clone());
            tokio::spawn(async move { links.redeem(&t, &code, T0).await.unwrap() })
        });
        let mut won = 0;
        for attempt in tries {
            won += usize::from(attempt.await.unwrap().is_some());
        }
        assert_eq!(won, 1);
    }
}
