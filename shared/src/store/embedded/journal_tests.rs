//! The journal's records: how they read back, which ones a reopened journal replays, and what
//! ends a replay.

use super::*;

const STORE: u64 = 7;
const BYTES: u64 = 4096;

/// A scratch directory removed when dropped, and the journal's path in it.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("muster-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> std::path::PathBuf {
        self.0.join("muster.journal")
    }

    fn open(&self, applied: u64) -> (Journal, Replayed) {
        Journal::open(&self.path(), applied, STORE, BYTES).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn one_put(value: &str) -> Effects {
    let mut e = Effects::default();
    e.put(("P", "S"), value.as_bytes());
    e
}

fn numbers(replay: &Replayed) -> Vec<u64> {
    replay.iter().map(|(s, _)| *s).collect()
}

fn value(replay: &Replayed, at: usize) -> Vec<u8> {
    match &effects(&replay[at].1).unwrap()[0] {
        Effect::Put(_, v) => v.to_vec(),
        Effect::Remove(_) => panic!("a put was written"),
    }
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
    let scratch = Scratch::new("replay");
    let (mut j, replay) = scratch.open(0);
    assert!(replay.is_empty());
    assert_eq!(std::fs::metadata(scratch.path()).unwrap().len(), BYTES);
    for v in ["a", "b", "c"] {
        j.append(&one_put(v), || Ok(())).unwrap();
    }
    drop(j);
    let (j, replay) = scratch.open(1);
    assert_eq!(numbers(&replay), vec![2, 3]);
    assert_eq!(value(&replay, 1), b"c");
    assert_eq!(j.next(), 4);
}

#[test]
fn a_failed_append_uses_up_its_number_so_a_checkpoint_marks_it_applied() {
    let scratch = Scratch::new("refused");
    let (mut j, _) = scratch.open(0);
    j.append(&one_put("a"), || Ok(())).unwrap();
    let refused = j.append(&one_put("refused"), || {
        Err(StoreError::Backend("no".into()))
    });
    assert!(refused.is_err());
    assert_eq!(j.next(), 3, "the refused record keeps its number");
    // The writer checkpoints now, recording next() - 1 as applied, then starts over.
    j.start_over();
    drop(j);
    let (_, replay) = scratch.open(2);
    assert!(replay.is_empty(), "the refused record is never replayed");
}

#[test]
fn an_empty_record_is_refused() {
    let scratch = Scratch::new("empty");
    let (mut j, _) = scratch.open(0);
    assert!(j.append(&Effects::default(), || Ok(())).is_err());
}

#[test]
fn after_starting_over_older_records_left_in_the_file_are_not_replayed() {
    let scratch = Scratch::new("over");
    let (mut j, _) = scratch.open(0);
    for v in ["a", "b", "c", "d"] {
        j.append(&one_put(v), || Ok(())).unwrap();
    }
    j.start_over();
    j.append(&one_put("e"), || Ok(())).unwrap();
    drop(j);
    let (j, replay) = scratch.open(4);
    assert_eq!(
        numbers(&replay),
        vec![5],
        "2 to 4 were before the checkpoint"
    );
    assert_eq!(j.next(), 6);
}

#[test]
fn a_record_of_an_earlier_generation_that_happens_to_follow_is_not_replayed() {
    let scratch = Scratch::new("generation");
    let (mut j, _) = scratch.open(0);
    for v in ["a", "b", "c", "d"] {
        j.append(&one_put(v), || Ok(())).unwrap();
    }
    drop(j);
    // Record 3 rots; a reopen replays 1 and 2, and the journal starts over at record 3.
    let record = HEADER + one_put("a").bytes.len();
    let mut bytes = std::fs::read(scratch.path()).unwrap();
    bytes[2 * record + HEADER + 3] ^= 0xff;
    std::fs::write(scratch.path(), &bytes).unwrap();
    let (mut j, replay) = scratch.open(0);
    assert_eq!(numbers(&replay), vec![1, 2]);
    // A new record 3 as long as the first three ends where the old record 4 begins.
    let long = "x".repeat(2 * record + 1);
    j.append(&one_put(&long), || Ok(())).unwrap();
    drop(j);
    let (_, replay) = scratch.open(2);
    assert_eq!(
        numbers(&replay),
        vec![3],
        "the old record 4 is of another generation"
    );
    assert_eq!(value(&replay, 0), long.as_bytes());
}

/// A change made to a journal's bytes.
type Damage = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn a_damaged_or_cut_record_ends_the_replay_without_a_panic() {
    let scratch = Scratch::new("torn");
    let (mut j, _) = scratch.open(0);
    j.append(&one_put("whole"), || Ok(())).unwrap();
    let at = j.end as usize;
    j.append(&one_put("torn"), || Ok(())).unwrap();
    drop(j);
    let whole = std::fs::read(scratch.path()).unwrap();
    let damaged: [(&str, Damage); 3] = [
        (
            "a payload byte",
            Box::new(move |b| b[at + HEADER + 3] ^= 0xff),
        ),
        (
            "a length past the file",
            Box::new(move |b| b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes())),
        ),
        (
            "the file cut in a header",
            Box::new(move |b| b.truncate(at + 5)),
        ),
    ];
    for (what, damage) in damaged {
        let mut bytes = whole.clone();
        damage(&mut bytes);
        std::fs::write(scratch.path(), &bytes).unwrap();
        let (_, replay) = scratch.open(0);
        assert_eq!(numbers(&replay), vec![1], "{what}");
    }
}

#[test]
fn a_journal_of_another_store_is_not_replayed() {
    let scratch = Scratch::new("foreign");
    let (mut j, _) = scratch.open(0);
    j.append(&one_put("a"), || Ok(())).unwrap();
    drop(j);
    let (_, replay) = Journal::open(&scratch.path(), 0, STORE + 1, BYTES).unwrap();
    assert!(replay.is_empty());
}

#[test]
fn a_journal_starting_past_the_store_is_refused() {
    let scratch = Scratch::new("gap");
    let (mut j, _) = scratch.open(7);
    j.append(&one_put("a"), || Ok(())).unwrap();
    drop(j);
    let refused = Journal::open(&scratch.path(), 3, STORE, BYTES);
    let refused = refused.err().unwrap().to_string();
    assert!(refused.contains("records are missing"), "{refused}");
}
