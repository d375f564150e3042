//! Applying one group of requests inside one redb write transaction, with as few B-tree
//! walks as the semantics allow. A put or delete learns what it replaced from the walk that
//! writes it (redb answers the old value), so its condition costs no read of its own; when a
//! condition fails, the request's earlier writes are put back from the values they replaced.
//! Counter adds are summed per key and written once per group, before anything else reads or
//! writes that key and at the end. Each request stays all-or-nothing and sees the state left by
//! the requests before it, as if its conditions were all checked before its first write: a
//! request touches each key once (`validate_transaction`), so every condition meets the state
//! from before the request whatever the order.

use std::collections::HashMap;

use redb::ReadableTable;

use super::journal::Effects;
use super::{backend, encode_into, seen_version, split};
use crate::store::{Condition, Key, StoreError, Write};

/// The items table of a write transaction.
pub type ItemsTable<'t> = redb::Table<'t, (&'static str, &'static str), &'static [u8]>;

/// One group's writes in progress: the table, the adds not yet written, a value buffer, and
/// (when the group goes to the journal) every insert and remove made, in order.
pub struct Group<'a, 't> {
    table: &'a mut ItemsTable<'t>,
    adds: HashMap<Key, i64, foldhash::fast::RandomState>,
    value: Vec<u8>,
    effects: Option<&'a mut Effects>,
}

/// What a write of a request replaced, to put back if a later condition of it fails.
enum Undo {
    /// The key held these bytes (or nothing).
    Replaced(Option<Vec<u8>>),
    /// Nothing was written (a check, or an add kept aside).
    Nothing,
}

fn holds(condition: Condition, current: Option<u64>) -> bool {
    match condition {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current == Some(v),
    }
}

fn redb_key(key: &Key) -> (&str, &str) {
    (key.pk.as_str(), key.sk.as_str())
}

impl<'a, 't> Group<'a, 't> {
    /// A group writing into `table`, noting each insert and remove in `effects` if given.
    pub fn new(table: &'a mut ItemsTable<'t>, effects: Option<&'a mut Effects>) -> Self {
        Self {
            table,
            adds: HashMap::default(),
            value: Vec::with_capacity(512),
            effects,
        }
    }

    /// Applies one request all-or-nothing: on a failed condition (answered with the index of
    /// the first write whose condition fails) nothing of it stays written.
    pub fn apply(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let can_fail = writes.iter().any(|w| w.condition() != Condition::Always);
        let mut undo: Vec<Undo> = Vec::new();
        let mut adds: Vec<(&Key, i64)> = Vec::new();
        for (index, write) in writes.iter().enumerate() {
            if let Write::Add { key, delta } = write {
                adds.push((key, *delta));
                if can_fail {
                    undo.push(Undo::Nothing);
                }
                continue;
            }
            self.settle(write.key())?;
            match self.step(write, can_fail) {
                Ok(done) => {
                    if can_fail {
                        undo.push(done);
                    }
                }
                Err(e) => {
                    self.put_back(writes, undo)?;
                    return Err(match e {
                        Failed::Condition => StoreError::ConditionFailed { index },
                        Failed::Store(e) => e,
                    });
                }
            }
        }
        for (key, delta) in adds {
            let sum = self.adds.entry(key.clone()).or_default();
            // Counts wrap, as each add on its own does (see `add`).
            *sum = sum.wrapping_add(delta);
        }
        Ok(())
    }

    /// Writes the adds still kept aside.
    pub fn finish(mut self) -> Result<(), StoreError> {
        for (key, delta) in std::mem::take(&mut self.adds) {
            self.add(&key, delta)?;
        }
        Ok(())
    }

    /// Writes the adds kept aside for `key`, if any, so that what follows meets its count.
    fn settle(&mut self, key: &Key) -> Result<(), StoreError> {
        if self.adds.is_empty() {
            return Ok(());
        }
        match self.adds.remove(key) {
            Some(delta) => self.add(key, delta),
            None => Ok(()),
        }
    }

    fn add(&mut self, key: &Key, delta: i64) -> Result<(), StoreError> {
        let k = redb_key(key);
        let (count, body) = match self.table.get(k).map_err(backend)? {
            Some(guard) => {
                let (count, body) = split(guard.value())?;
                (count.cast_signed(), body.to_vec())
            }
            None => (0, Vec::new()),
        };
        encode_into(
            &mut self.value,
            count.wrapping_add(delta).cast_unsigned(),
            &body,
        );
        insert(self.table, &mut self.effects, k, &self.value)?;
        Ok(())
    }

    /// Applies one put, delete or check; answers what it replaced when the request can fail
    /// (`keep`). A write whose condition fails is put back before the answer.
    fn step(&mut self, write: &Write, keep: bool) -> Result<Undo, Failed> {
        let condition = write.condition();
        let old = match write {
            Write::Put { item, .. } => {
                encode_into(&mut self.value, item.version, &item.body);
                let k = redb_key(&item.key);
                insert(self.table, &mut self.effects, k, &self.value)?
            }
            Write::Delete { key, .. } => remove(self.table, &mut self.effects, redb_key(key))?,
            Write::Check { key, .. } => {
                let found = self.table.get(redb_key(key)).map_err(backend)?;
                let current = found.map(|g| seen_version(g.value())).transpose()?;
                return if holds(condition, current) {
                    Ok(Undo::Nothing)
                } else {
                    Err(Failed::Condition)
                };
            }
            Write::Add { .. } => unreachable!("adds are kept aside by apply"),
        };
        let current = old.as_ref().map(|g| seen_version(g.value())).transpose()?;
        let stands = holds(condition, current);
        if stands && !keep {
            return Ok(Undo::Nothing);
        }
        let replaced = old.map(|g| g.value().to_vec());
        if stands {
            return Ok(Undo::Replaced(replaced));
        }
        self.restore(write.key(), replaced)?;
        Err(Failed::Condition)
    }

    /// Puts back what the applied writes of a failed request replaced, last first.
    fn put_back(&mut self, writes: &[Write], undo: Vec<Undo>) -> Result<(), StoreError> {
        for (write, done) in writes.iter().zip(undo).rev() {
            if let Undo::Replaced(old) = done {
                self.restore(write.key(), old)?;
            }
        }
        Ok(())
    }

    fn restore(&mut self, key: &Key, old: Option<Vec<u8>>) -> Result<(), StoreError> {
        let k = redb_key(key);
        match old {
            Some(bytes) => drop(insert(self.table, &mut self.effects, k, &bytes)?),
            None => drop(remove(self.table, &mut self.effects, k)?),
        }
        Ok(())
    }
}

/// What an insert or remove replaced.
type Replaced<'g> = Option<redb::AccessGuard<'g, &'static [u8]>>;

/// Sets `k` to `value`, noting it in `effects` (the journal's record) when there is one: every
/// write of a group goes through here or [`remove`], so the record holds them all, in order.
fn insert<'g>(
    table: &'g mut ItemsTable<'_>,
    effects: &mut Option<&mut Effects>,
    k: (&str, &str),
    value: &[u8],
) -> Result<Replaced<'g>, StoreError> {
    if let Some(effects) = effects.as_deref_mut() {
        effects.put(k, value);
    }
    table.insert(k, value).map_err(backend)
}

/// Removes `k`, noting it in `effects` when there is one (see [`insert`]).
fn remove<'g>(
    table: &'g mut ItemsTable<'_>,
    effects: &mut Option<&mut Effects>,
    k: (&str, &str),
) -> Result<Replaced<'g>, StoreError> {
    if let Some(effects) = effects.as_deref_mut() {
        effects.remove(k);
    }
    table.remove(k).map_err(backend)
}

/// Why a write of a request did not stand.
enum Failed {
    Condition,
    Store(StoreError),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}
