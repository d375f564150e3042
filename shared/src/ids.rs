//! Identifiers and clocks: random ids, tenant ids, timestamps.

use std::fmt;

use chrono::{SecondsFormat, Utc};

/// Fills an array with bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

/// Random bytes for ids, drawn from the operating system's CSPRNG a page at a time: one
/// system call per 256 ids instead of one per id (an import creates tens of thousands a
/// second). Secrets keep drawing their bytes directly ([`random_bytes`]).
fn id_bytes() -> [u8; 16] {
    use std::cell::RefCell;
    const POOL: usize = 4096;
    thread_local! {
        static POOL_BYTES: RefCell<(Box<[u8; POOL]>, usize)> = RefCell::new((Box::new([0; POOL]), POOL));
    }
    POOL_BYTES.with_borrow_mut(|(pool, used)| {
        if *used == POOL {
            getrandom::fill(&mut pool[..])
                .expect("the operating system's random source is available");
            *used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&pool[*used..*used + 16]);
        // Each byte is handed out once.
        pool[*used..*used + 16].fill(0);
        *used += 16;
        out
    })
}

/// An RFC 9562 version 7 UUID (§5.7: 48 bits of Unix milliseconds, then 74 random bits) in
/// lowercase hyphenated form, used as resource id. Ids made later sort after earlier ones, so
/// a bulk of new resources lands at the end of the storage's key order instead of all over
/// it (far fewer pages rewritten per commit); the random bits keep ids unguessable.
pub fn random_id() -> String {
    let mut b = id_bytes();
    let millis = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = to_hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Lowercase hexadecimal of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// The current instant as an RFC 3339 UTC timestamp with millisecond precision
/// (the `dateTime` form of RFC 7643 §2.3.5).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The instant `days` days before now, in the form of [`now_rfc3339`] (so the two compare as
/// strings).
pub fn days_ago(days: u32) -> String {
    (Utc::now() - chrono::Duration::days(i64::from(days)))
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A tenant's id: 1 to 63 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
/// It appears in URLs (`/tenants/{id}/scim/v2`) and in storage keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

/// Why a string is not a [`TenantId`].
#[derive(Debug, thiserror::Error)]
#[error("a tenant id is 1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit")]
pub struct InvalidTenantId;

impl TenantId {
    /// Parses a tenant id.
    pub fn parse(s: &str) -> Result<Self, InvalidTenantId> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && !s.starts_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidTenantId)
        }
    }

    /// A new id for a tenant named `name`: a slug of the name and a random suffix,
    /// such as `acme-corp-7k2m9q`.
    pub fn generate(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= 40 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let suffix: String = random_bytes::<6>()
            .iter()
            .map(|b| ALPHABET[(b % 32) as usize] as char)
            .collect();
        let id = if slug.is_empty() {
            format!("t-{suffix}")
        } else {
            format!("{slug}-{suffix}")
        };
        Self(id)
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_version_7_uuids_that_sort_by_time() {
        let id = random_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = random_id();
        assert!(later > id, "{later} sorts after {id}");
        let millis = u64::from_str_radix(&id[..8], 16).unwrap() << 16
            | u64::from_str_radix(&id[9..13], 16).unwrap();
        let now = Utc::now().timestamp_millis() as u64;
        assert!(now - millis < 60_000, "the id carries the time it was made");
    }

    #[test]
    fn ids_drawn_across_many_refills_of_the_pool_never_repeat_their_random_bits() {
        let random_part = |id: &str| id[24..].to_owned();
        let ids: std::collections::HashSet<String> =
            (0..5_000).map(|_| random_part(&random_id())).collect();
        assert_eq!(
            ids.len(),
            5_000,
            "48 random bits each, 20 refills of the pool"
        );
    }

    #[test]
    fn tenant_ids_accept_slugs_and_refuse_anything_else() {
        assert!(TenantId::parse("acme-7k2m9q").is_ok());
        for bad in ["", "-acme", "Acme", "a/b", "a#b", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn generated_tenant_ids_are_slugs_of_the_name_and_parse_back() {
        let id = TenantId::generate("  Acme Corp. (EU)  ");
        assert!(id.as_str().starts_with("acme-corp-eu-"), "{id}");
        assert!(TenantId::parse(id.as_str()).is_ok());
        assert!(TenantId::generate("ÉÉÉ").as_str().starts_with("t-"));
    }
}
