//! A Table wrapper that records which partitions are read and how many calls are made, to
//! check access patterns, and, for failure injection only, can refuse every write once a
//! budget of writes is spent (as a store going away mid-job would), or every call at all.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use muster::store::{Condition, Item, Key, Page, Query, SkRange, StoreError, Table, Write};

#[derive(Default, Debug, Clone)]
pub struct Calls {
    pub queried: Vec<String>,
    pub reads: usize,
    pub writes: usize,
    /// Activity-log entries written (not counted in `writes`).
    pub activity: usize,
}

pub struct CountingTable {
    inner: Arc<dyn Table>,
    pub calls: Arc<Mutex<Calls>>,
    /// Writes still allowed; `None`: no limit.
    budget: Mutex<Option<usize>>,
    /// While set, every call fails.
    down: AtomicBool,
    /// A key whose point reads fail.
    unreadable: Mutex<Option<Key>>,
    /// A key written again, with its version raised, just before the next transaction that
    /// writes it on a version's condition (a concurrent writer winning the race); `renewed` is
    /// set once it happened.
    renew: Mutex<Option<Key>>,
    pub renewed: AtomicBool,
}

impl CountingTable {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        Self {
            inner,
            calls: Arc::default(),
            budget: Mutex::new(None),
            down: AtomicBool::new(false),
            unreadable: Mutex::new(None),
            renew: Mutex::new(None),
            renewed: AtomicBool::new(false),
        }
    }

    /// Just before the next transaction that writes `key` on the condition of a version it
    /// read, rewrites the item there with its
    /// version raised, as a writer that commits first would: a condition on the version the
    /// transaction read then fails.
    pub fn renew_before_commit(&self, key: Key) {
        *self.renew.lock().unwrap() = Some(key);
    }

    /// Makes every `get` of `key` fail (`None` lifts it).
    pub fn fail_reads_of(&self, key: Option<Key>) {
        *self.unreadable.lock().unwrap() = key;
    }

    /// Makes every call fail (`true`) or work again (`false`).
    pub fn fail_everything(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn up(&self) -> Result<(), StoreError> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(StoreError::Backend("injected failure".into())),
            false => Ok(()),
        }
    }

    /// Lets `writes` more write calls through, then fails every one; `None` lifts the limit.
    pub fn allow_writes(&self, writes: Option<usize>) {
        *self.budget.lock().unwrap() = writes;
    }

    fn write(&self) -> Result<(), StoreError> {
        self.up()?;
        self.calls.lock().unwrap().writes += 1;
        let mut budget = self.budget.lock().unwrap();
        match budget.as_mut() {
            Some(0) => Err(StoreError::Backend("injected: the store went away".into())),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Table for CountingTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.up()?;
        if self.unreadable.lock().unwrap().as_ref() == Some(key) {
            return Err(StoreError::Backend(
                "injected: this item cannot be read".into(),
            ));
        }
        self.calls.lock().unwrap().reads += 1;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.up()?;
        self.calls.lock().unwrap().reads += 1;
        self.inner.get_many(keys).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.up()?;
        {
            let mut calls = self.calls.lock().unwrap();
            calls.reads += 1;
            calls.queried.push(query.pk.clone());
        }
        self.inner.query(query).await
    }
    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        self.up()?;
        self.calls.lock().unwrap().queried.push(pk.to_owned());
        self.inner.count(pk, range).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        // The activity log's entries are counted apart: "writes" are the directory's.
        if item.key.pk.contains("#ACT#") {
            self.up()?;
            self.calls.lock().unwrap().activity += 1;
        } else {
            self.write()?;
        }
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.write()?;
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.write()?;
        let renew = {
            let mut renew = self.renew.lock().unwrap();
            match renew.as_ref() {
                Some(key)
                    if writes.iter().any(|w| {
                        w.key() == key && matches!(w.condition(), Condition::VersionIs(_))
                    }) =>
                {
                    renew.take()
                }
                _ => None,
            }
        };
        if let Some(key) = renew
            && let Some(item) = self.inner.get(&key).await?
        {
            let raised = Item {
                version: item.version + 1,
                ..item
            };
            self.inner.put(raised, Condition::Always).await?;
            self.renewed.store(true, Ordering::SeqCst);
        }
        self.inner.transact(writes).await
    }
    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.write()?;
        self.inner.batch_write(writes).await
    }
}
