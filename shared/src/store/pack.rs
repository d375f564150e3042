//! Packing many small all-or-nothing write sets into few transactions, for bulk work.

use super::{MAX_TRANSACTION_ITEMS, Write};

/// Write sets, each with what it stands for (`T`), packed in order into transactions of at
/// most [`MAX_TRANSACTION_ITEMS`] writes. A set is never split across two transactions, so
/// each stays all or nothing.
pub struct Transactions<T> {
    groups: Vec<(Vec<Write>, Vec<T>)>,
}

impl<T> Default for Transactions<T> {
    fn default() -> Self {
        Self { groups: Vec::new() }
    }
}

impl<T> Transactions<T> {
    /// Adds one write set (at most [`MAX_TRANSACTION_ITEMS`] writes) standing for `tag`.
    pub fn push(&mut self, writes: Vec<Write>, tag: T) {
        let fits = matches!(self.groups.last(),
            Some((group, _)) if group.len() + writes.len() <= MAX_TRANSACTION_ITEMS);
        if !fits {
            self.groups.push((Vec::new(), Vec::new()));
        }
        let (group, tags) = self.groups.last_mut().expect("a group was just ensured");
        group.extend(writes);
        tags.push(tag);
    }

    /// The transactions to send, each with the tags of its write sets.
    pub fn into_groups(self) -> Vec<(Vec<Write>, Vec<T>)> {
        self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Condition, Key};

    fn set(n: usize, tag: usize) -> Vec<Write> {
        (0..n)
            .map(|i| Write::Delete {
                key: Key::new("P", format!("{tag}-{i}")),
                condition: Condition::Always,
            })
            .collect()
    }

    #[test]
    fn sets_fill_transactions_in_order_and_are_never_split() {
        let mut packed = Transactions::default();
        for tag in 0..70 {
            packed.push(set(3, tag), tag);
        }
        let groups = packed.into_groups();
        let sizes: Vec<usize> = groups.iter().map(|(w, _)| w.len()).collect();
        assert_eq!(sizes, [99, 99, 12]);
        let tags: Vec<usize> = groups.iter().flat_map(|(_, t)| t.clone()).collect();
        assert_eq!(tags, (0..70).collect::<Vec<_>>());
        assert!(Transactions::<()>::default().into_groups().is_empty());
    }
}
