//! A model-based property test of the embedded store's group commit: random requests (puts,
//! deletes, checks and counter adds under every kind of condition, on a few shared keys) are
//! queued together, so the writer applies many of them in one transaction; each must answer and
//! leave what it would have if the requests had run one at a time, in order, against a plain
//! map. A failed condition must leave nothing of its request, not even an overwrite it made
//! before the failing write or an add kept aside for the end of the group.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use muster::store::{Condition, EmbeddedTable, Item, Key, StoreError, Table, Write};
use proptest::prelude::*;

pub(crate) const SKS: [&str; 4] = ["a", "b", "c", "n"];

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put(u64, Condition),
    Delete(Condition),
    Check(Condition),
    Add(i64),
}

fn condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        Just(Condition::Always),
        Just(Condition::NotExists),
        Just(Condition::Exists),
        (0u64..4).prop_map(Condition::VersionIs),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        ((0u64..4), condition()).prop_map(|(v, c)| Op::Put(v, c)),
        condition().prop_map(Op::Delete),
        condition().prop_map(Op::Check),
        (-2i64..3).prop_map(Op::Add),
    ]
}

/// A request: one to three operations on distinct keys, in any order.
pub(crate) fn request() -> impl Strategy<Value = Vec<(usize, Op)>> {
    proptest::sample::subsequence(vec![0usize, 1, 2, 3], 1..=3)
        .prop_shuffle()
        .prop_flat_map(|keys| {
            let n = keys.len();
            (Just(keys), proptest::collection::vec(op(), n))
        })
        .prop_map(|(keys, ops)| keys.into_iter().zip(ops).collect())
}

pub(crate) fn key(k: usize) -> Key {
    Key::new("P", SKS[k])
}

pub(crate) fn write(k: usize, op: &Op) -> Write {
    match op {
        Op::Put(v, condition) => Write::Put {
            item: Item::new(key(k), *v, format!("{k}:{v}").into_bytes()),
            condition: *condition,
        },
        Op::Delete(condition) => Write::Delete {
            key: key(k),
            condition: *condition,
        },
        Op::Check(condition) => Write::Check {
            key: key(k),
            condition: *condition,
        },
        Op::Add(delta) => Write::Add {
            key: key(k),
            delta: *delta,
        },
    }
}

/// The model: per key, the stored count (signed, as adds may take it below zero) and body.
pub(crate) type Model = BTreeMap<usize, (i64, Vec<u8>)>;

/// The version a reader or a condition sees: a count below zero reads as 0.
pub(crate) fn seen(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

fn holds(condition: Condition, current: Option<u64>) -> bool {
    match condition {
        Condition::Always => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(v) => current == Some(v),
    }
}

/// Runs one request against the model: every condition first, then every write.
pub(crate) fn run(model: &mut Model, request: &[(usize, Op)]) -> Result<(), usize> {
    for (index, (k, op)) in request.iter().enumerate() {
        let condition = match op {
            Op::Put(_, c) | Op::Delete(c) | Op::Check(c) => *c,
            Op::Add(_) => Condition::Always,
        };
        if !holds(condition, model.get(k).map(|(n, _)| seen(*n))) {
            return Err(index);
        }
    }
    for (k, op) in request {
        match op {
            Op::Put(v, _) => {
                let body = format!("{k}:{v}").into_bytes();
                model.insert(*k, (i64::try_from(*v).unwrap(), body));
            }
            Op::Delete(_) => {
                model.remove(k);
            }
            Op::Check(_) => {}
            Op::Add(delta) => model.entry(*k).or_insert((0, Vec::new())).0 += delta,
        }
    }
    Ok(())
}

pub(crate) fn outcome(done: Result<(), StoreError>) -> Result<(), usize> {
    done.map_err(|e| match e {
        StoreError::ConditionFailed { index } => index,
        other => panic!("only conditions may fail here: {other}"),
    })
}

async fn check(rounds: Vec<Vec<Vec<(usize, Op)>>>) -> Result<(), TestCaseError> {
    let table = EmbeddedTable::in_memory();
    let mut model = Model::new();
    for round in rounds {
        // Queued in order by one task, so the writer takes them in this order and commits
        // whichever arrived together as one group.
        let sent = round.iter().map(|request| {
            let writes: Vec<Write> = request.iter().map(|(k, op)| write(*k, op)).collect();
            table.transact(writes)
        });
        let answers = join_all(sent).await;
        for (request, answer) in round.iter().zip(answers) {
            prop_assert_eq!(outcome(answer), run(&mut model, request), "{:?}", request);
        }
        for (k, sk) in SKS.iter().enumerate() {
            let stored = table.get(&key(k)).await.unwrap();
            let expected = model.get(&k).map(|(n, body)| (seen(*n), body.clone()));
            prop_assert_eq!(stored.map(|i| (i.version, i.body)), expected, "key {}", sk);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn requests_committed_together_answer_and_write_as_if_run_one_at_a_time(
        rounds in proptest::collection::vec(proptest::collection::vec(request(), 1..24), 1..6)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(check(rounds))?;
    }
}
