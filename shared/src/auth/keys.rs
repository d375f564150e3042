//! The keys that sign access tokens: a small set where the newest signs and every key
//! verifies, so that rotating keys never cuts off tokens already handed out.
//!
//! On disk, and in configuration read from the environment, the set is JSON:
//! `{"keys":[{"kid":"…","secret":"<base64url, 32+ bytes>","created":<unix seconds>}]}`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::clients::ClientRecord;
use super::jwt::{self, ACCESS_TOKEN_LIFETIME_SECS, Claims, JwtError, LEEWAY_SECS};
use super::scope::Scope;
use crate::ids::{random_bytes, to_hex};

/// The fewest secret bytes a key may have (RFC 7518 §3.2: a key of the same size as the
/// hash output or larger MUST be used with HS256).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Serialize, Deserialize)]
struct SigningKey {
    kid: String,
    secret: String,
    created: i64,
    #[serde(skip)]
    bytes: Vec<u8>,
}

/// A set of HS256 keys, oldest first; the last one signs.
#[derive(Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<SigningKey>,
}

/// Why a key set could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The JSON is not a valid key set.
    #[error("invalid signing keys: {0}")]
    Invalid(String),
    /// The key file could not be read or written.
    #[error("signing key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// An access token just issued, with what the token endpoint answers about it.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Its scopes, space-separated.
    pub scope: String,
    /// Its claims.
    pub claims: Claims,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_key(created: i64) -> SigningKey {
    let bytes = random_bytes::<MIN_SECRET_BYTES>().to_vec();
    SigningKey {
        kid: to_hex(&random_bytes::<8>()),
        secret: URL_SAFE_NO_PAD.encode(&bytes),
        created,
        bytes,
    }
}

impl SigningKeys {
    /// A set of one fresh random key.
    pub fn generate() -> Self {
        Self {
            keys: vec![new_key(now())],
        }
    }

    /// Parses a key set. It needs at least one key; kids must be unique and non-empty and
    /// secrets base64url of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn from_json(json: &str) -> Result<Self, KeysError> {
        let file: KeyFile =
            serde_json::from_str(json).map_err(|e| KeysError::Invalid(e.to_string()))?;
        let mut keys = file.keys;
        if keys.is_empty() {
            return Err(KeysError::Invalid("the set has no key".into()));
        }
        for (i, key) in keys.iter_mut().enumerate() {
            if key.kid.is_empty() || key.kid.len() > 64 {
                return Err(KeysError::Invalid(format!("key {i} has no valid kid")));
            }
            key.bytes = URL_SAFE_NO_PAD
                .decode(key.secret.trim_end_matches('='))
                .map_err(|_| KeysError::Invalid(format!("key {} is not base64url", key.kid)))?;
            if key.bytes.len() < MIN_SECRET_BYTES {
                return Err(KeysError::Invalid(format!(
                    "key {} is shorter than {MIN_SECRET_BYTES} bytes",
                    key.kid
                )));
            }
        }
        keys.sort_by_key(|k| k.created);
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.kid == key.kid) {
                return Err(KeysError::Invalid(format!("kid {} appears twice", key.kid)));
            }
        }
        Ok(Self { keys })
    }

    /// The set as JSON (secrets included: keep it where secrets belong).
    pub fn to_json(&self) -> String {
        let file = KeyFile {
            keys: self.keys.clone(),
        };
        serde_json::to_string_pretty(&file).expect("a key set serialises")
    }

    /// Reads the key set at `path`, or generates one and writes it there (mode 0600 on
    /// unix) when the file does not exist. Two processes racing to create it end up with
    /// the same keys: the file is linked into place only if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, KeysError> {
        let io = |source| KeysError::Io {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(json) => return Self::from_json(&json),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let keys = Self::generate();
        let tmp = write_private_temp(path, &keys.to_json()).map_err(io)?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(keys),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_json(&std::fs::read_to_string(path).map_err(io)?)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Writes the set to `path`, replacing it atomically (mode 0600 on unix).
    pub fn save(&self, path: &Path) -> Result<(), KeysError> {
        let io = |source| KeysError::Io {
            path: path.to_owned(),
            source,
        };
        let tmp = write_private_temp(path, &self.to_json()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// Adds a fresh key, which signs from now on, and drops retired keys: a key is retired
    /// once its successor has signed for longer than the token lifetime plus the leeway,
    /// since every token it signed has then expired. The newest key is always kept.
    pub fn rotate(&mut self) {
        self.rotate_at(now());
    }

    /// [`rotate`](Self::rotate) as if the clock read `now` (seconds since the Unix epoch).
    pub fn rotate_at(&mut self, now: i64) {
        self.keys.push(new_key(now));
        let window = ACCESS_TOKEN_LIFETIME_SECS + LEEWAY_SECS;
        let successors: Vec<i64> = self.keys.iter().skip(1).map(|k| k.created).collect();
        let mut i = 0;
        self.keys.retain(|_| {
            let keep = successors.get(i).is_none_or(|&next| now - next <= window);
            i += 1;
            keep
        });
    }

    /// The kid of the key that signs.
    pub fn current_kid(&self) -> &str {
        &self.current().kid
    }

    /// Every kid, oldest first.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    fn current(&self) -> &SigningKey {
        self.keys.last().expect("a key set is never empty")
    }

    /// Signs `claims` with the newest key.
    pub fn sign(&self, claims: &Claims) -> String {
        let key = self.current();
        jwt::encode(claims, &key.kid, &key.bytes)
    }

    /// Verifies `token` against the key its `kid` names, at the current time.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        self.verify_at(token, now())
    }

    /// Verifies `token` as if the clock read `now` (seconds since the Unix epoch).
    pub fn verify_at(&self, token: &str, now: i64) -> Result<Claims, JwtError> {
        let keys = &self.keys;
        jwt::decode(
            token,
            |kid| {
                keys.iter()
                    .find(|k| k.kid == kid)
                    .map(|k| k.bytes.as_slice())
            },
            now,
        )
    }

    /// Issues an access token for `client` with `scopes` (the caller checks that the client
    /// holds them).
    pub fn issue_access_token(&self, client: &ClientRecord, scopes: &[Scope]) -> AccessToken {
        let claims = Claims::access(&client.client_id, &client.tenant, scopes, now());
        AccessToken {
            access_token: self.sign(&claims),
            expires_in: claims.exp - claims.iat,
            scope: claims.scope.clone(),
            claims,
        }
    }
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kids", &self.kids())
            .finish_non_exhaustive()
    }
}

/// Writes `contents` to a new file beside `path`, readable by its owner only.
fn write_private_temp(path: &Path, contents: &str) -> std::io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp-{}", to_hex(&random_bytes::<6>())));
    let tmp = path.with_file_name(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;

    const T0: i64 = 1_700_000_000;

    fn claims(at: i64) -> Claims {
        Claims::access(
            "mcl_1",
            &TenantId::parse("acme").unwrap(),
            &[Scope::Scim],
            at,
        )
    }

    fn keys_at(t: i64) -> SigningKeys {
        SigningKeys {
            keys: vec![new_key(t)],
        }
    }

    #[test]
    fn the_newest_key_signs_and_every_key_verifies() {
        let mut keys = keys_at(T0);
        let old = keys.sign(&claims(T0));
        keys.rotate_at(T0 + 10);
        assert_eq!(keys.kids().len(), 2);
        let new = keys.sign(&claims(T0 + 10));
        assert!(keys.verify_at(&old, T0 + 20).is_ok());
        assert!(keys.verify_at(&new, T0 + 20).is_ok());
        assert_ne!(old.split('.').next(), new.split('.').next(), "kids differ");
    }

    #[test]
    fn rotation_drops_a_key_only_once_its_tokens_have_expired() {
        let mut keys = keys_at(T0);
        let first = keys.current_kid().to_owned();
        keys.rotate_at(T0 + 5000);
        assert!(
            keys.kids().contains(&first.as_str()),
            "still signing until now"
        );
        let second = keys.current_kid().to_owned();
        keys.rotate_at(T0 + 5000 + ACCESS_TOKEN_LIFETIME_SECS + LEEWAY_SECS);
        assert_eq!(
            keys.kids().len(),
            3,
            "tokens of the first key are barely alive"
        );
        keys.rotate_at(T0 + 5001 + ACCESS_TOKEN_LIFETIME_SECS + LEEWAY_SECS);
        assert!(!keys.kids().contains(&first.as_str()));
        assert!(keys.kids().contains(&second.as_str()));
        for _ in 0..3 {
            keys.rotate_at(T0 + 100_000);
        }
        assert_eq!(
            keys.kids().len(),
            4,
            "keys replaced at the same instant stay"
        );
        keys.rotate_at(T0 + 200_000);
        assert_eq!(keys.kids().len(), 2);
    }

    #[test]
    fn json_round_trips_and_bad_sets_are_refused() {
        let mut keys = SigningKeys::generate();
        keys.rotate();
        let back = SigningKeys::from_json(&keys.to_json()).unwrap();
        assert_eq!(back.kids(), keys.kids());
        let token = keys.sign(&claims(now()));
        assert!(back.verify(&token).is_ok());
        let short = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let long = URL_SAFE_NO_PAD.encode([7u8; 32]);
        for bad in [
            r#"{"keys":[]}"#.to_owned(),
            "not json".to_owned(),
            format!(r#"{{"keys":[{{"kid":"a","secret":"{short}","created":1}}]}}"#),
            format!(r#"{{"keys":[{{"kid":"","secret":"{long}","created":1}}]}}"#),
            format!(
                r#"{{"keys":[{{"kid":"a","secret":"{long}","created":1}},{{"kid":"a","secret":"{long}","created":2}}]}}"#
            ),
        ] {
            assert!(SigningKeys::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_shows_kids_but_never_secrets() {
        let keys = SigningKeys::generate();
        let shown = format!("{keys:?}");
        assert!(shown.contains(keys.current_kid()));
        assert!(!shown.contains(&keys.keys[0].secret));
    }

    #[test]
    fn load_or_create_generates_once_privately_then_reloads_the_same_keys() {
        let dir =
            std::env::temp_dir().join(format!("muster-keys-{}", to_hex(&random_bytes::<6>())));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("signing-keys.json");
        let created = SigningKeys::load_or_create(&path).unwrap();
        let loaded = SigningKeys::load_or_create(&path).unwrap();
        assert_eq!(created.kids(), loaded.kids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut rotated = loaded;
        rotated.rotate();
        rotated.save(&path).unwrap();
        assert_eq!(
            SigningKeys::load_or_create(&path).unwrap().kids(),
            rotated.kids()
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
