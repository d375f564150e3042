//! The DynamoDB Table adapter against a DynamoDB emulator: moto's server, which scripts/test
//! starts (scripts/emulators) and points at with `MUSTER_TEST_DYNAMODB_ENDPOINT`. Without that
//! variable these tests print a notice and pass, unless `MUSTER_REQUIRE_EMULATORS=1`.

use muster::store::{
    Condition, DynamoTable, Item, Key, Query, SkRange, StoreError, Table, Write, contract,
    create_table_if_missing, query_all,
};

const ENDPOINT_VAR: &str = "MUSTER_TEST_DYNAMODB_ENDPOINT";
const REQUIRE_VAR: &str = "MUSTER_REQUIRE_EMULATORS";
const CURSOR_KEY: [u8; 32] = [7; 32];

/// The emulator's endpoint, or `None` after a notice when no emulator is configured and none
/// is required.
pub fn emulator_endpoint(test: &str) -> Option<String> {
    let Some(endpoint) = std::env::var(ENDPOINT_VAR).ok().filter(|e| !e.is_empty()) else {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{ENDPOINT_VAR} is not set while {REQUIRE_VAR}=1: run scripts/test, which starts \
             moto (scripts/emulators) and sets it"
        );
        eprintln!("skipping {test}: {ENDPOINT_VAR} is not set (scripts/test starts moto)");
        return None;
    };
    Some(endpoint)
}

/// A fresh table created through `client` (twice, to prove creation idempotent).
pub async fn table_on(client: aws_sdk_dynamodb::Client) -> DynamoTable {
    let name = format!("muster-test-{}", muster::ids::random_id());
    create_table_if_missing(&client, &name).await.unwrap();
    create_table_if_missing(&client, &name).await.unwrap();
    DynamoTable::new(client, name, CURSOR_KEY)
}

/// A fresh table on the emulator, or `None` (see [`emulator_endpoint`]).
pub async fn fresh_table(test: &str) -> Option<DynamoTable> {
    let endpoint = emulator_endpoint(test)?;
    let client = DynamoTable::static_client(&endpoint, "us-east-1", "test", "test");
    Some(table_on(client).await)
}

fn put(pk: &str, sk: &str) -> Write {
    Write::Put {
        item: Item::new(Key::new(pk, sk), 1, format!("{pk}/{sk}").into_bytes()),
        condition: Condition::Always,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_table_passes_the_table_contract() {
    let Some(table) = fresh_table("the_dynamodb_table_passes_the_table_contract").await else {
        return;
    };
    contract::run_all(|| {
        let table = table.clone();
        async move { table }
    })
    .await;
}

#[tokio::test]
async fn a_tampered_page_cursor_is_refused() {
    let Some(table) = fresh_table("a_tampered_page_cursor_is_refused").await else {
        return;
    };
    let pk = format!("CURSOR#{}", muster::ids::random_id());
    let writes = ["A1", "A2", "A3"].iter().map(|sk| put(&pk, sk)).collect();
    table.batch_write(writes).await.unwrap();
    let first = table
        .query(&Query::prefix(&pk, "A").limit(1))
        .await
        .unwrap();
    let cursor = first.cursor.expect("a full page carries a cursor");

    let mut tampered = cursor.clone().into_bytes();
    tampered[0] = if tampered[0] == b'Q' { b'R' } else { b'Q' };
    let tampered = String::from_utf8(tampered).unwrap();
    let refused = table
        .query(&Query::prefix(&pk, "A").limit(1).after(Some(tampered)))
        .await;
    assert!(matches!(refused, Err(StoreError::Invalid(_))));

    let next = table
        .query(&Query::prefix(&pk, "A").limit(1).after(Some(cursor)))
        .await
        .unwrap();
    assert_eq!(next.items[0].key.sk, "A2");
}

#[tokio::test]
async fn a_page_cursor_resumes_only_the_query_that_issued_it() {
    let Some(table) = fresh_table("a_page_cursor_resumes_only_the_query_that_issued_it").await
    else {
        return;
    };
    let pk = format!("CURSOR#{}", muster::ids::random_id());
    let writes = ["A1", "A2", "B1"].iter().map(|sk| put(&pk, sk)).collect();
    table.batch_write(writes).await.unwrap();
    let cursor = table
        .query(&Query::prefix(&pk, "A").limit(1))
        .await
        .unwrap()
        .cursor;
    let other_range = Query::prefix(&pk, "").limit(1).after(cursor.clone());
    let other_partition = Query::prefix(format!("{pk}#2"), "A").after(cursor.clone());
    let other_key = DynamoTable::new(table.client().clone(), table.table_name(), [8; 32]);
    let same_query = Query::prefix(&pk, "A").limit(1).after(cursor);
    for (t, q) in [
        (&table, other_range),
        (&table, other_partition),
        (&other_key, same_query),
    ] {
        assert!(matches!(t.query(&q).await, Err(StoreError::Invalid(_))));
    }
}

#[tokio::test]
async fn a_batch_write_of_60_items_stores_every_one() {
    let Some(table) = fresh_table("a_batch_write_of_60_items_stores_every_one").await else {
        return;
    };
    let pk = format!("BATCH#{}", muster::ids::random_id());
    let writes = (0..60).map(|i| put(&pk, &format!("I{i:02}"))).collect();
    table.batch_write(writes).await.unwrap();
    let range = SkRange::Prefix("I".into());
    assert_eq!(table.count(&pk, &range).await.unwrap(), 60);
    let items = query_all(&table, Query::prefix(&pk, "I")).await.unwrap();
    let sks: Vec<String> = items.iter().map(|i| i.key.sk.clone()).collect();
    let expected: Vec<String> = (0..60).map(|i| format!("I{i:02}")).collect();
    assert_eq!(sks, expected);
    assert_eq!(items[59].body, format!("{pk}/I59").into_bytes());
}

#[tokio::test]
async fn a_range_query_pages_up_to_its_exclusive_end() {
    let Some(table) = fresh_table("a_range_query_pages_up_to_its_exclusive_end").await else {
        return;
    };
    let pk = format!("RANGE#{}", muster::ids::random_id());
    let writes = (0..6).map(|i| put(&pk, &format!("R{i}"))).collect();
    table.batch_write(writes).await.unwrap();
    let range = SkRange::Between {
        from: "R1".into(),
        to: "R4".into(),
    };
    let mut query = Query {
        pk: pk.clone(),
        range: range.clone(),
        cursor: None,
        limit: 1,
    };
    let mut seen = Vec::new();
    loop {
        let page = table.query(&query).await.unwrap();
        seen.extend(page.items.into_iter().map(|i| i.key.sk));
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["R1", "R2", "R3"]);
    assert_eq!(table.count(&pk, &range).await.unwrap(), 3);
}

#[tokio::test]
async fn an_items_expiry_is_written_to_the_ttl_attribute_and_read_back() {
    let Some(table) = fresh_table("an_items_expiry_is_written_to_the_ttl_attribute").await else {
        return;
    };
    let key = muster::store::Key::new(format!("TTL#{}", muster::ids::random_id()), "S");
    let item = muster::store::Item::new(key.clone(), 1, b"{}".to_vec()).expiring_at(1_900_000_000);
    table
        .put(item, muster::store::Condition::NotExists)
        .await
        .unwrap();
    let got = table.get(&key).await.unwrap().unwrap();
    assert_eq!(got.expires, Some(1_900_000_000));
    let raw = table
        .client()
        .get_item()
        .table_name(table.table_name())
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(key.pk.clone()),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S(key.sk.clone()),
        )
        .send()
        .await
        .unwrap();
    let ttl = raw.item().unwrap().get("ttl").unwrap();
    assert_eq!(
        ttl.as_n().unwrap(),
        "1900000000",
        "the attribute the table's TTL names"
    );
}
