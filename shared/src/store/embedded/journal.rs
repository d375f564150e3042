//! The commit journal of a file-backed store: a durable group of writes is made durable by
//! appending what it wrote to this small, preallocated file and syncing that one write,
//! instead of syncing the B-tree's pages; redb takes the group without a sync of its own. A
//! checkpoint (a durable redb commit) makes the journal's records redundant, and the journal
//! starts over. Opening the store replays the records the file's last durable commit lacks.
//!
//! Each record holds a sequence number, one more than the record before it. redb's items carry
//! the number of the last record whose writes they hold ([`APPLIED`], written in the same
//! transaction as the writes), so whatever redb makes durable (a checkpoint, or its own close)
//! says where replay starts. Records are read from the start of the file while each is whole
//! (its checksum holds) and follows the one before it: a torn last record, or one left from
//! before the journal started over (older numbers), ends the replay.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::path::Path;

use redb::TableDefinition;

use crate::store::StoreError;

/// Where a file-backed store keeps the number of the last journal record its items hold.
pub const APPLIED: TableDefinition<&str, u64> = TableDefinition::new("journal");

/// The one key of [`APPLIED`].
pub const APPLIED_KEY: &str = "applied";

/// The journal's size, written in full when it is created so that a record's sync writes data
/// only (no block allocation, no size change to record). A group that does not fit in what is
/// left is committed by a checkpoint instead: a full journal holds about 16,000 SCIM creates,
/// replayed in well under a second.
pub const JOURNAL_BYTES: u64 = 16 << 20;

/// A record's header: the payload's length, the sequence number, the checksum.
const HEADER: usize = 4 + 8 + 4;

const PUT: u8 = 1;
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

fn corrupt() -> StoreError {
    StoreError::Backend("the store's journal holds a record it cannot read".into())
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("the store's journal: {e}"))
}

fn checksum(len: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&seq.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// The journal file, with where the next record goes and its number.
pub struct Journal {
    file: File,
    end: u64,
    next: u64,
    capacity: u64,
}

/// Records read back from a journal: (sequence number, payload) in order.
pub type Replayed = Vec<(u64, Vec<u8>)>;

impl Journal {
    /// Opens (creating and preallocating `capacity` bytes if needed) the journal at `path` of a
    /// store whose items hold records up to `applied`; answers it with the records after
    /// `applied`, to be replayed. Fails when the journal's first record comes after
    /// `applied + 1` (records the store lacks are gone), or on an I/O error.
    pub fn open(path: &Path, applied: u64, capacity: u64) -> Result<(Self, Replayed), StoreError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let mut held = Vec::new();
        file.read_to_end(&mut held).map_err(io)?;
        let records = read_records(&held);
        if let Some(&(first, _)) = records.first()
            && first > applied + 1
        {
            return Err(StoreError::Backend(format!(
                "the store's journal starts at record {first} but the store holds records up to \
                 {applied} only: records are missing"
            )));
        }
        let last = records.last().map_or(applied, |(seq, _)| *seq).max(applied);
        if (held.len() as u64) < capacity {
            file.seek(SeekFrom::Start(held.len() as u64)).map_err(io)?;
            let zeros = vec![0u8; 1 << 20];
            let mut left = capacity - held.len() as u64;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n]).map_err(io)?;
                left -= n as u64;
            }
            file.sync_all().map_err(io)?;
            if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
                let _ = dir.sync_all();
            }
        }
        let replay = records.into_iter().filter(|(seq, _)| *seq > applied);
        let journal = Self {
            file,
            end: 0,
            next: last + 1,
            capacity,
        };
        Ok((journal, replay.map(|(s, p)| (s, p.to_vec())).collect()))
    }

    /// The number the next record takes.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Whether a record of `effects` fits in what is left of the file.
    pub fn fits(&self, effects: &Effects) -> bool {
        self.end + (HEADER + effects.bytes.len()) as u64 <= self.capacity
    }

    /// Writes `effects` as record number [`next`](Self::next) and syncs it; the journal moves
    /// past it only when `accepted` (the group's commit) succeeds afterwards, so a group whose
    /// commit fails is overwritten by the next record, which takes the same number.
    pub fn append(
        &mut self,
        effects: &Effects,
        accepted: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let payload = &effects.bytes;
        let len = u32::try_from(payload.len()).map_err(|_| corrupt())?;
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&self.next.to_le_bytes());
        record.extend_from_slice(&checksum(len, self.next, payload).to_le_bytes());
        record.extend_from_slice(payload);
        self.file.seek(SeekFrom::Start(self.end)).map_err(io)?;
        self.file.write_all(&record).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        accepted()?;
        self.end += record.len() as u64;
        self.next += 1;
        Ok(())
    }

    /// Whether no record was written since the journal started over.
    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// Starts over after a checkpoint: the store's durable items hold every record written.
    pub fn start_over(&mut self) {
        self.end = 0;
    }
}

/// The whole records at the start of `held`, each numbered one more than the one before.
fn read_records(held: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out: Vec<(u64, &[u8])> = Vec::new();
    let mut at = 0usize;
    while let Some(header) = held.get(at..at + HEADER) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
        let seq = u64::from_le_bytes(header[4..12].try_into().expect("8 bytes"));
        let sum = u32::from_le_bytes(header[12..].try_into().expect("4 bytes"));
        let Some(payload) = held.get(at + HEADER..at + HEADER + len as usize) else {
            break;
        };
        let follows = out.last().is_none_or(|(prev, _)| seq == prev + 1);
        if len == 0 || !follows || checksum(len, seq, payload) != sum {
            break;
        }
        out.push((seq, payload));
        at += HEADER + len as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("muster-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("muster.journal")
    }

    fn one_put(value: &str) -> Effects {
        let mut e = Effects::default();
        e.put(("P", "S"), value.as_bytes());
        e
    }

    #[test]
    fn a_payload_reads_back_as_the_writes_in_their_order() {
        let mut e = Effects::default();
        e.put(("T#1", "U#a"), b"doc");
        e.remove(("T#1", "I#x"));
        e.put(("T#1", "I#x"), b"");
        let read = effects(&e.bytes).unwrap();
        assert_eq!(
            read,
            vec![
                Effect::Put(("T#1", "U#a"), b"doc"),
                Effect::Remove(("T#1", "I#x")),
                Effect::Put(("T#1", "I#x"), b""),
            ]
        );
        assert!(effects(&e.bytes[..e.bytes.len() - 1]).is_err(), "cut short");
    }

    #[test]
    fn records_after_the_applied_one_are_replayed_and_numbering_goes_on() {
        let path = scratch("replay");
        let (mut j, replay) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        assert!(replay.is_empty());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), JOURNAL_BYTES);
        for v in ["a", "b", "c"] {
            j.append(&one_put(v), || Ok(())).unwrap();
        }
        drop(j);
        let (j, replay) = Journal::open(&path, 1, JOURNAL_BYTES).unwrap();
        let seqs: Vec<u64> = replay.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, vec![2, 3]);
        assert_eq!(
            effects(&replay[1].1).unwrap()[0],
            Effect::Put(("P", "S"), b"c")
        );
        assert_eq!(j.next(), 4);
    }

    #[test]
    fn a_record_whose_commit_fails_is_overwritten_by_the_next() {
        let path = scratch("refused");
        let (mut j, _) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        let refused = j.append(&one_put("long value, refused"), || {
            Err(StoreError::Backend("no".into()))
        });
        assert!(refused.is_err());
        j.append(&one_put("kept"), || Ok(())).unwrap();
        drop(j);
        let (_, replay) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        assert_eq!(replay.len(), 1, "one record, numbered 1");
        assert_eq!(
            effects(&replay[0].1).unwrap()[0],
            Effect::Put(("P", "S"), b"kept")
        );
    }

    #[test]
    fn after_starting_over_older_records_left_in_the_file_are_not_replayed() {
        let path = scratch("over");
        let (mut j, _) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        for v in ["a", "b", "c", "d"] {
            j.append(&one_put(v), || Ok(())).unwrap();
        }
        j.start_over();
        j.append(&one_put("e"), || Ok(())).unwrap();
        drop(j);
        let (j, replay) = Journal::open(&path, 4, JOURNAL_BYTES).unwrap();
        let seqs: Vec<u64> = replay.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs,
            vec![5],
            "records 2 to 4 were written before the checkpoint"
        );
        assert_eq!(j.next(), 6);
    }

    #[test]
    fn a_torn_last_record_ends_the_replay() {
        let path = scratch("torn");
        let (mut j, _) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        j.append(&one_put("whole"), || Ok(())).unwrap();
        let at = j.end;
        j.append(&one_put("torn"), || Ok(())).unwrap();
        drop(j);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at as usize + HEADER + 3] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (_, replay) = Journal::open(&path, 0, JOURNAL_BYTES).unwrap();
        assert_eq!(replay.len(), 1);
    }

    #[test]
    fn a_journal_starting_past_the_store_is_refused() {
        let path = scratch("gap");
        let (mut j, _) = Journal::open(&path, 7, JOURNAL_BYTES).unwrap();
        j.append(&one_put("a"), || Ok(())).unwrap();
        drop(j);
        let refused = Journal::open(&path, 3, JOURNAL_BYTES)
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("records are missing"), "{refused}");
    }
}
