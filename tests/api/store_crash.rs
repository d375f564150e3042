//! A model-based property test of the file-backed embedded store across crashes. Random rounds
//! of requests (queued together, so they share commits) are sent durably or deferred, to a store
//! whose journal is tiny, mid-sized or full-sized (so checkpoints come from a full journal, from
//! a deferred commit before a durable one, or rarely). After any round the files are copied as a
//! kill -9 leaves them (what the process wrote survives, its memory does not) and the copy is
//! opened: it must hold the state after some round no earlier than the last durable round that
//! wrote, and then keep a durable write across a second crash. Closed and reopened at the end,
//! the store holds every round.

use std::path::{Path, PathBuf};

use futures_util::future::join_all;
use muster::store::{Condition, EmbeddedTable, Item, Key, Table, Write};
use proptest::prelude::*;

use crate::store_groups::{Model, Op, SKS, key, outcome, request, run, seen, write};

#[derive(Debug, Clone)]
struct Round {
    durable: bool,
    requests: Vec<Vec<(usize, Op)>>,
    crash_after: bool,
}

fn round() -> impl Strategy<Value = Round> {
    (
        any::<bool>(),
        proptest::collection::vec(request(), 1..8),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(durable, requests, crash_after)| Round {
            durable,
            requests,
            crash_after,
        })
}

type Seen = Vec<Option<(u64, Vec<u8>)>>;

fn expected(model: &Model) -> Seen {
    (0..SKS.len())
        .map(|k| model.get(&k).map(|(n, body)| (seen(*n), body.clone())))
        .collect()
}

async fn stored(table: &EmbeddedTable) -> Seen {
    let mut out = Vec::new();
    for k in 0..SKS.len() {
        let item = table.get(&key(k)).await.unwrap();
        out.push(item.map(|i| (i.version, i.body)));
    }
    out
}

fn open(path: &Path, journal_bytes: u64) -> EmbeddedTable {
    EmbeddedTable::open_with_journal_bytes(path, journal_bytes)
        .unwrap()
        .expect("the file is free")
}

/// Copies the store's files in `dir` to `to`, as a kill -9 would leave them.
fn crash_copy(dir: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for name in ["store.redb", "store.journal"] {
        std::fs::copy(dir.join(name), to.join(name)).unwrap();
    }
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn check(rounds: Vec<Round>, journal_bytes: u64, case: u64) -> Result<(), TestCaseError> {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("muster-crash-{}-{case}", std::process::id())));
    let (dir, copy) = (scratch.0.join("live"), scratch.0.join("copy"));
    std::fs::create_dir_all(&dir).unwrap();
    let table = open(&dir.join("store.redb"), journal_bytes);
    let bulk = table.deferred().expect("the embedded store defers");
    let mut states = vec![expected(&Model::new())];
    let mut model = Model::new();
    let mut kept = 0;
    for (at, round) in rounds.iter().enumerate() {
        let target = if round.durable {
            &table as &dyn Table
        } else {
            &*bulk
        };
        let sent = round.requests.iter().map(|request| {
            let writes: Vec<Write> = request.iter().map(|(k, op)| write(*k, op)).collect();
            target.transact(writes)
        });
        let mut wrote = false;
        for (request, answer) in round.requests.iter().zip(join_all(sent).await) {
            let modelled = run(&mut model, request);
            wrote |= modelled.is_ok();
            prop_assert_eq!(outcome(answer), modelled, "{:?}", request);
        }
        states.push(expected(&model));
        if round.durable && wrote {
            kept = at + 1;
        }
        if !round.crash_after {
            continue;
        }
        crash_copy(&dir, &copy);
        let recovered = open(&copy.join("store.redb"), journal_bytes);
        let found = stored(&recovered).await;
        prop_assert!(
            states[kept..].contains(&found),
            "after round {}: {:?} is no state from round {} on",
            at,
            found,
            kept
        );
        let item = Item::new(Key::new("P", "after"), 1, b"x".to_vec());
        recovered.put(item, Condition::Always).await.unwrap();
        let again = copy.with_extension("again");
        crash_copy(&copy, &again);
        let twice = open(&again.join("store.redb"), journal_bytes);
        prop_assert_eq!(stored(&twice).await, found, "a second crash after replay");
        prop_assert!(twice.get(&Key::new("P", "after")).await.unwrap().is_some());
    }
    drop((table, bulk));
    let reopened = open(&dir.join("store.redb"), journal_bytes);
    prop_assert_eq!(
        stored(&reopened).await,
        expected(&model),
        "closed and reopened"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_crash_keeps_every_durable_answer_and_a_prefix_of_the_deferred_ones(
        rounds in proptest::collection::vec(round(), 1..10),
        journal_bytes in prop_oneof![Just(200u64), Just(2_000), Just(1 << 20)],
        case in any::<u64>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(check(rounds, journal_bytes, case))?;
    }
}
