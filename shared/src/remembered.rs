//! What a process remembers for a while instead of reading it again: a bounded map whose
//! entries are trusted for a fixed time after they were stored.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries trusted for `fresh` after they were stored, at most `max` of them: a full map first
/// forgets its stale entries, then everything.
pub struct Remembered<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    fresh: Duration,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> Remembered<K, V> {
    /// An empty map trusting its entries for `fresh`, holding at most `max`.
    pub fn new(fresh: Duration, max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            fresh,
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value stored under `key`, if it is still fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (value, at) = entries.get(key)?;
        (at.elapsed() < self.fresh).then(|| value.clone())
    }

    /// Stores `value` under `key`, fresh from now.
    pub fn insert(&self, key: K, value: V) {
        self.insert_unless(key, value, |_| false);
    }

    /// Stores `value` under `key` unless the fresh value there `keeps` its place (checked and
    /// replaced at once, so nothing slips in between); true if stored.
    pub fn insert_unless(&self, key: K, value: V, keeps: impl Fn(&V) -> bool) -> bool {
        let mut entries = self.lock();
        if let Some((current, at)) = entries.get(&key)
            && at.elapsed() < self.fresh
            && keeps(current)
        {
            return false;
        }
        if entries.len() >= self.max {
            entries.retain(|_, (_, at)| at.elapsed() < self.fresh);
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
        true
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_trusted_until_it_is_stale_and_a_full_map_forgets_the_stale_first() {
        let map = Remembered::new(Duration::from_millis(50), 2);
        map.insert("a", 1);
        assert_eq!(map.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(map.get(&"a"), None, "stale");
        map.insert("b", 2);
        map.insert("c", 3);
        assert_eq!(
            (map.get(&"b"), map.get(&"c")),
            (Some(2), Some(3)),
            "the stale one went"
        );
        map.insert("d", 4);
        assert_eq!(map.get(&"d"), Some(4));
        assert_eq!(map.get(&"b"), None, "full of fresh entries: cleared");
    }

    #[test]
    fn a_fresh_entry_that_keeps_its_place_is_not_replaced() {
        let map = Remembered::new(Duration::from_secs(60), 10);
        map.insert("t", String::new());
        assert!(!map.insert_unless("t", "hash".into(), String::is_empty));
        assert_eq!(map.get(&"t").as_deref(), Some(""));
        map.remove(&"t");
        assert!(map.insert_unless("t", "hash".into(), String::is_empty));
    }
}
