//! The records contract: one suite every adapter must pass (`records_contract!` expands it into tests).

use serde_json::{Value, json};
use ulid::Ulid;

use super::schema::{Index, Table};
use super::{Cond, Item, Key, Query, Records, SkRange, StoreError, Update, Write, str_attr};

/// Expands the contract into one `#[tokio::test]` per case, for the store that `$make` returns.
#[macro_export]
macro_rules! records_contract {
    ($make:expr) => {
        $crate::records_contract!(@cases $make;
            round_trips_an_item, a_missing_item_reads_as_none, not_exists_refuses_a_second_put,
            a_version_condition_guards_a_put, a_delete_honours_its_condition, an_update_sets_adds_and_returns_the_new_item,
            a_failed_update_condition_changes_nothing, a_transaction_is_all_or_nothing_and_names_the_failed_write,
            a_transaction_spans_both_tables, a_query_selects_by_prefix_in_both_directions, a_query_selects_a_sort_key_range,
            a_query_pages_with_its_next_key, an_empty_key_condition_is_refused, an_index_follows_updates_and_deletes, an_index_query_pages_in_both_directions,
            what_dynamodb_refuses_is_refused_and_nothing_is_written, an_update_cannot_grow_an_item_past_400_kb,
            a_transaction_over_dynamodbs_limits_is_refused);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::store::contract::$case(&store).await;
            }
        )*
    };
}

fn partition() -> String {
    format!("TEST#{}", Ulid::new())
}

fn item(pk: &str, sk: &str, extra: Value) -> Item {
    let mut i = Item::new();
    i.insert("PK".into(), pk.into());
    i.insert("SK".into(), sk.into());
    if let Value::Object(m) = extra {
        i.extend(m);
    }
    i
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| str_attr(i, "SK").unwrap_or_default().to_string()).collect()
}

async fn put(store: &dyn Records, table: Table, i: Item) {
    store.transact(vec![Write::put(table, i, Cond::Always)]).await.expect("put");
}

pub async fn round_trips_an_item(store: &dyn Records) {
    let pk = partition();
    let original =
        item(&pk, "A", json!({"n": 42, "f": 1.5, "b": true, "l": ["x", 1], "m": {"k": "v"}, "z": null, "version": 1}));
    put(store, Table::Records, original.clone()).await;
    let read = store.get(Table::Records, &Key::new(&pk, "A")).await.unwrap();
    assert_eq!(read, Some(original));
}

pub async fn a_missing_item_reads_as_none(store: &dyn Records) {
    assert_eq!(store.get(Table::Records, &Key::new(partition(), "nothing")).await.unwrap(), None);
    assert_eq!(store.get(Table::Audit, &Key::new(partition(), "nothing")).await.unwrap(), None);
}

pub async fn not_exists_refuses_a_second_put(store: &dyn Records) {
    let pk = partition();
    let first = item(&pk, "A", json!({"v": "first"}));
    store.transact(vec![Write::put(Table::Records, first.clone(), Cond::NotExists)]).await.unwrap();
    let second =
        store.transact(vec![Write::put(Table::Records, item(&pk, "A", json!({"v": "second"})), Cond::NotExists)]).await;
    assert!(matches!(second, Err(StoreError::ConditionFailed { index: 0 })), "{second:?}");
    assert_eq!(store.get(Table::Records, &Key::new(&pk, "A")).await.unwrap(), Some(first));
}

pub async fn a_version_condition_guards_a_put(store: &dyn Records) {
    let pk = partition();
    put(store, Table::Records, item(&pk, "A", json!({"version": 1}))).await;
    let stale = store
        .transact(vec![Write::put(Table::Records, item(&pk, "A", json!({"version": 3})), Cond::VersionIs(2))])
        .await;
    assert!(matches!(stale, Err(StoreError::ConditionFailed { index: 0 })));
    store
        .transact(vec![Write::put(Table::Records, item(&pk, "A", json!({"version": 2})), Cond::VersionIs(1))])
        .await
        .unwrap();
    let missing = store
        .transact(vec![Write::put(Table::Records, item(&pk, "B", json!({"version": 2})), Cond::VersionIs(1))])
        .await;
    assert!(matches!(missing, Err(StoreError::ConditionFailed { index: 0 })));
    let read = store.get(Table::Records, &Key::new(&pk, "A")).await.unwrap().unwrap();
    assert_eq!(read["version"], json!(2));
}

pub async fn a_delete_honours_its_condition(store: &dyn Records) {
    let pk = partition();
    put(store, Table::Records, item(&pk, "A", json!({"version": 5}))).await;
    let key = Key::new(&pk, "A");
    let wrong =
        store.transact(vec![Write::Delete { table: Table::Records, key: key.clone(), cond: Cond::VersionIs(4) }]).await;
    assert!(matches!(wrong, Err(StoreError::ConditionFailed { index: 0 })));
    assert!(store.get(Table::Records, &key).await.unwrap().is_some());
    store
        .transact(vec![Write::Delete { table: Table::Records, key: key.clone(), cond: Cond::VersionIs(5) }])
        .await
        .unwrap();
    assert!(store.get(Table::Records, &key).await.unwrap().is_none());
}

pub async fn an_update_sets_adds_and_returns_the_new_item(store: &dyn Records) {
    let pk = partition();
    let key = Key::new(&pk, "COUNTER");
    let first = store
        .update(Table::Records, &key, Update { set: Item::new(), add: vec![("n".into(), 1)] }, Cond::Always)
        .await
        .unwrap();
    assert_eq!(first["n"], json!(1));
    let mut set = Item::new();
    set.insert("label".into(), json!("mrn"));
    let second =
        store.update(Table::Records, &key, Update { set, add: vec![("n".into(), 2)] }, Cond::Exists).await.unwrap();
    assert_eq!(second["n"], json!(3));
    assert_eq!(second["label"], json!("mrn"));
    assert_eq!(str_attr(&second, "PK"), Some(pk.as_str()));
    assert_eq!(store.get(Table::Records, &key).await.unwrap(), Some(second));
}

pub async fn a_failed_update_condition_changes_nothing(store: &dyn Records) {
    let key = Key::new(partition(), "X");
    let result =
        store.update(Table::Records, &key, Update { set: Item::new(), add: vec![("n".into(), 1)] }, Cond::Exists).await;
    assert!(matches!(result, Err(StoreError::ConditionFailed { index: 0 })));
    assert!(store.get(Table::Records, &key).await.unwrap().is_none());
}

pub async fn a_transaction_is_all_or_nothing_and_names_the_failed_write(store: &dyn Records) {
    let pk = partition();
    put(store, Table::Records, item(&pk, "TAKEN", json!({}))).await;
    let result = store
        .transact(vec![
            Write::put(Table::Records, item(&pk, "NEW1", json!({})), Cond::NotExists),
            Write::put(Table::Records, item(&pk, "TAKEN", json!({"overwritten": true})), Cond::NotExists),
            Write::Update {
                table: Table::Records,
                key: Key::new(&pk, "NEW2"),
                update: Update { set: Item::new(), add: vec![("n".into(), 1)] },
                cond: Cond::Always,
            },
        ])
        .await;
    assert!(matches!(result, Err(StoreError::ConditionFailed { index: 1 })), "{result:?}");
    assert!(store.get(Table::Records, &Key::new(&pk, "NEW1")).await.unwrap().is_none());
    assert!(store.get(Table::Records, &Key::new(&pk, "NEW2")).await.unwrap().is_none());
    let taken = store.get(Table::Records, &Key::new(&pk, "TAKEN")).await.unwrap().unwrap();
    assert!(!taken.contains_key("overwritten"));
}

pub async fn a_transaction_spans_both_tables(store: &dyn Records) {
    let pk = partition();
    store
        .transact(vec![
            Write::put(Table::Records, item(&pk, "DATA", json!({})), Cond::NotExists),
            Write::put(Table::Audit, item(&pk, "EVENT", json!({"eventName": "x"})), Cond::NotExists),
        ])
        .await
        .unwrap();
    assert!(store.get(Table::Records, &Key::new(&pk, "DATA")).await.unwrap().is_some());
    assert!(store.get(Table::Audit, &Key::new(&pk, "EVENT")).await.unwrap().is_some());
    assert!(store.get(Table::Audit, &Key::new(&pk, "DATA")).await.unwrap().is_none());
    let again = store
        .transact(vec![
            Write::put(Table::Records, item(&pk, "DATA2", json!({})), Cond::NotExists),
            Write::put(Table::Audit, item(&pk, "EVENT", json!({})), Cond::NotExists),
        ])
        .await;
    assert!(matches!(again, Err(StoreError::ConditionFailed { index: 1 })));
    assert!(store.get(Table::Records, &Key::new(&pk, "DATA2")).await.unwrap().is_none());
}

async fn seed(store: &dyn Records, pk: &str, sks: &[&str]) {
    let writes = sks.iter().map(|sk| Write::put(Table::Records, item(pk, sk, json!({})), Cond::Always)).collect();
    store.transact(writes).await.unwrap();
}

pub async fn a_query_selects_by_prefix_in_both_directions(store: &dyn Records) {
    let pk = partition();
    seed(store, &pk, &["A#1", "A#2", "A#3", "B#1", "PROFILE"]).await;
    let fwd = store.query(Query::new(Table::Records, &pk).sk(SkRange::Prefix("A#".into()))).await.unwrap();
    assert_eq!(sks(&fwd.items), ["A#1", "A#2", "A#3"]);
    assert!(fwd.next.is_none());
    let back = store.query(Query::new(Table::Records, &pk).sk(SkRange::Prefix("A#".into())).backward()).await.unwrap();
    assert_eq!(sks(&back.items), ["A#3", "A#2", "A#1"]);
    let all = store.query(Query::new(Table::Records, &pk)).await.unwrap();
    assert_eq!(all.items.len(), 5);
    let other = store.query(Query::new(Table::Records, partition())).await.unwrap();
    assert!(other.items.is_empty());
}

pub async fn a_query_selects_a_sort_key_range(store: &dyn Records) {
    let pk = partition();
    seed(store, &pk, &["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]).await;
    let q = Query::new(Table::Records, &pk).sk(SkRange::Between("2026-02-01".into(), "2026-03-15".into()));
    assert_eq!(sks(&store.query(q.clone()).await.unwrap().items), ["2026-02-01", "2026-03-01"]);
    assert_eq!(sks(&store.query(q.backward()).await.unwrap().items), ["2026-03-01", "2026-02-01"]);
}

/// DynamoDB refuses an empty string in a key condition: an empty partition or range bound is refused (an
/// empty prefix is no condition at all).
pub async fn an_empty_key_condition_is_refused(store: &dyn Records) {
    let pk = partition();
    seed(store, &pk, &["a"]).await;
    for range in [SkRange::Between(String::new(), "z".into()), SkRange::Between("a".into(), String::new())] {
        let refused = store.query(Query::new(Table::Records, &pk).sk(range.clone())).await;
        assert!(refused.is_err(), "{range:?}: {refused:?}");
    }
    assert!(store.query(Query::new(Table::Records, "").sk(SkRange::All)).await.is_err());
    assert_eq!(
        sks(&store.query(Query::new(Table::Records, &pk).sk(SkRange::Prefix(String::new()))).await.unwrap().items),
        ["a"]
    );
}

async fn collect_pages(store: &dyn Records, query: Query) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next = None;
    loop {
        let page = store.query(query.clone().start_after(next.take())).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= query.limit);
        seen.extend(sks(&page.items));
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    (seen, pages)
}

pub async fn a_query_pages_with_its_next_key(store: &dyn Records) {
    let pk = partition();
    seed(store, &pk, &["I#1", "I#2", "I#3", "I#4", "I#5"]).await;
    let q = Query::new(Table::Records, &pk).sk(SkRange::Prefix("I#".into())).limit(2);
    let (fwd, pages) = collect_pages(store, q.clone()).await;
    assert_eq!(fwd, ["I#1", "I#2", "I#3", "I#4", "I#5"]);
    assert!(pages >= 3);
    let (back, _) = collect_pages(store, q.backward()).await;
    assert_eq!(back, ["I#5", "I#4", "I#3", "I#2", "I#1"]);
}

pub async fn an_index_follows_updates_and_deletes(store: &dyn Records) {
    let pk = partition();
    let gpk = format!("{pk}#NAME");
    put(store, Table::Records, item(&pk, "P#1", json!({"GSI1PK": gpk, "GSI1SK": "smith#1"}))).await;
    put(store, Table::Records, item(&pk, "P#2", json!({"GSI1PK": gpk, "GSI1SK": "smyth#2"}))).await;
    put(store, Table::Records, item(&pk, "P#3", json!({"GSI1PK": gpk, "GSI1SK": "jones#3"}))).await;
    put(store, Table::Records, item(&pk, "P#4", json!({}))).await;
    let by_prefix = |p: &str| Query::new(Table::Records, &gpk).index(Index::Gsi1).sk(SkRange::Prefix(p.into()));
    assert_eq!(sks(&store.query(by_prefix("sm")).await.unwrap().items), ["P#1", "P#2"]);
    put(store, Table::Records, item(&pk, "P#1", json!({"GSI1PK": gpk, "GSI1SK": "jones#1"}))).await;
    assert_eq!(sks(&store.query(by_prefix("sm")).await.unwrap().items), ["P#2"]);
    assert_eq!(sks(&store.query(by_prefix("jones")).await.unwrap().items), ["P#1", "P#3"]);
    store
        .transact(vec![Write::Delete { table: Table::Records, key: Key::new(&pk, "P#3"), cond: Cond::Exists }])
        .await
        .unwrap();
    assert_eq!(sks(&store.query(by_prefix("")).await.unwrap().items), ["P#1", "P#2"]);
    let audit = store.query(Query::new(Table::Audit, &gpk).index(Index::Gsi1)).await.unwrap();
    assert!(audit.items.is_empty(), "indexes are per table");
}

pub async fn an_index_query_pages_in_both_directions(store: &dyn Records) {
    let pk = partition();
    let gpk = format!("{pk}#DAY");
    let writes = (1..=5)
        .map(|n| {
            Write::put(
                Table::Audit,
                item(&pk, &format!("E#{n}"), json!({"GSI2PK": gpk, "GSI2SK": format!("t{n}"), "detail": "whole"})),
                Cond::Always,
            )
        })
        .collect();
    store.transact(writes).await.unwrap();
    let q = Query::new(Table::Audit, &gpk).index(Index::Gsi2).limit(2);
    let (fwd, _) = collect_pages(store, q.clone()).await;
    assert_eq!(fwd, ["E#1", "E#2", "E#3", "E#4", "E#5"]);
    let (back, _) = collect_pages(store, q.clone().backward()).await;
    assert_eq!(back, ["E#5", "E#4", "E#3", "E#2", "E#1"]);
    // The audit table's indexes hold keys only; the event is read whole from the table.
    let found = store.query(q).await.unwrap().items;
    assert!(found.iter().all(|i| !i.contains_key("detail") && i.contains_key("GSI2SK")), "{found:?}");
    let whole = store.get(Table::Audit, &Key::new(&pk, "E#1")).await.unwrap().unwrap();
    assert_eq!(whole["detail"], "whole");
}

pub async fn what_dynamodb_refuses_is_refused_and_nothing_is_written(store: &dyn Records) {
    let pk = partition();
    let big = "x".repeat(super::limits::MAX_ITEM_BYTES);
    let deep = (0..40).fold(json!("leaf"), |inner, _| json!({ "n": inner }));
    for extra in [json!({"text": big}), json!({"deep": deep}), json!({"n": 1e200})] {
        let refused = store
            .transact(vec![
                Write::put(Table::Records, item(&pk, "ok", json!({})), Cond::Always),
                Write::put(Table::Records, item(&pk, "bad", extra), Cond::Always),
            ])
            .await;
        assert!(matches!(refused, Err(StoreError::Refused(_))), "{refused:?}");
    }
    let page = store.query(Query::new(Table::Records, &pk)).await.unwrap();
    assert!(page.items.is_empty(), "nothing of a refused transaction is written");
    let fits = json!({"text": "x".repeat(super::limits::MAX_ITEM_BYTES - 100)});
    store.transact(vec![Write::put(Table::Records, item(&pk, "A", fits), Cond::Always)]).await.expect("just fits");
}

pub async fn an_update_cannot_grow_an_item_past_400_kb(store: &dyn Records) {
    let pk = partition();
    let half = "x".repeat(300 * 1024);
    put(store, Table::Records, item(&pk, "A", json!({"a": half.clone()}))).await;
    let mut set = Item::new();
    set.insert("b".into(), json!(half));
    let grown = store.update(Table::Records, &Key::new(&pk, "A"), Update { set, add: vec![] }, Cond::Always).await;
    assert!(matches!(grown, Err(StoreError::Refused(_))), "{:?}", grown.map(|_| ()));
    let kept = store.get(Table::Records, &Key::new(&pk, "A")).await.unwrap().unwrap();
    assert!(kept.get("b").is_none());
}

pub async fn a_transaction_over_dynamodbs_limits_is_refused(store: &dyn Records) {
    let pk = partition();
    let many: Vec<Write> =
        (0..101).map(|i| Write::put(Table::Records, item(&pk, &format!("{i:03}"), json!({})), Cond::Always)).collect();
    assert!(matches!(store.transact(many).await, Err(StoreError::Refused(_))));
    let twice = vec![
        Write::put(Table::Records, item(&pk, "A", json!({"v": 1})), Cond::Always),
        Write::put(Table::Records, item(&pk, "A", json!({"v": 2})), Cond::Always),
    ];
    assert!(matches!(store.transact(twice).await, Err(StoreError::Refused(_))));
    assert!(store.query(Query::new(Table::Records, &pk)).await.unwrap().items.is_empty());
    let hundred: Vec<Write> =
        (0..100).map(|i| Write::put(Table::Records, item(&pk, &format!("{i:03}"), json!({})), Cond::Always)).collect();
    store.transact(hundred).await.expect("100 writes are allowed");
}
