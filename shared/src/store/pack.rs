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
    /// Adds one write set (at most [`MAX_TRANSACTION_ITEMS`] writes) standing for `tag`. A
    /// [`Write::Add`] to a counter the transaction already adds to is folded into that one
    /// (a transaction touches each key once), so sets sharing a counter still share a
    /// transaction.
    pub fn push(&mut self, writes: Vec<Write>, tag: T) {
        let fits = matches!(self.groups.last(),
            Some((group, _)) if group.len() + new_keys(group, &writes) <= MAX_TRANSACTION_ITEMS);
        if !fits {
            self.groups.push((Vec::new(), Vec::new()));
        }
        let (group, tags) = self.groups.last_mut().expect("a group was just ensured");
        for write in writes {
            if let Write::Add { key, delta } = &write
                && let Some(Write::Add { delta: sum, .. }) = group
                    .iter_mut()
                    .find(|w| matches!(w, Write::Add { key: k, .. } if k == key))
            {
                *sum += delta;
                continue;
            }
            group.push(write);
        }
        tags.push(tag);
    }

    /// The transactions to send, each with the tags of its write sets.
    pub fn into_groups(self) -> Vec<(Vec<Write>, Vec<T>)> {
        self.groups
    }
}

/// How many writes `writes` adds to `group`: all but the adds to counters it already adds to.
fn new_keys(group: &[Write], writes: &[Write]) -> usize {
    writes
        .iter()
        .filter(|w| match w {
            Write::Add { key, .. } => !group
                .iter()
                .any(|g| matches!(g, Write::Add { key: k, .. } if k == key)),
            _ => true,
        })
        .count()
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

    #[test]
    fn adds_to_one_counter_are_folded_into_one_write_per_transaction() {
        let mut packed = Transactions::default();
        for tag in 0..60 {
            let mut writes = set(2, tag);
            writes.push(Write::Add {
                key: Key::new("N", format!("{}", tag % 2)),
                delta: 1,
            });
            packed.push(writes, tag);
        }
        let groups = packed.into_groups();
        let sizes: Vec<usize> = groups.iter().map(|(w, _)| w.len()).collect();
        assert_eq!(sizes, [100, 24]);
        let added: i64 = groups
            .iter()
            .flat_map(|(w, _)| w)
            .map(|w| match w {
                Write::Add { delta, .. } => *delta,
                _ => 0,
            })
            .sum();
        assert_eq!(added, 60);
    }
}
