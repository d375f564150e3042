//! HS256 JSON Web Tokens (RFC 7519 over the JWS compact serialisation of RFC 7515): the
//! access tokens the token endpoint issues, signed and verified with the `jsonwebtoken`
//! crate; muster adds the key choice by `kid` and the clock and lifetime rules.
//!
//! Only `alg: HS256` is accepted, exactly (RFC 8725 §3.1: never let the token choose the
//! algorithm, and never accept `none`); the key is the one the header's `kid` names.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::scope::{Scope, UnknownScope};
use crate::ids::{TenantId, random_bytes, to_hex};

/// The `iss` of every token muster issues.
pub const ISSUER: &str = "muster";

/// How long an access token lives, in seconds (the token endpoint's `expires_in`).
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 900;

/// Clock skew tolerated when checking `exp` and `iat`, in seconds (RFC 7519 §4.1.4 allows
/// "some small leeway").
pub const LEEWAY_SECS: i64 = 30;

/// Tokens longer than this are refused before any decoding.
const MAX_TOKEN_LEN: usize = 4096;

/// The claims of a muster access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: always [`ISSUER`].
    pub iss: String,
    /// Subject: the client id.
    pub sub: String,
    /// The tenant the client acts for.
    pub tenant: TenantId,
    /// Granted scopes, space-separated (RFC 6749 §3.3).
    pub scope: String,
    /// Issued at (seconds since the Unix epoch).
    pub iat: i64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: i64,
    /// A unique token id (32 hex digits).
    pub jti: String,
}

impl Claims {
    /// The claims of an access token for `client_id` of `tenant` with `scopes`, issued at
    /// `now` and living [`ACCESS_TOKEN_LIFETIME_SECS`].
    pub fn access(client_id: &str, tenant: &TenantId, scopes: &[Scope], now: i64) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            sub: client_id.to_owned(),
            tenant: tenant.clone(),
            scope: Scope::format_list(scopes),
            iat: now,
            exp: now + ACCESS_TOKEN_LIFETIME_SECS,
            jti: to_hex(&random_bytes::<16>()),
        }
    }

    /// The granted scopes.
    pub fn scopes(&self) -> Result<Vec<Scope>, UnknownScope> {
        Scope::parse_list(&self.scope)
    }
}

/// Why a token was refused. Callers answer every variant with the same 401; the variants
/// exist for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url segments of JSON objects, or a header without `kid`.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not exactly HS256, or the header lists critical extensions.
    #[error("unsupported algorithm or header")]
    Algorithm,
    /// No key has the header's `kid` (unknown, or retired by rotation).
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not match.
    #[error("bad signature")]
    Signature,
    /// `exp` is past (beyond the leeway), or `iat` is in the future.
    #[error("expired or not yet valid")]
    Expired,
    /// `exp` lies further after `iat` than the token endpoint ever issues (a token minted
    /// with a leaked key to last a year, say).
    #[error("lifetime longer than muster issues")]
    Lifetime,
    /// `iss` is not muster.
    #[error("wrong issuer")]
    Issuer,
}

/// What the crate checks for us: exactly HS256, the header (a `crit` it does not understand
/// is refused, RFC 7515 §4.1.11), the signature in constant time, `exp` and `iss` present
/// and `iss` muster's. The clock checks are ours, below, because they take the caller's
/// `now` and bound a token's lifetime, which the crate does not.
static VALIDATION: LazyLock<Validation> = LazyLock::new(|| {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "iss"]);
    v.set_issuer(&[ISSUER]);
    v.validate_exp = false;
    v.validate_nbf = false;
    v
});

/// Maps the crate's refusal to ours.
fn refusal(e: &jsonwebtoken::errors::Error) -> JwtError {
    use jsonwebtoken::errors::ErrorKind as Kind;
    match e.kind() {
        Kind::InvalidSignature => JwtError::Signature,
        Kind::InvalidAlgorithm
        | Kind::InvalidAlgorithmName
        | Kind::MissingAlgorithm
        | Kind::UnsupportedAlgorithm => JwtError::Algorithm,
        Kind::InvalidIssuer => JwtError::Issuer,
        Kind::ExpiredSignature | Kind::ImmatureSignature => JwtError::Expired,
        _ => JwtError::Malformed,
    }
}

/// Signs `claims` with HS256 under the key `kid`, returning the compact serialisation
/// `header.payload.signature` (RFC 7515 §7.1).
pub fn encode(claims: &Claims, kid: &str, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_secret(secret).expect("signing keys are never empty");
    jsonwebtoken::encode(&header, claims, &key).expect("HS256 signing cannot fail")
}

/// Verifies `token` and returns its claims. `key` maps a `kid` to its secret; `now` is
/// seconds since the Unix epoch.
///
/// The header is read first, unverified, only to pick the key its `kid` names; a header
/// whose `alg` is not exactly HS256 is refused before any key is chosen (RFC 8725 §3.1).
/// Then the crate verifies the signature and the claims as [`VALIDATION`] says, and this
/// checks `exp` with [`LEEWAY_SECS`] (RFC 7519 §4.1.4: the token MUST NOT be accepted on or
/// after its expiry), `iat` not in the future, and `exp - iat` no longer than
/// [`ACCESS_TOKEN_LIFETIME_SECS`] plus the leeway.
pub fn decode<'k>(
    token: &str,
    key: impl FnOnce(&str) -> Option<&'k [u8]>,
    now: i64,
) -> Result<Claims, JwtError> {
    if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(JwtError::Malformed);
    }
    // One spelling per token: each segment must be canonical base64url (RFC 7515 §2, no
    // padding, zero trailing bits), which the crate's decoder does not insist on.
    let segments: Vec<&str> = token.split('.').collect();
    if segments.iter().any(|s| URL_SAFE_NO_PAD.decode(s).is_err()) {
        return Err(if URL_SAFE_NO_PAD.decode(segments[2]).is_err() {
            JwtError::Signature
        } else {
            JwtError::Malformed
        });
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| refusal(&e))?;
    if header.alg != Algorithm::HS256 {
        return Err(JwtError::Algorithm);
    }
    let kid = header.kid.ok_or(JwtError::Malformed)?;
    let secret = key(&kid).ok_or(JwtError::UnknownKey)?;
    let key = DecodingKey::from_secret(secret).map_err(|_| JwtError::UnknownKey)?;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &VALIDATION)
        .map_err(|e| refusal(&e))?
        .claims;
    if now >= claims.exp.saturating_add(LEEWAY_SECS) || claims.iat > now.saturating_add(LEEWAY_SECS)
    {
        return Err(JwtError::Expired);
    }
    if claims.exp.saturating_sub(claims.iat) > ACCESS_TOKEN_LIFETIME_SECS + LEEWAY_SECS {
        return Err(JwtError::Lifetime);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_700_000_000;

    fn claims() -> Claims {
        Claims::access(
            "mcl_0123",
            &TenantId::parse("acme").unwrap(),
            &[Scope::Scim],
            NOW,
        )
    }

    fn lookup(kid: &str) -> Option<&'static [u8]> {
        (kid == "k1").then_some(KEY)
    }

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_signed_token_decodes_to_the_same_claims() {
        let c = claims();
        let token = encode(&c, "k1", KEY);
        assert_eq!(decode(&token, lookup, NOW + 10), Ok(c));
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "k1"})
        );
    }

    #[test]
    fn the_signature_matches_a_known_hs256_vector() {
        // RFC 7515 appendix A.1 signs this input with this key; we reproduce the signature.
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let key = EncodingKey::from_secret(&key).unwrap();
        assert_eq!(
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn a_tampered_payload_or_signature_is_refused() {
        let token = encode(&claims(), "k1", KEY);
        let [h, _, s]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().unwrap();
        let mut other = claims();
        other.tenant = TenantId::parse("beta").unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
        let forged = format!("{h}.{forged_payload}.{s}");
        assert_eq!(decode(&forged, lookup, NOW), Err(JwtError::Signature));
        // A character inside the signature changes its bytes.
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let flipped = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert_eq!(decode(&flipped, lookup, NOW), Err(JwtError::Signature));
        // The last character of a 32-byte signature carries 2 unused bits: another spelling
        // of the same bytes is refused all the same (one spelling per token).
        let last = token.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let value = alphabet.find(last).unwrap();
        let respelled = alphabet.as_bytes()[value | 1] as char;
        let respelled = format!("{}{respelled}", &token[..token.len() - 1]);
        assert_eq!(decode(&respelled, lookup, NOW), Err(JwtError::Signature));
        let other_key = encode(&claims(), "k1", b"another key of thirty-two bytes!");
        assert_eq!(decode(&other_key, lookup, NOW), Err(JwtError::Signature));
    }

    #[test]
    fn only_hs256_exactly_is_accepted() {
        let token = encode(&claims(), "k1", KEY);
        let rest = token.split_once('.').unwrap().1;
        for alg in ["HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA"] {
            let header = segment(&format!(r#"{{"alg":"{alg}","kid":"k1"}}"#));
            assert_eq!(
                decode(&format!("{header}.{rest}"), lookup, NOW),
                Err(JwtError::Algorithm),
                "{alg}"
            );
        }
        // Names that are no JWS algorithm at all do not even parse as a header.
        for alg in ["none", "None", "hs256", "HS256 "] {
            let header = segment(&format!(r#"{{"alg":"{alg}","kid":"k1"}}"#));
            assert_eq!(
                decode(&format!("{header}.{rest}"), lookup, NOW),
                Err(JwtError::Malformed),
                "{alg}"
            );
        }
        let payload = token.split('.').nth(1).unwrap();
        let unsigned = format!("{}.{payload}.", segment(r#"{"alg":"none","kid":"k1"}"#));
        assert!(decode(&unsigned, lookup, NOW).is_err());
        let crit = segment(r#"{"alg":"HS256","kid":"k1","crit":["exp"]}"#);
        assert!(decode(&format!("{crit}.{rest}"), lookup, NOW).is_err());
    }

    #[test]
    fn an_unknown_kid_or_a_missing_kid_is_refused() {
        let token = encode(&claims(), "k2", KEY);
        assert_eq!(decode(&token, lookup, NOW), Err(JwtError::UnknownKey));
        let rest = token.split_once('.').unwrap().1;
        let no_kid = format!("{}.{rest}", segment(r#"{"alg":"HS256"}"#));
        assert_eq!(decode(&no_kid, lookup, NOW), Err(JwtError::Malformed));
    }

    #[test]
    fn expiry_is_enforced_with_a_small_leeway() {
        let token = encode(&claims(), "k1", KEY);
        let exp = NOW + ACCESS_TOKEN_LIFETIME_SECS;
        assert!(decode(&token, lookup, exp).is_ok());
        assert!(decode(&token, lookup, exp + LEEWAY_SECS - 1).is_ok());
        assert_eq!(
            decode(&token, lookup, exp + LEEWAY_SECS),
            Err(JwtError::Expired)
        );
        assert_eq!(
            decode(&token, lookup, NOW - LEEWAY_SECS - 1),
            Err(JwtError::Expired),
            "issued in the future"
        );
    }

    #[test]
    fn a_validly_signed_token_living_longer_than_muster_issues_is_refused() {
        let mut long = claims();
        long.exp = long.iat + 365 * 24 * 3600;
        let token = encode(&long, "k1", KEY);
        assert_eq!(decode(&token, lookup, NOW), Err(JwtError::Lifetime));
        long.exp = long.iat + ACCESS_TOKEN_LIFETIME_SECS + LEEWAY_SECS;
        assert!(decode(&encode(&long, "k1", KEY), lookup, NOW).is_ok());
        long.exp += 1;
        assert_eq!(
            decode(&encode(&long, "k1", KEY), lookup, NOW),
            Err(JwtError::Lifetime)
        );
    }

    #[test]
    fn a_wrong_issuer_is_refused() {
        let mut c = claims();
        c.iss = "someone-else".into();
        assert_eq!(
            decode(&encode(&c, "k1", KEY), lookup, NOW),
            Err(JwtError::Issuer)
        );
    }

    #[test]
    fn garbage_is_malformed_and_never_panics() {
        for bad in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "e30.e30.",
            "not-a-token",
            &"x".repeat(5000),
        ] {
            assert!(decode(bad, lookup, NOW).is_err(), "{bad:?}");
        }
    }
}
