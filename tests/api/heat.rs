//! The heat of DynamoDB partitions: a Table wrapper records, per partition key, the items
//! read and written and the capacity units DynamoDB would charge for them, during a
//! 20,000-row UPSERT import, the same file as MIRROR, and an identity provider's initial
//! sync. The keys muster writes are the same on every adapter, so what the embedded store
//! sees here is what DynamoDB would see. It prints the projection BENCHMARKS.md quotes: the
//! throttle-bound time at 1,000 WCU/s and 3,000 RCU/s per partition key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use muster::store::{
    Condition, EmbeddedTable, Item, Key, Page, Query, SkRange, StoreError, Table, Write,
};

/// One partition key's load.
#[derive(Debug, Default, Clone, Copy)]
pub struct Load {
    pub item_reads: u64,
    pub item_writes: u64,
    pub rcu: f64,
    pub wcu: f64,
}

/// Everything a workload did.
#[derive(Debug, Default, Clone)]
pub struct Heat {
    pub requests: u64,
    pub keys: HashMap<String, Load>,
    /// Item reads by partition key and sort-key kind (the sort key up to its first `#`).
    pub kinds: HashMap<(String, String), u64>,
}

impl Heat {
    fn total(&self) -> Load {
        self.keys.values().fold(Load::default(), |mut t, l| {
            t.item_reads += l.item_reads;
            t.item_writes += l.item_writes;
            t.rcu += l.rcu;
            t.wcu += l.wcu;
            t
        })
    }

    /// The partition key with the largest share of `of`, and that share.
    fn hottest(&self, of: impl Fn(&Load) -> u64) -> (String, f64) {
        let total: u64 = self.keys.values().map(&of).sum();
        self.keys
            .iter()
            .map(|(k, l)| (k.clone(), of(l) as f64 / total.max(1) as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or_default()
    }

    /// Seconds the busiest partition needs at DynamoDB's per-partition ceilings.
    fn throttle_bound(&self) -> f64 {
        self.keys
            .values()
            .map(|l| (l.wcu / 1000.0).max(l.rcu / 3000.0))
            .fold(0.0, f64::max)
    }

    /// One line of the projection: the workload scaled by `scale`.
    pub fn report(&self, name: &str, scale: f64) -> String {
        let t = self.total();
        let (wk, ws) = self.hottest(|l| l.item_writes);
        let (rk, rs) = self.hottest(|l| l.item_reads);
        format!(
            "| {name} | {} | {} / {} | `{}` {:.1} % | `{}` {:.1} % | {:.1} s → {:.0} s at ×{scale} | {:.0} WCU + {:.0} RCU → ×{scale} |",
            self.requests,
            t.item_writes,
            t.item_reads,
            shape(&wk),
            ws * 100.0,
            shape(&rk),
            rs * 100.0,
            self.throttle_bound(),
            self.throttle_bound() * scale,
            t.wcu,
            t.rcu,
        )
    }

    /// The sort-key kinds most read in the partition key `pk`.
    pub fn read_kinds(&self, pk: &str) -> Vec<(String, u64)> {
        let mut kinds: Vec<(String, u64)> = self
            .kinds
            .iter()
            .filter(|((p, _), _)| p == pk)
            .map(|((_, k), n)| (k.clone(), *n))
            .collect();
        kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
        kinds.truncate(5);
        kinds
    }

    /// The partition key taking the most item reads.
    pub fn hottest_read_key(&self) -> String {
        self.hottest(|l| l.item_reads).0
    }

    /// Capacity units in all: (write, read).
    pub fn capacity(&self) -> (f64, f64) {
        let t = self.total();
        (t.wcu, t.rcu)
    }

    /// Items written and items read in all.
    pub fn items(&self) -> (u64, u64) {
        let t = self.total();
        (t.item_writes, t.item_reads)
    }

    /// The largest share of item writes and of item reads any one partition key takes.
    pub fn worst_shares(&self) -> (f64, f64) {
        (
            self.hottest(|l| l.item_writes).1,
            self.hottest(|l| l.item_reads).1,
        )
    }
}

/// A key's shape for the report: ids and the tenant replaced by placeholders.
fn shape(pk: &str) -> String {
    pk.split('#')
        .map(|part| match part.len() {
            n if n >= 20 => "<id>",
            _ => part,
        })
        .collect::<Vec<_>>()
        .join("#")
}

fn size(item: &Item) -> f64 {
    (item.key.pk.len() + item.key.sk.len() + item.body.len() + 40) as f64
}

/// A Table that records the heat of every partition key it touches.
pub struct HeatTable {
    inner: Arc<dyn Table>,
    heat: Mutex<Heat>,
}

impl HeatTable {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(EmbeddedTable::in_memory()),
            heat: Mutex::default(),
        }
    }

    /// What was recorded since the last call.
    pub fn take(&self) -> Heat {
        std::mem::take(&mut *self.heat.lock().unwrap())
    }

    fn read_sk(&self, pk: &str, sk: &str) {
        let kind = sk.split('#').next().unwrap_or_default().to_owned();
        let mut heat = self.heat.lock().unwrap();
        *heat.kinds.entry((pk.to_owned(), kind)).or_default() += 1;
    }

    fn read(&self, pk: &str, items: u64, bytes: f64) {
        let mut heat = self.heat.lock().unwrap();
        let load = heat.keys.entry(pk.to_owned()).or_default();
        load.item_reads += items;
        load.rcu += (bytes / 4096.0).ceil().max(1.0);
    }

    fn write(&self, pk: &str, bytes: f64, factor: f64) {
        let mut heat = self.heat.lock().unwrap();
        let load = heat.keys.entry(pk.to_owned()).or_default();
        load.item_writes += 1;
        load.wcu += (bytes / 1024.0).ceil().max(1.0) * factor;
    }

    fn request(&self) {
        self.heat.lock().unwrap().requests += 1;
    }

    fn writes(&self, writes: &[Write], factor: f64) {
        for w in writes {
            match w {
                Write::Put { item, .. } => self.write(&item.key.pk, size(item), factor),
                Write::Delete { key, .. } => self.write(&key.pk, 1.0, factor),
                Write::Check { key, .. } => self.read(&key.pk, 1, 1.0),
                Write::Add { key, .. } => self.write(&key.pk, 1.0, factor),
            }
        }
    }
}

#[async_trait]
impl Table for HeatTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.request();
        let got = self.inner.get(key).await?;
        self.read(&key.pk, 1, got.as_ref().map_or(1.0, size));
        self.read_sk(&key.pk, &key.sk);
        Ok(got)
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // DynamoDB's BatchGetItem takes 100 keys per request.
        self.heat.lock().unwrap().requests += keys.len().div_ceil(100) as u64;
        let got = self.inner.get_many(keys).await?;
        for (key, item) in keys.iter().zip(&got) {
            self.read(&key.pk, 1, item.as_ref().map_or(1.0, size));
            self.read_sk(&key.pk, &key.sk);
        }
        Ok(got)
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.request();
        let page = self.inner.query(query).await?;
        let bytes: f64 = page.items.iter().map(size).sum();
        self.read(&query.pk, page.items.len() as u64, bytes);
        for item in &page.items {
            self.read_sk(&query.pk, &item.key.sk);
        }
        Ok(page)
    }
    async fn count(&self, pk: &str, range: &SkRange) -> Result<u64, StoreError> {
        // DynamoDB counts by reading every item (1 MB per request).
        let n = self.inner.count(pk, range).await?;
        self.heat.lock().unwrap().requests += (n / 5000).max(1);
        self.read(pk, n, n as f64 * 120.0);
        Ok(n)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.request();
        self.write(&item.key.pk, size(&item), 1.0);
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.request();
        self.write(&key.pk, 1.0, 1.0);
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.request();
        self.writes(&writes, 2.0);
        self.inner.transact(writes).await
    }
    async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // DynamoDB's BatchWriteItem takes 25 writes per request.
        self.heat.lock().unwrap().requests += writes.len().div_ceil(25) as u64;
        self.writes(&writes, 1.0);
        self.inner.batch_write(writes).await
    }
}
