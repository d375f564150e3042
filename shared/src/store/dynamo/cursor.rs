//! Page cursors of the DynamoDB adapter: the last evaluated sort key, sealed with an
//! HMAC-SHA256 tag over the partition, the query range and that key, encoded base64url.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{SkRange, StoreError};

/// Length of the HMAC-SHA256 tag appended to the sort key.
const TAG_LEN: usize = 32;

/// Seals and opens page cursors with one secret key.
#[derive(Clone)]
pub struct Cursors {
    key: [u8; 32],
}

impl Cursors {
    /// Cursors sealed with `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The cursor resuming the query of `pk` over `range` after sort key `sk`.
    pub fn seal(&self, pk: &str, range: &SkRange, sk: &str) -> String {
        let mut bytes = sk.as_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(pk, range, sk).finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The sort key sealed in `cursor`, if this key sealed it for this very query.
    pub fn open(&self, cursor: &str, pk: &str, range: &SkRange) -> Result<String, StoreError> {
        let invalid = || StoreError::Invalid("malformed page cursor".into());
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.len() <= TAG_LEN {
            return Err(invalid());
        }
        let (sk, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let sk = std::str::from_utf8(sk).map_err(|_| invalid())?;
        self.mac(pk, range, sk)
            .verify_slice(tag)
            .map_err(|_| invalid())?;
        Ok(sk.to_owned())
    }

    /// The MAC over every field, each preceded by its length so no two inputs collide.
    fn mac(&self, pk: &str, range: &SkRange, sk: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        let mut field = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        field(b"muster dynamo cursor v1");
        field(pk.as_bytes());
        match range {
            SkRange::Prefix(prefix) => {
                field(b"prefix");
                field(prefix.as_bytes());
            }
            SkRange::Between { from, to } => {
                field(b"between");
                field(from.as_bytes());
                field(to.as_bytes());
            }
        }
        field(sk.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(p: &str) -> SkRange {
        SkRange::Prefix(p.into())
    }

    #[test]
    fn a_sealed_cursor_opens_to_its_sort_key() {
        let cursors = Cursors::new([1; 32]);
        let cursor = cursors.seal("T#a", &prefix("USER#"), "USER#é");
        assert_eq!(
            cursors.open(&cursor, "T#a", &prefix("USER#")).unwrap(),
            "USER#é"
        );
    }

    #[test]
    fn a_cursor_of_another_query_or_key_is_refused() {
        let cursors = Cursors::new([1; 32]);
        let cursor = cursors.seal("T#a", &prefix("USER#"), "USER#b");
        let refused = |r: Result<String, StoreError>| matches!(r, Err(StoreError::Invalid(_)));
        assert!(refused(cursors.open(&cursor, "T#b", &prefix("USER#"))));
        assert!(refused(cursors.open(&cursor, "T#a", &prefix("USE"))));
        let between = SkRange::Between {
            from: "USER#".into(),
            to: "USER$".into(),
        };
        assert!(refused(cursors.open(&cursor, "T#a", &between)));
        assert!(refused(Cursors::new([2; 32]).open(
            &cursor,
            "T#a",
            &prefix("USER#")
        )));
    }

    #[test]
    fn an_altered_or_garbage_cursor_is_refused() {
        let cursors = Cursors::new([1; 32]);
        let cursor = cursors.seal("T#a", &prefix(""), "USER#b");
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        bytes[5] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(bytes);
        for bad in [altered.as_str(), "%%not a cursor%%", "", "AAAA"] {
            assert!(matches!(
                cursors.open(bad, "T#a", &prefix("")),
                Err(StoreError::Invalid(_))
            ));
        }
    }
}
