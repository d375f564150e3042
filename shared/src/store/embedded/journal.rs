//! The commit journal of a file-backed store: a durable group of writes is made durable by
//! appending what it wrote to this small, preallocated file and syncing that one write,
//! instead of syncing the B-tree's pages; redb takes the group without a sync of its own. A
//! checkpoint (a durable redb commit) makes the journal's records redundant, and the journal
//! starts over. Opening the store replays the records the file's last durable commit lacks.
//!
//! Each record holds a sequence number, one more than the record before it, the store's id
//! and the generation of the journal (drawn anew each time it starts over). redb's items carry
//! the number of the last record whose writes they hold ([`APPLIED_KEY`], written in the same
//! transaction as the writes, and by every checkpoint), so whatever redb makes durable (a
//! checkpoint, or its own close) says where replay starts. Records are read from the start of
//! the file while each is whole (its checksum holds), belongs to this store and to the
//! generation of the first, and follows the one before it: a torn last record, or anything left
//! from an earlier generation, ends the replay; a journal of another store is not replayed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::path::Path;

use redb::{ReadableTable, TableDefinition};

use super::{ITEMS, backend};
use crate::ids::random_bytes;
use crate::store::StoreError;

/// Where a file-backed store keeps its journal's bookkeeping.
pub const APPLIED: TableDefinition<&str, u64> = TableDefinition::new("journal");

/// The key of [`APPLIED`] holding the number of the last journal record the items hold.
pub const APPLIED_KEY: &str = "applied";

/// The key of [`APPLIED`] holding the store's id, which its journal's records carry.
pub const STORE_KEY: &str = "store";

/// The journal's size, written in full when it is created so that a record's sync writes data
/// only (on file systems that write in place, no block allocation and no size change to
/// record). A group that does not fit in what is left is committed by a checkpoint instead: a
/// full journal holds about 23,000 SCIM creates, replayed in well under a second.
pub const JOURNAL_BYTES: u64 = 16 << 20;

/// A record's header: the payload's length, the sequence number, the store's id, the
/// generation, the checksum of all of these and the payload.
const HEADER: usize = 4 + 8 + 8 + 4 + 4;

/// The tag of an insert in a payload.
const PUT: u8 = 1;
/// The tag of a remove in a payload.
const REMOVE: u8 = 2;

/// The writes of one group as a record's payload: each insert or remove in the order the
/// group made it, so replaying them leaves each key as the group left it.
#[derive(Default)]
pub struct Effects {
    bytes: Vec<u8>,
}

impl Effects {
    /// Notes that `key` was set to `value`.
    pub fn put(&mut self, key: (&str, &str), value: &[u8]) {
        self.bytes.push(PUT);
        self.key(key);
        self.chunk(value);
    }

    /// Notes that `key` was removed.
    pub fn remove(&mut self, key: (&str, &str)) {
        self.bytes.push(REMOVE);
        self.key(key);
    }

    /// Whether nothing was noted.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn key(&mut self, (pk, sk): (&str, &str)) {
        self.chunk(pk.as_bytes());
        self.chunk(sk.as_bytes());
    }

    fn chunk(&mut self, part: &[u8]) {
        let len = u32::try_from(part.len()).expect("a stored key or value is under 4 GiB");
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(part);
    }
}

/// One write of a replayed record.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect<'a> {
    /// The key (pk, sk) holds this value.
    Put((&'a str, &'a str), &'a [u8]),
    /// The key (pk, sk) holds nothing.
    Remove((&'a str, &'a str)),
}

/// The writes of a record's payload, in order; fails on a payload this module did not write.
pub fn effects(mut payload: &[u8]) -> Result<Vec<Effect<'_>>, StoreError> {
    fn chunk<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], StoreError> {
        let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_le_bytes(*len) as usize;
        let part = tail.get(..len).ok_or_else(corrupt)?;
        *rest = &tail[len..];
        Ok(part)
    }
    fn text<'a>(rest: &mut &'a [u8]) -> Result<&'a str, StoreError> {
        std::str::from_utf8(chunk(rest)?).map_err(|_| corrupt())
    }
    let mut out = Vec::new();
    while let Some((&tag, rest)) = payload.split_first() {
        payload = rest;
        let key = (text(&mut payload)?, text(&mut payload)?);
        out.push(match tag {
            PUT => Effect::Put(key, chunk(&mut payload)?),
            REMOVE => Effect::Remove(key),
            _ => return Err(corrupt()),
        });
    }
    Ok(out)
}

/// The error of a payload that does not read back.
fn corrupt() -> StoreError {
    StoreError::Backend("the store's journal holds a record it cannot read".into())
}

/// The error of a failed read, write or sync of the journal.
fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("the store's journal: {e}"))
}

/// What a record's header says, before its checksum is checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Header {
    len: u32,
    seq: u64,
    store: u64,
    generation: u32,
}

impl Header {
    /// The header's fields as written, without the checksum.
    fn fields(&self) -> [u8; HEADER - 4] {
        let mut out = [0u8; HEADER - 4];
        out[..4].copy_from_slice(&self.len.to_le_bytes());
        out[4..12].copy_from_slice(&self.seq.to_le_bytes());
        out[12..20].copy_from_slice(&self.store.to_le_bytes());
        out[20..].copy_from_slice(&self.generation.to_le_bytes());
        out
    }

    /// The checksum of this header's fields and `payload`.
    fn sum(&self, payload: &[u8]) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(&self.fields());
        h.update(payload);
        h.finalize()
    }

    /// The record of this header and `payload`.
    fn encode(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(&self.fields());
        out.extend_from_slice(&self.sum(payload).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// The header at the start of `bytes`, and its checksum.
    fn decode(bytes: &[u8]) -> Option<(Self, u32)> {
        let h = bytes.get(..HEADER)?;
        let le4 = |at: usize| u32::from_le_bytes(h[at..at + 4].try_into().expect("4 bytes"));
        let le8 = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8 bytes"));
        let header = Self {
            len: le4(0),
            seq: le8(4),
            store: le8(12),
            generation: le4(20),
        };
        Some((header, le4(24)))
    }
}

/// A fresh generation number.
fn generation() -> u32 {
    u32::from_le_bytes(random_bytes())
}

/// Records in `txn` that the store's items hold the journal's records up to `number`.
pub fn mark_applied(txn: &redb::WriteTransaction, number: u64) -> Result<(), StoreError> {
    txn.open_table(APPLIED)
        .map_err(backend)?
        .insert(APPLIED_KEY, number)
        .map_err(backend)?;
    Ok(())
}

/// The journal file, with where the next record goes and its number.
pub struct Journal {
    file: File,
    end: u64,
    next: u64,
    store: u64,
    generation: u32,
    capacity: u64,
}

/// Records read back from a journal: (sequence number, payload) in order.
pub type Replayed = Vec<(u64, Vec<u8>)>;

impl Journal {
    /// Opens (creating and preallocating `capacity` bytes if needed) the journal at `path` of
    /// the store `store` whose items hold records up to `applied`; answers it with the records
    /// after `applied`, to be replayed. The file and its directory are synced before any
    /// record is written to it. Fails when the journal's first record comes after
    /// `applied + 1` (records the store lacks are gone), or on an I/O error.
    pub fn open(
        path: &Path,
        applied: u64,
        store: u64,
        capacity: u64,
    ) -> Result<(Self, Replayed), StoreError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let mut held = Vec::new();
        file.read_to_end(&mut held).map_err(io)?;
        let records = read_records(&held, store);
        if let Some(&(first, _)) = records.first()
            && first > applied.saturating_add(1)
        {
            return Err(StoreError::Backend(format!(
                "the store's journal starts at record {first} but the store holds records up to \
                 {applied} only: records are missing"
            )));
        }
        let last = records.last().map_or(applied, |(seq, _)| *seq).max(applied);
        if (held.len() as u64) < capacity {
            let zeros = vec![0u8; 1 << 20];
            let mut left = capacity - held.len() as u64;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n]).map_err(io)?;
                left -= n as u64;
            }
        }
        file.sync_all().map_err(io)?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        let replay = records.into_iter().filter(|(seq, _)| *seq > applied);
        let journal = Self {
            file,
            end: 0,
            next: last + 1,
            store,
            generation: generation(),
            capacity,
        };
        Ok((journal, replay.map(|(s, p)| (s, p.to_vec())).collect()))
    }

    /// The number the next record takes. Every number below it is either held by the items
    /// or was never committed, so a checkpoint records `next() - 1` as applied.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Whether a record of `effects` fits in what is left of the file.
    pub fn fits(&self, effects: &Effects) -> bool {
        self.end + (HEADER + effects.bytes.len()) as u64 <= self.capacity
    }

    /// Whether no record was written since the journal started over.
    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// Writes `effects` (not empty) as record number [`next`](Self::next), syncs it, then
    /// calls `accepted` (the group's commit). On any failure the number is used up all the
    /// same: a record that reached the file is never followed by another of the same number,
    /// and the caller must checkpoint before journaling again, so that the checkpoint marks the
    /// failed record as applied and a replay never applies it.
    pub fn append(
        &mut self,
        effects: &Effects,
        accepted: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let payload = &effects.bytes;
        if payload.is_empty() {
            return Err(StoreError::Backend("an empty journal record".into()));
        }
        let header = Header {
            len: u32::try_from(payload.len()).map_err(|_| corrupt())?,
            seq: self.next,
            store: self.store,
            generation: self.generation,
        };
        let record = header.encode(payload);
        self.next += 1;
        self.file.seek(SeekFrom::Start(self.end)).map_err(io)?;
        self.file.write_all(&record).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        accepted()?;
        self.end += record.len() as u64;
        Ok(())
    }

    /// Starts over after a checkpoint (the store's durable items hold every record written),
    /// in a new generation.
    pub fn start_over(&mut self) {
        self.end = 0;
        self.generation = generation();
    }
}

/// The whole records of `store` at the start of `held`, of the first one's generation, each
/// numbered one more than the one before.
fn read_records(held: &[u8], store: u64) -> Vec<(u64, &[u8])> {
    let mut out: Vec<(u64, &[u8])> = Vec::new();
    let mut first: Option<Header> = None;
    let mut at = 0usize;
    while let Some((header, sum)) = held.get(at..).and_then(Header::decode) {
        let body = at.checked_add(HEADER);
        let end = body.and_then(|b| b.checked_add(header.len as usize));
        let Some(payload) = body.zip(end).and_then(|(b, e)| held.get(b..e)) else {
            break;
        };
        let same = first.is_none_or(|f| {
            f.generation == header.generation && header.seq == f.seq + out.len() as u64
        });
        let ok = header.len > 0 && header.store == store && same;
        if !ok || header.sum(payload) != sum {
            break;
        }
        first.get_or_insert(header);
        out.push((header.seq, payload));
        at += HEADER + header.len as usize;
    }
    out
}

/// Opens the journal at `path` of the store `txn` writes (its first transaction, committed
/// durably by the caller), with `capacity` bytes: draws the store's id if it has none, and
/// replays into `txn` the records its items lack.
pub fn recover(
    txn: &redb::WriteTransaction,
    path: &Path,
    capacity: u64,
) -> Result<Journal, StoreError> {
    let mut items = txn.open_table(ITEMS).map_err(backend)?;
    let mut meta = txn.open_table(APPLIED).map_err(backend)?;
    let applied = meta.get(APPLIED_KEY).map_err(backend)?.map(|g| g.value());
    let known = meta.get(STORE_KEY).map_err(backend)?.map(|g| g.value());
    let store = match known {
        Some(store) => store,
        None => {
            let store = u64::from_le_bytes(random_bytes());
            meta.insert(STORE_KEY, store).map_err(backend)?;
            store
        }
    };
    let (journal, replay) = Journal::open(path, applied.unwrap_or(0), store, capacity)?;
    for (_, payload) in &replay {
        for effect in effects(payload)? {
            match effect {
                Effect::Put(key, value) => drop(items.insert(key, value).map_err(backend)?),
                Effect::Remove(key) => drop(items.remove(key).map_err(backend)?),
            }
        }
    }
    if let Some((last, _)) = replay.last() {
        meta.insert(APPLIED_KEY, last).map_err(backend)?;
        tracing::info!(records = replay.len(), "replayed the store's journal");
    }
    Ok(journal)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
