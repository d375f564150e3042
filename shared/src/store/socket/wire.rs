//! What travels over a lent store's socket: one JSON line per request, one per answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::store::{Condition, Item, Key, Page, Query, SkRange, StoreError, Write};

/// The longest line either side accepts (a transaction of 100 items of 400 KB, as base64,
/// with room to spare): a longer one is an error, not an allocation without bound.
pub(super) const MAX_LINE: usize = 64 << 20;

/// One call of the Table port.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Request {
    Get(Key),
    GetMany(Vec<Key>),
    Query(Query),
    Count(String, SkRange),
    Put(Item, Condition),
    Delete(Key, Condition),
    Transact(Vec<Write>),
    BatchWrite(Vec<Write>),
    FirstAcross(Vec<String>, SkRange, usize),
}

/// What a call answered.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Answer {
    Item(Option<Item>),
    Items(Vec<Option<Item>>),
    Page(Page),
    Count(u64),
    Done,
    First(Vec<Item>, bool),
    Failed(Failure),
}

/// A [`StoreError`] as sent.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Failure {
    ConditionFailed(usize),
    Invalid(String),
    Conflict,
    Backend(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed { index } => Failure::ConditionFailed(index),
            StoreError::Invalid(m) => Failure::Invalid(m),
            StoreError::Conflict => Failure::Conflict,
            StoreError::Backend(m) => Failure::Backend(m),
        }
    }
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::ConditionFailed(index) => StoreError::ConditionFailed { index },
            Failure::Invalid(m) => StoreError::Invalid(m),
            Failure::Conflict => StoreError::Conflict,
            Failure::Backend(m) => StoreError::Backend(m),
        }
    }
}

/// An item's body as base64 text (JSON has no bytes; an array of numbers is four times larger).
pub(crate) mod base64_bytes {
    use super::*;

    /// Writes `bytes` as one base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads one base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}
