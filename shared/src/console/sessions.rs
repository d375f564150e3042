//! Console sessions: a random secret in the browser's cookie, stored only as its SHA-256,
//! with an idle timeout and an absolute lifetime, and a per-session CSRF token.
//!
//! The cookie's value is `<tenant>.<secret>`, so a session is found with one read in its
//! tenant's partition.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::auth::{constant_time_eq, sha256_hex};
use crate::ids::{TenantId, random_bytes};
use crate::store::{Condition, Item, Key, StoreError, Table, keys};

/// A session unused for this long ends, in seconds.
pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in however much it is used, in seconds.
pub const ABSOLUTE_LIFETIME_SECS: i64 = 12 * 3600;
/// A session's last use is written at most this often, in seconds (reads stay reads).
const TOUCH_EVERY_SECS: i64 = 60;

/// A signed-in administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The tenant.
    pub tenant: TenantId,
    /// The administrator's user id.
    pub user: String,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    /// Sign-in time (Unix seconds).
    pub created: i64,
    /// Last use (Unix seconds, to within [`TOUCH_EVERY_SECS`]).
    pub last_seen: i64,
}

impl Session {
    /// When the session ends if it is not used again (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        (self.last_seen + IDLE_TIMEOUT_SECS).min(self.created + ABSOLUTE_LIFETIME_SECS)
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.csrf.as_bytes())
    }
}

/// The console sessions of every tenant.
#[derive(Clone)]
pub struct Sessions {
    table: Arc<dyn Table>,
}

/// The tenant and the key of the session a cookie names, if it is well formed.
fn locate(cookie: &str) -> Option<(TenantId, Key)> {
    let (tenant, secret) = cookie.split_once('.')?;
    if secret.len() != 43 {
        return None;
    }
    let tenant = TenantId::parse(tenant).ok()?;
    let key = keys::console_session(&tenant, &sha256_hex(secret.as_bytes()));
    Some((tenant, key))
}

fn item(key: Key, version: u64, session: &Session) -> Item {
    let body = serde_json::to_vec(session).expect("a session serialises");
    Item::new(key, version, body).expiring_at(session.expires_at())
}

impl Sessions {
    /// Sessions stored in `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Starts a session of `user` in `t` at `now`; answers the cookie value (shown to the
    /// browser only) and the session.
    pub async fn start(
        &self,
        t: &TenantId,
        user: &str,
        now: i64,
    ) -> Result<(String, Session), StoreError> {
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let cookie = format!("{t}.{secret}");
        let session = Session {
            tenant: t.clone(),
            user: user.to_owned(),
            csrf: URL_SAFE_NO_PAD.encode(random_bytes::<32>()),
            created: now,
            last_seen: now,
        };
        let (_, key) = locate(&cookie).expect("a cookie just made is well formed");
        self.table
            .put(item(key, 1, &session), Condition::NotExists)
            .await?;
        Ok((cookie, session))
    }

    /// The live session `cookie` names at `now`, its last use moved to `now` (written at most
    /// once a minute). Unknown, malformed, idle and expired sessions answer `None`; an ended
    /// one is also removed.
    pub async fn resume(&self, cookie: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let Some((tenant, key)) = locate(cookie) else {
            return Ok(None);
        };
        let Some(stored) = self.table.get(&key).await? else {
            return Ok(None);
        };
        let mut session: Session = serde_json::from_slice(&stored.body)
            .map_err(|e| StoreError::Backend(format!("corrupt console session: {e}")))?;
        if session.tenant != tenant {
            return Ok(None);
        }
        if now >= session.expires_at() {
            self.table.delete(&key, Condition::Always).await?;
            return Ok(None);
        }
        if now - session.last_seen >= TOUCH_EVERY_SECS {
            session.last_seen = now;
            let touched = item(key, stored.version + 1, &session);
            match self
                .table
                .put(touched, Condition::VersionIs(stored.version))
                .await
            {
                // Another request of the same session touched it first: as good.
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(session))
    }

    /// Ends the session `cookie` names (nothing happens for an unknown one).
    pub async fn end(&self, cookie: &str) -> Result<(), StoreError> {
        match locate(cookie) {
            Some((_, key)) => self.table.delete(&key, Condition::Always).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedTable;

    const T0: i64 = 1_800_000_000;

    fn sessions() -> Sessions {
        Sessions::new(Arc::new(EmbeddedTable::in_memory()))
    }

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[tokio::test]
    async fn a_session_lives_while_used_and_ends_after_the_idle_timeout() {
        let s = sessions();
        let (cookie, started) = s.start(&acme(), "u1", T0).await.unwrap();
        let mut at = T0;
        for _ in 0..10 {
            at += IDLE_TIMEOUT_SECS - 1;
            let live = s.resume(&cookie, at).await.unwrap().expect("used in time");
            assert_eq!((live.user.as_str(), &live.csrf), ("u1", &started.csrf));
        }
        assert!(
            s.resume(&cookie, at + IDLE_TIMEOUT_SECS)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.resume(&cookie, at).await.unwrap().is_none(),
            "an ended session is removed, not revived"
        );
    }

    #[tokio::test]
    async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
        let s = sessions();
        let (cookie, _) = s.start(&acme(), "u1", T0).await.unwrap();
        let mut at = T0;
        while at + 600 < T0 + ABSOLUTE_LIFETIME_SECS {
            at += 600;
            assert!(s.resume(&cookie, at).await.unwrap().is_some());
        }
        assert!(
            s.resume(&cookie, T0 + ABSOLUTE_LIFETIME_SECS)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn sign_out_malformed_cookies_and_other_tenants_find_no_session() {
        let s = sessions();
        let (cookie, _) = s.start(&acme(), "u1", T0).await.unwrap();
        let secret = cookie.split_once('.').unwrap().1;
        for bad in [
            "",
            "acme",
            "acme.short",
            "ACME!.x",
            &format!("beta.{secret}"),
        ] {
            assert!(s.resume(bad, T0).await.unwrap().is_none(), "{bad}");
        }
        s.end(&cookie).await.unwrap();
        assert!(s.resume(&cookie, T0).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn only_the_secrets_hash_is_stored() {
        let table = Arc::new(EmbeddedTable::in_memory());
        let s = Sessions::new(table.clone());
        let (cookie, _) = s.start(&acme(), "u1", T0).await.unwrap();
        let secret = cookie.split_once('.').unwrap().1;
        let items = crate::store::query_all(
            &*table,
            crate::store::Query::prefix(keys::tenant_pk(&acme()), "CSESS#"),
        )
        .await
        .unwrap();
        assert_eq!(items.len(), 1);
        assert!(!items[0].key.sk.contains(secret));
        assert!(!String::from_utf8_lossy(&items[0].body).contains(secret));
    }
}
