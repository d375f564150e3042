//! The contract every [`Table`] adapter must pass, written once and run against each adapter.
//!
//! Each check works in partitions of its own (random names), so the suite can run against a
//! shared, non-empty table such as a DynamoDB table on an emulator.

use std::future::Future;
use std::sync::Arc;

use super::{Condition, Item, Key, Query, SkRange, StoreError, Table, Write, query_all};

fn fresh_partition(label: &str) -> String {
    format!("CONTRACT#{label}#{}", crate::ids::random_id())
}

fn item(pk: &str, sk: &str, version: u64) -> Item {
    Item::new(
        Key::new(pk, sk),
        version,
        format!("{pk}/{sk}/{version}").into_bytes(),
    )
}

fn put(item: Item, condition: Condition) -> Write {
    Write::Put { item, condition }
}

/// Runs every check of the contract on tables built by `make` (one table may be shared).
pub async fn run_all<T, F, Fut>(make: F)
where
    T: Table,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let table: Arc<dyn Table> = Arc::new(make().await);
    reading_a_missing_key_is_none(&*table).await;
    reading_many_keys_answers_in_their_order(&*table).await;
    conditional_puts_follow_their_condition(&*table).await;
    conditional_deletes_follow_their_condition(&*table).await;
    a_failed_transaction_writes_nothing_and_names_the_failing_write(&*table).await;
    transactions_reject_oversized_and_duplicate_key_requests(&*table).await;
    queries_return_one_partition_in_sort_key_order_across_pages(&*table).await;
    queries_honour_ranges_and_counts(&*table).await;
    a_garbage_cursor_is_rejected(&*table).await;
    batch_writes_apply_many_puts_and_deletes(&*table).await;
    concurrent_creates_of_one_key_have_exactly_one_winner(table.clone()).await;
    counters_add_inside_transactions_and_only_when_they_commit(table.clone()).await;
}

async fn reading_a_missing_key_is_none(t: &dyn Table) {
    let pk = fresh_partition("missing");
    assert_eq!(t.get(&Key::new(&pk, "nothing")).await.unwrap(), None);
}

async fn reading_many_keys_answers_in_their_order(t: &dyn Table) {
    let pk = fresh_partition("many");
    let writes = (0..600)
        .map(|i| put(item(&pk, &format!("{i:03}"), 1), Condition::Always))
        .collect();
    t.batch_write(writes).await.unwrap();
    // More keys than one DynamoDB request holds (and than the embedded store reads on one
    // thread), a repeat and a missing key among them.
    let mut keys: Vec<Key> = (0..600)
        .rev()
        .map(|i| Key::new(&pk, format!("{i:03}")))
        .collect();
    keys.insert(3, Key::new(&pk, "missing"));
    keys.push(Key::new(&pk, "007"));
    let got = t.get_many(&keys).await.unwrap();
    assert_eq!(got.len(), keys.len());
    for (key, found) in keys.iter().zip(&got) {
        match found {
            Some(i) => assert_eq!(i, &item(&pk, &key.sk, 1)),
            None => assert_eq!(key.sk, "missing"),
        }
    }
    assert_eq!(t.get_many(&[]).await.unwrap(), Vec::<Option<Item>>::new());
}

async fn conditional_puts_follow_their_condition(t: &dyn Table) {
    let pk = fresh_partition("put");
    let key = Key::new(&pk, "A");
    t.put(item(&pk, "A", 1), Condition::NotExists)
        .await
        .unwrap();
    let again = t.put(item(&pk, "A", 9), Condition::NotExists).await;
    assert!(matches!(
        again,
        Err(StoreError::ConditionFailed { index: 0 })
    ));
    let stale = t.put(item(&pk, "A", 9), Condition::VersionIs(7)).await;
    assert!(matches!(stale, Err(StoreError::ConditionFailed { .. })));
    assert_eq!(t.get(&key).await.unwrap(), Some(item(&pk, "A", 1)));
    t.put(item(&pk, "A", 2), Condition::VersionIs(1))
        .await
        .unwrap();
    t.put(item(&pk, "A", 3), Condition::Exists).await.unwrap();
    let absent = t.put(item(&pk, "B", 1), Condition::Exists).await;
    assert!(matches!(absent, Err(StoreError::ConditionFailed { .. })));
    assert_eq!(t.get(&Key::new(&pk, "B")).await.unwrap(), None);
    t.put(item(&pk, "A", 4), Condition::Always).await.unwrap();
    assert_eq!(t.get(&key).await.unwrap(), Some(item(&pk, "A", 4)));
}

async fn conditional_deletes_follow_their_condition(t: &dyn Table) {
    let pk = fresh_partition("delete");
    let key = Key::new(&pk, "A");
    t.put(item(&pk, "A", 5), Condition::NotExists)
        .await
        .unwrap();
    let stale = t.delete(&key, Condition::VersionIs(4)).await;
    assert!(matches!(stale, Err(StoreError::ConditionFailed { .. })));
    assert!(t.get(&key).await.unwrap().is_some());
    t.delete(&key, Condition::VersionIs(5)).await.unwrap();
    assert_eq!(t.get(&key).await.unwrap(), None);
    let gone = t.delete(&key, Condition::Exists).await;
    assert!(matches!(gone, Err(StoreError::ConditionFailed { .. })));
    t.delete(&key, Condition::Always).await.unwrap();
}

async fn a_failed_transaction_writes_nothing_and_names_the_failing_write(t: &dyn Table) {
    let pk = fresh_partition("txn");
    t.put(item(&pk, "TAKEN", 1), Condition::NotExists)
        .await
        .unwrap();
    let writes = vec![
        put(item(&pk, "NEW", 1), Condition::NotExists),
        put(item(&pk, "ALSO_NEW", 1), Condition::Always),
        put(item(&pk, "TAKEN", 2), Condition::NotExists),
    ];
    let failed = t.transact(writes).await;
    assert!(failed.unwrap_err().is_condition_failed_at(2));
    assert_eq!(t.get(&Key::new(&pk, "NEW")).await.unwrap(), None);
    assert_eq!(t.get(&Key::new(&pk, "ALSO_NEW")).await.unwrap(), None);
    assert_eq!(
        t.get(&Key::new(&pk, "TAKEN")).await.unwrap(),
        Some(item(&pk, "TAKEN", 1))
    );
    let check = Write::Check {
        key: Key::new(&pk, "TAKEN"),
        condition: Condition::VersionIs(1),
    };
    t.transact(vec![check, put(item(&pk, "NEW", 1), Condition::NotExists)])
        .await
        .unwrap();
    assert!(t.get(&Key::new(&pk, "NEW")).await.unwrap().is_some());
}

async fn transactions_reject_oversized_and_duplicate_key_requests(t: &dyn Table) {
    let pk = fresh_partition("limits");
    let many: Vec<Write> = (0..101)
        .map(|i| put(item(&pk, &format!("K{i:03}"), 1), Condition::Always))
        .collect();
    assert!(matches!(
        t.transact(many).await,
        Err(StoreError::Invalid(_))
    ));
    let twice = vec![
        put(item(&pk, "K", 1), Condition::Always),
        put(item(&pk, "K", 2), Condition::Always),
    ];
    assert!(matches!(
        t.transact(twice).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        t.count(&pk, &SkRange::Prefix(String::new())).await.unwrap(),
        0
    );
    let hundred: Vec<Write> = (0..100)
        .map(|i| put(item(&pk, &format!("K{i:03}"), 1), Condition::NotExists))
        .collect();
    t.transact(hundred).await.unwrap();
    assert_eq!(
        t.count(&pk, &SkRange::Prefix("K".into())).await.unwrap(),
        100
    );
}

async fn queries_return_one_partition_in_sort_key_order_across_pages(t: &dyn Table) {
    let pk = fresh_partition("query");
    let neighbour = format!("{pk}#X");
    let sks = [
        "USER#b", "USER#a", "USER#c", "USER#ab", "USES#z", "USEQ", "USER#é",
    ];
    let mut writes: Vec<Write> = sks
        .iter()
        .map(|sk| put(item(&pk, sk, 1), Condition::Always))
        .collect();
    writes.push(put(item(&neighbour, "USER#0", 1), Condition::Always));
    t.batch_write(writes).await.unwrap();
    let mut seen = Vec::new();
    let mut query = Query::prefix(&pk, "USER#").limit(2);
    let mut pages = 0;
    loop {
        let page = t.query(&query).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|i| i.key.sk));
        match page.cursor {
            Some(c) => query = query.after(Some(c)),
            None => break,
        }
    }
    assert_eq!(seen, ["USER#a", "USER#ab", "USER#b", "USER#c", "USER#é"]);
    assert!(pages >= 3);
    let all = query_all(t, Query::prefix(&pk, "")).await.unwrap();
    assert_eq!(all.len(), sks.len());
    assert!(all.iter().all(|i| i.key.pk == pk));
}

async fn queries_honour_ranges_and_counts(t: &dyn Table) {
    let pk = fresh_partition("range");
    let writes: Vec<Write> = (0..10)
        .map(|i| put(item(&pk, &format!("R#{i}"), i), Condition::Always))
        .collect();
    t.batch_write(writes).await.unwrap();
    let between = SkRange::Between {
        from: "R#3".into(),
        to: "R#7".into(),
    };
    let query = Query {
        pk: pk.clone(),
        range: between.clone(),
        cursor: None,
        limit: 0,
    };
    let page = t.query(&query).await.unwrap();
    let sks: Vec<_> = page.items.iter().map(|i| i.key.sk.as_str()).collect();
    assert_eq!(sks, ["R#3", "R#4", "R#5", "R#6"]);
    assert_eq!(page.items[0].version, 3);
    assert_eq!(page.items[0].body, format!("{pk}/R#3/3").into_bytes());
    assert_eq!(t.count(&pk, &between).await.unwrap(), 4);
    assert_eq!(
        t.count(&pk, &SkRange::Prefix("R#".into())).await.unwrap(),
        10
    );
    assert_eq!(t.count(&pk, &SkRange::Prefix("Q".into())).await.unwrap(), 0);
}

async fn a_garbage_cursor_is_rejected(t: &dyn Table) {
    let pk = fresh_partition("cursor");
    let query = Query::prefix(&pk, "A").after(Some("%%not a cursor%%".into()));
    assert!(matches!(t.query(&query).await, Err(StoreError::Invalid(_))));
}

async fn batch_writes_apply_many_puts_and_deletes(t: &dyn Table) {
    let pk = fresh_partition("batch");
    let puts: Vec<Write> = (0..60)
        .map(|i| put(item(&pk, &format!("B{i:02}"), 1), Condition::Always))
        .collect();
    t.batch_write(puts).await.unwrap();
    let deletes: Vec<Write> = (0..30)
        .map(|i| Write::Delete {
            key: Key::new(&pk, format!("B{:02}", i * 2)),
            condition: Condition::Always,
        })
        .collect();
    t.batch_write(deletes).await.unwrap();
    let left = query_all(t, Query::prefix(&pk, "B")).await.unwrap();
    assert_eq!(left.len(), 30);
    assert!(
        left.iter()
            .all(|i| i.key.sk.ends_with(['1', '3', '5', '7', '9']))
    );
    let conditional = vec![put(item(&pk, "C", 1), Condition::NotExists)];
    assert!(matches!(
        t.batch_write(conditional).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn concurrent_creates_of_one_key_have_exactly_one_winner(t: Arc<dyn Table>) {
    let pk = fresh_partition("race");
    let tasks: Vec<_> = (0..32u64)
        .map(|i| {
            let t = t.clone();
            let pk = pk.clone();
            tokio::spawn(async move {
                let writes = vec![
                    put(item(&pk, "UNIQUE", i), Condition::NotExists),
                    put(item(&pk, &format!("OWNER#{i}"), i), Condition::NotExists),
                ];
                t.transact(writes).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed { index: 0 }) | Err(StoreError::Conflict) => {}
            Err(other) => panic!("a losing create must fail its condition, got {other}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(
        t.count(&pk, &SkRange::Prefix("OWNER#".into()))
            .await
            .unwrap(),
        1
    );
}

async fn counters_add_inside_transactions_and_only_when_they_commit(t: Arc<dyn Table>) {
    let pk = fresh_partition("counter");
    let counter = Key::new(&pk, "N");
    let add = |delta| Write::Add {
        key: counter.clone(),
        delta,
    };
    let count = |t: Arc<dyn Table>, key: Key| async move {
        t.get(&key).await.unwrap().map(|i| (i.version, i.body))
    };
    t.transact(vec![put(item(&pk, "A", 1), Condition::NotExists), add(3)])
        .await
        .unwrap();
    assert_eq!(count(t.clone(), counter.clone()).await, Some((3, vec![])));
    let clash = vec![put(item(&pk, "A", 1), Condition::NotExists), add(5)];
    assert!(
        t.transact(clash)
            .await
            .unwrap_err()
            .is_condition_failed_at(0)
    );
    t.transact(vec![add(-1)]).await.unwrap();
    assert_eq!(count(t.clone(), counter.clone()).await, Some((2, vec![])));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (t, w) = (t.clone(), add(1));
            tokio::spawn(async move {
                loop {
                    match t.transact(vec![w.clone()]).await {
                        Err(StoreError::Conflict) => continue,
                        done => return done,
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(count(t.clone(), counter.clone()).await, Some((18, vec![])));
    t.transact(vec![add(-20)]).await.unwrap();
    assert_eq!(count(t.clone(), counter.clone()).await.unwrap().0, 0);
    t.transact(vec![add(3)]).await.unwrap();
    assert_eq!(count(t.clone(), counter.clone()).await.unwrap().0, 1);
    let kept = item(&pk, "WITH_BODY", 7);
    t.put(kept.clone(), Condition::Always).await.unwrap();
    let onto = Write::Add {
        key: kept.key.clone(),
        delta: 2,
    };
    t.transact(vec![onto.clone()]).await.unwrap();
    assert_eq!(
        count(t.clone(), kept.key.clone()).await,
        Some((9, kept.body))
    );
    assert!(matches!(
        t.batch_write(vec![onto]).await,
        Err(StoreError::Invalid(_))
    ));
}
