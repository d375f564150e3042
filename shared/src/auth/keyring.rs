//! The signing keys a running process uses, and where they come from: fixed for the life of
//! the process (`muster serve`, tests), or read from a [`KeySource`] (Secrets Manager on
//! AWS) at start and again when a token names a key this process does not know yet, so that
//! a rotation reaches every function without a deploy.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::jwt::{Claims, JwtError};
use super::keys::{KeysError, SigningKeys};

/// Where a key set is read from while the process runs.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// Reads the current key set.
    async fn load(&self) -> Result<SigningKeys, KeysError>;
}

/// An unknown `kid` reloads the source at most this often, so that tokens naming made-up
/// keys cannot turn into a flood of reads.
pub const MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// Keys older than this are reloaded before the next token is signed, so that a process
/// stops signing with a key the source has retired.
pub const MAX_SIGNING_AGE: Duration = Duration::from_secs(300);

struct Loaded {
    keys: Arc<SigningKeys>,
    at: Instant,
}

/// The keys in use, and their source if they can change.
pub struct KeyRing {
    loaded: RwLock<Loaded>,
    source: Option<Arc<dyn KeySource>>,
    /// One reload at a time; holds when the last one was attempted.
    reload: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyRing {
    /// Keys that never change while the process runs.
    pub fn fixed(keys: SigningKeys) -> Self {
        Self {
            loaded: RwLock::new(Loaded {
                keys: Arc::new(keys),
                at: Instant::now(),
            }),
            source: None,
            reload: tokio::sync::Mutex::new(None),
        }
    }

    /// Reads `source` now (a process that cannot read its keys must not start) and keeps it
    /// for reloads.
    pub async fn from_source(source: Arc<dyn KeySource>) -> Result<Self, KeysError> {
        let keys = source.load().await?;
        let mut ring = Self::fixed(keys);
        ring.source = Some(source);
        Ok(ring)
    }

    /// The keys as last read.
    pub fn current(&self) -> Arc<SigningKeys> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .clone()
    }

    /// The keys to sign with: reloaded first when older than [`MAX_SIGNING_AGE`] (a failed
    /// reload is logged and the keys in hand are used).
    pub async fn signing(&self) -> Arc<SigningKeys> {
        let age = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .at
            .elapsed();
        if self.source.is_some() && age > MAX_SIGNING_AGE {
            self.reload(Duration::ZERO).await;
        }
        self.current()
    }

    /// Verifies `token` (see [`SigningKeys::verify`]). A token naming an unknown key makes
    /// the ring reload its source, at most once per [`MIN_RELOAD_INTERVAL`], and try again.
    pub async fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let keys = self.current();
        match keys.verify(token) {
            Err(JwtError::UnknownKey) if self.source.is_some() => {
                self.reload(MIN_RELOAD_INTERVAL).await;
                let reloaded = self.current();
                if Arc::ptr_eq(&reloaded, &keys) {
                    Err(JwtError::UnknownKey)
                } else {
                    reloaded.verify(token)
                }
            }
            other => other,
        }
    }

    /// Reloads the source unless another reload was attempted less than `interval` ago;
    /// callers waiting on a reload in flight see its result.
    async fn reload(&self, interval: Duration) {
        let Some(source) = &self.source else { return };
        let mut last = self.reload.lock().await;
        if last.is_some_and(|at| at.elapsed() < interval) {
            return;
        }
        *last = Some(Instant::now());
        match source.load().await {
            Ok(keys) => {
                *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Loaded {
                    keys: Arc::new(keys),
                    at: Instant::now(),
                };
                tracing::info!("signing keys reloaded");
            }
            Err(e) => tracing::error!(error = %e, "signing keys could not be reloaded"),
        }
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.current())
            .field("reloads", &self.source.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::auth::{Scope, jwt};
    use crate::ids::TenantId;

    /// A source whose set can be swapped, counting its reads.
    struct Swappable {
        keys: Mutex<SigningKeys>,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl KeySource for Swappable {
        async fn load(&self) -> Result<SigningKeys, KeysError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.keys.lock().unwrap().clone())
        }
    }

    fn token(keys: &SigningKeys) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = jwt::Claims::access(
            "c",
            &TenantId::parse("acme").unwrap(),
            &[Scope::Imports],
            now,
        );
        keys.sign(&claims)
    }

    #[tokio::test]
    async fn a_token_signed_by_a_key_added_to_the_source_later_is_accepted_after_one_reload() {
        let first = SigningKeys::generate();
        let source = Arc::new(Swappable {
            keys: Mutex::new(first.clone()),
            reads: AtomicUsize::new(0),
        });
        let ring = KeyRing::from_source(source.clone()).await.unwrap();
        assert_eq!(source.reads.load(Ordering::SeqCst), 1, "read at start");
        assert!(ring.verify(&token(&first)).await.is_ok());
        assert_eq!(
            source.reads.load(Ordering::SeqCst),
            1,
            "a known kid reads nothing"
        );

        let mut rotated = first.clone();
        rotated.rotate();
        *source.keys.lock().unwrap() = rotated.clone();
        assert!(ring.verify(&token(&rotated)).await.is_ok());
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
        assert_eq!(ring.current().current_kid(), rotated.current_kid());
    }

    #[tokio::test]
    async fn made_up_kids_reload_the_source_at_most_once_per_interval() {
        let source = Arc::new(Swappable {
            keys: Mutex::new(SigningKeys::generate()),
            reads: AtomicUsize::new(0),
        });
        let ring = KeyRing::from_source(source.clone()).await.unwrap();
        for _ in 0..50 {
            let stranger = SigningKeys::generate();
            assert_eq!(
                ring.verify(&token(&stranger)).await,
                Err(JwtError::UnknownKey)
            );
        }
        assert_eq!(
            source.reads.load(Ordering::SeqCst),
            2,
            "start, then one reload"
        );
    }

    #[tokio::test]
    async fn fixed_keys_never_reload() {
        let keys = SigningKeys::generate();
        let ring = KeyRing::fixed(keys.clone());
        assert!(ring.verify(&token(&keys)).await.is_ok());
        assert_eq!(
            ring.verify(&token(&SigningKeys::generate())).await,
            Err(JwtError::UnknownKey)
        );
        assert_eq!(ring.signing().await.current_kid(), keys.current_kid());
    }
}
