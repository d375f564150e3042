//! What a pass remembers per row of a large file, keyed by 64-bit fingerprints, in 16 tables
//! chosen by a fingerprint's top bits. A hash table grows by moving into one twice its size,
//! holding both meanwhile; one table of a million rows held 50 % more memory for that moment
//! (the peak of a million-row MIRROR's check). Sixteen grow one after another, each holding
//! a sixteenth of the rows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

type Table<V> = HashMap<u64, V, foldhash::fast::RandomState>;

/// A map from fingerprints (already keyed hashes: spread evenly over their 64 bits) to `V`.
pub(super) struct Fingerprints<V> {
    parts: Vec<Table<V>>,
}

/// Tables of a map.
const PARTS: usize = 16;

impl<V> Default for Fingerprints<V> {
    fn default() -> Self {
        Self {
            parts: (0..PARTS).map(|_| Table::default()).collect(),
        }
    }
}

impl<V> Fingerprints<V> {
    fn part(fp: u64) -> usize {
        (fp >> 60) as usize
    }

    /// The entry of `fp`, for in-place manipulation.
    pub fn entry(&mut self, fp: u64) -> Entry<'_, u64, V> {
        self.parts[Self::part(fp)].entry(fp)
    }

    /// The value of `fp`, if any.
    pub fn get(&self, fp: u64) -> Option<&V> {
        self.parts[Self::part(fp)].get(&fp)
    }

    /// The value of `fp`, if any, to change.
    pub fn get_mut(&mut self, fp: u64) -> Option<&mut V> {
        self.parts[Self::part(fp)].get_mut(&fp)
    }

    /// Keeps `value` for `fp`; answers the value it replaces.
    pub fn insert(&mut self, fp: u64, value: V) -> Option<V> {
        self.parts[Self::part(fp)].insert(fp, value)
    }

    /// Whether `fp` has a value.
    pub fn contains(&self, fp: u64) -> bool {
        self.parts[Self::part(fp)].contains_key(&fp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_anywhere_in_the_64_bits_are_kept_apart_and_found_again() {
        let mut map = Fingerprints::default();
        let fps = [
            0,
            1,
            u64::MAX,
            1 << 60,
            (1 << 60) - 1,
            0xdead_beef_u64 << 32,
        ];
        for (i, fp) in fps.iter().enumerate() {
            assert_eq!(map.insert(*fp, i), None);
        }
        for (i, fp) in fps.iter().enumerate() {
            assert_eq!(map.get(*fp), Some(&i));
            assert!(map.contains(*fp));
        }
        *map.get_mut(u64::MAX).unwrap() = 7;
        *map.entry(1).or_insert(0) += 10;
        assert_eq!((map.get(u64::MAX), map.get(1)), (Some(&7), Some(&11)));
        assert!(!map.contains(2));
        assert_eq!(map.insert(0, 9), Some(0), "a second insert replaces");
    }
}
