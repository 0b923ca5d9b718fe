//! A bounded map whose entries each stop counting at their own moment: the cache of verified
//! access tokens in the gateway and of minted internal tokens in every service's client.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub struct ExpiringMap<K, V> {
    entries: Mutex<HashMap<K, (V, i64)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> ExpiringMap<K, V> {
    /// At most `capacity` entries: when full, expired entries go first, then all of them.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value for `key` if `now` (Unix seconds) is before the moment it was stored with.
    pub fn get<Q>(&self, key: &Q, now: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(_, until)| now < *until)
            .map(|(value, _)| value.clone())
    }

    /// Remember `value` for `key` until `until` (Unix seconds).
    pub fn insert(&self, key: K, value: V, until: i64, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, until));
    }
}

#[cfg(test)]
mod tests {
    use super::ExpiringMap;

    #[test]
    fn an_entry_counts_until_its_moment_and_not_after() {
        let map = ExpiringMap::new(8);
        map.insert("a".to_owned(), 1, 100, 0);
        assert_eq!(map.get("a", 99), Some(1));
        assert_eq!(map.get("a", 100), None);
        assert_eq!(map.get("b", 0), None);
    }

    #[test]
    fn a_full_map_drops_expired_entries_first_then_everything() {
        let map = ExpiringMap::new(2);
        map.insert(1, "old", 10, 0);
        map.insert(2, "live", 100, 0);
        // Full at now = 50: the expired entry goes, the live one stays.
        map.insert(3, "new", 100, 50);
        assert_eq!(map.get(&2, 50), Some("live"));
        assert_eq!(map.get(&3, 50), Some("new"));
        // Full with nothing expired: starts over with the newcomer only.
        map.insert(4, "newest", 100, 60);
        assert_eq!(map.get(&2, 60), None);
        assert_eq!(map.get(&4, 60), Some("newest"));
        // Replacing a key already there never evicts.
        map.insert(4, "again", 100, 60);
        assert_eq!(map.get(&4, 60), Some("again"));
    }
}
