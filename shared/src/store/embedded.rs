//! The embedded records adapter: one `redb` file, ACID transactions, indexes kept in the same commit, and
//! the transactions of concurrent callers committed together (one durable commit for a group).

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde_json::Value;

use super::rules::{
    TOP, apply_update, as_projected, check_query, cond_holds, index_entries, key_of, sk_bounds, start_after_attr,
};
use super::schema::{self, Index, Table};
use super::{Cond, Item, Key, Page, Query, Records, StoreError, Update, Write, str_attr};

type MainTable = TableDefinition<'static, (&'static str, &'static str), &'static [u8]>;
type IndexTable = TableDefinition<'static, (&'static str, &'static str, &'static str, &'static str), ()>;

fn main_table(table: Table) -> MainTable {
    TableDefinition::new(table.name())
}

fn index_table(table: Table, index: Index) -> IndexTable {
    TableDefinition::new(match (table, index) {
        (Table::Records, Index::Gsi1) => "records.GSI1",
        (Table::Records, Index::Gsi2) => "records.GSI2",
        (Table::Records, Index::Gsi3) => "records.GSI3",
        (Table::Audit, Index::Gsi1) => "audit.GSI1",
        (Table::Audit, Index::Gsi2) => "audit.GSI2",
        (Table::Audit, Index::Gsi3) => "audit.GSI3",
    })
}

/// Records in a `redb` database file.
#[derive(Clone)]
pub struct EmbeddedRecords {
    db: Arc<Database>,
    writer: std::sync::mpsc::Sender<Job>,
}

/// The most the page cache holds: reads of a large file stay fast, and the server's memory stays flat
/// however large the file grows.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The most transactions one commit takes: a group commits together, each checked on its own.
const MAX_GROUP: usize = 64;

/// What one transaction left: each write's item (`None` for a delete), in order.
type Left = Vec<Option<Item>>;

/// One caller's transaction, and where its answer goes.
struct Job {
    writes: Vec<Write>,
    answer: tokio::sync::oneshot::Sender<Result<Left, StoreError>>,
}

/// A write worked out in full before anything of its transaction is written.
struct Change {
    table: Table,
    key: Key,
    old: Option<Item>,
    new: Option<Item>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl EmbeddedRecords {
    /// Opens (or creates) the database file and its tables.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = redb::Builder::new().set_cache_size(CACHE_BYTES).create(path).map_err(unavailable)?;
        let txn = db.begin_write().map_err(unavailable)?;
        for table in Table::ALL {
            txn.open_table(main_table(table)).map_err(unavailable)?;
            for &index in table.indexes() {
                txn.open_table(index_table(table, index)).map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)?;
        let db = Arc::new(db);
        let (writer, jobs) = std::sync::mpsc::channel();
        // The writer holds the file only while it commits, so it closes with the last handle.
        let committing = Arc::downgrade(&db);
        std::thread::Builder::new()
            .name("records-writer".into())
            .spawn(move || commit_groups(&committing, &jobs))
            .map_err(unavailable)?;
        Ok(Self { db, writer })
    }

    /// Hands `writes` to the writer and waits for the commit that holds them.
    async fn commit(&self, writes: Vec<Write>) -> Result<Left, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.writer.send(Job { writes, answer }).map_err(|_| unavailable("the records writer has stopped"))?;
        answered.await.map_err(|_| unavailable("the records writer has stopped"))?
    }

    /// Deletes the records whose `ttl` (epoch seconds) is before `now`, as DynamoDB's TTL does on AWS;
    /// returns how many went. Conditions and idempotency already treat an expired item as gone, so this
    /// only keeps the file from growing with spent counters, replies and messages.
    pub async fn sweep_expired(&self, now: i64) -> Result<usize, StoreError> {
        self.blocking(move |db| {
            let expired = |item: &Item| item.get(schema::TTL).and_then(Value::as_i64).is_some_and(|ttl| ttl < now);
            let mut keys = Vec::new();
            {
                let txn = db.begin_read().map_err(unavailable)?;
                let main = txn.open_table(main_table(Table::Records)).map_err(unavailable)?;
                for entry in main.iter().map_err(unavailable)? {
                    let (key, value) = entry.map_err(unavailable)?;
                    if expired(&decode(value.value())?) {
                        let (pk, sk) = key.value();
                        keys.push(Key::new(pk, sk));
                    }
                }
            }
            let txn = db.begin_write().map_err(unavailable)?;
            let mut swept = 0;
            for key in &keys {
                // Read again inside the write: an item renewed meanwhile stays.
                if let Some(current) = read_item(&txn, Table::Records, key)?.filter(|i| expired(i)) {
                    remove(&txn, Table::Records, key, &current)?;
                    swept += 1;
                }
            }
            txn.commit().map_err(unavailable)?;
            Ok(swept)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db)).await.map_err(unavailable)?
    }
}

/// The tag of an item stored compressed: then its JSON's length (4 bytes, little-endian) and the JSON as
/// an LZ4 block. An item stored as plain JSON starts with `{`, as every item did before compression.
const LZ4_JSON: u8 = 1;

/// The most JSON an item can take (escapes make it longer than the item's DynamoDB size): a stored length
/// past it is a damaged file, not an allocation to make.
const MAX_ITEM_JSON: usize = 8 * super::limits::MAX_ITEM_BYTES;

/// An item as stored: its JSON, compressed when that saves space (a record's keys repeat its ids and
/// times: an access event takes about 0.6 of its JSON), so the file grows less per call.
fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(item).map_err(unavailable)?;
    let mut packed = vec![LZ4_JSON];
    packed.extend(lz4_flex::block::compress_prepend_size(&json));
    Ok(if packed.len() < json.len() { packed } else { json })
}

fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    match bytes.split_first() {
        Some((&LZ4_JSON, packed)) => {
            let length = packed.get(..4).map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
            let length =
                length.filter(|l| *l <= MAX_ITEM_JSON).ok_or_else(|| unavailable("a stored item is damaged"))?;
            let mut json = vec![0; length];
            let unpacked = lz4_flex::block::decompress_into(&packed[4..], &mut json).map_err(unavailable)?;
            if unpacked != length {
                return Err(unavailable("a stored item is damaged"));
            }
            serde_json::from_slice(&json).map_err(unavailable)
        }
        _ => serde_json::from_slice(bytes).map_err(unavailable),
    }
}

fn read_item(txn: &WriteTransaction, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
    let t = txn.open_table(main_table(table)).map_err(unavailable)?;
    let found = t.get((key.pk.as_str(), key.sk.as_str())).map_err(unavailable)?;
    found.map(|v| decode(v.value())).transpose()
}

fn remove(txn: &WriteTransaction, table: Table, key: &Key, old: &Item) -> Result<(), StoreError> {
    for (index, gpk, gsk) in index_entries(table, old) {
        let mut t = txn.open_table(index_table(table, index)).map_err(unavailable)?;
        t.remove((gpk.as_str(), gsk.as_str(), key.pk.as_str(), key.sk.as_str())).map_err(unavailable)?;
    }
    let mut t = txn.open_table(main_table(table)).map_err(unavailable)?;
    t.remove((key.pk.as_str(), key.sk.as_str())).map_err(unavailable)?;
    Ok(())
}

fn store(txn: &WriteTransaction, table: Table, item: &Item, old: Option<&Item>) -> Result<(), StoreError> {
    let key = key_of(item)?;
    if let Some(old) = old {
        remove(txn, table, &key, old)?;
    }
    let bytes = encode(item)?;
    txn.open_table(main_table(table))
        .map_err(unavailable)?
        .insert((key.pk.as_str(), key.sk.as_str()), bytes.as_slice())
        .map_err(unavailable)?;
    for (index, gpk, gsk) in index_entries(table, item) {
        let mut t = txn.open_table(index_table(table, index)).map_err(unavailable)?;
        t.insert((gpk.as_str(), gsk.as_str(), key.pk.as_str(), key.sk.as_str()), ()).map_err(unavailable)?;
    }
    Ok(())
}

/// The writer: waits for a transaction, takes every other one already waiting (up to [`MAX_GROUP`]),
/// and commits them together, so concurrent callers share one durable commit. Each transaction is still
/// checked and applied on its own, in arrival order, and answered only once the commit is on disk. Ends
/// when every handle of the store has gone.
fn commit_groups(db: &std::sync::Weak<Database>, jobs: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (writes, answers): (Vec<Vec<Write>>, Vec<_>) = group.into_iter().map(|j| (j.writes, j.answer)).unzip();
        let committed = match db.upgrade() {
            Some(db) => commit_group(&db, &writes),
            None => Err(unavailable("the records file is closed")),
        };
        match committed {
            Ok(results) => {
                for (answer, result) in answers.into_iter().zip(results) {
                    let _ = answer.send(result);
                }
            }
            // Nothing of the group was committed: every caller hears why.
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(unavailable(&e)));
                }
            }
        }
    }
}

/// One write transaction for a group: each caller's transaction planned (refused alone when a condition
/// fails or a limit is broken), then applied. `Err` when the file cannot be read or written: then nothing
/// of the group is committed.
fn commit_group(db: &Database, group: &[Vec<Write>]) -> Result<Vec<Result<Left, StoreError>>, StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let mut results = Vec::with_capacity(group.len());
    for writes in group {
        let changes = match plan(&txn, writes)? {
            Ok(changes) => changes,
            Err(refused) => {
                results.push(Err(refused));
                continue;
            }
        };
        for change in &changes {
            match (&change.new, &change.old) {
                (Some(new), old) => store(&txn, change.table, new, old.as_ref())?,
                (None, Some(old)) => remove(&txn, change.table, &change.key, old)?,
                (None, None) => {}
            }
        }
        results.push(Ok(changes.into_iter().map(|c| c.new).collect()));
    }
    txn.commit().map_err(unavailable)?;
    Ok(results)
}

/// Works out what a transaction's writes leave, reading but writing nothing, so that a refused
/// transaction leaves no trace in its group's commit: `Ok(Err(..))` when a condition fails, an update
/// cannot apply or an item breaks a limit; `Err` when the file cannot be read. (A transaction names each
/// item once, so no write sees another's effect.)
fn plan(txn: &WriteTransaction, writes: &[Write]) -> Result<Result<Vec<Change>, StoreError>, StoreError> {
    let mut changes = Vec::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        let (table, key, cond) = match write {
            Write::Put { table, item, cond } => match key_of(item) {
                Ok(key) => (*table, key, cond),
                Err(refused) => return Ok(Err(refused)),
            },
            Write::Update { table, key, cond, .. } | Write::Delete { table, key, cond } => (*table, key.clone(), cond),
        };
        let old = read_item(txn, table, &key)?;
        if !cond_holds(cond, old.as_ref()) {
            return Ok(Err(StoreError::ConditionFailed { index }));
        }
        let new = match write {
            Write::Put { item, .. } => Some(item.clone()),
            Write::Update { update, .. } => match apply_update(&key, old.clone(), update) {
                Ok(item) => Some(item),
                Err(refused) => return Ok(Err(refused)),
            },
            Write::Delete { .. } => None,
        };
        if let Some(Err(refused)) = new.as_ref().map(super::limits::check_item) {
            return Ok(Err(refused));
        }
        changes.push(Change { table, key, old, new });
    }
    Ok(Ok(changes))
}

fn run_query(db: &Database, query: &Query) -> Result<Page, StoreError> {
    check_query(query)?;
    let txn = db.begin_read().map_err(unavailable)?;
    let main = txn.open_table(main_table(query.table)).map_err(unavailable)?;
    let (lo, hi) = sk_bounds(&query.sk);
    let limit = query.limit.max(1);
    let mut items = Vec::new();
    let mut more = false;
    match query.index {
        None => {
            let pk = query.pk.as_str();
            let mut lower = Bound::Included((pk, lo.as_str()));
            let mut upper = Bound::Included((pk, hi.as_str()));
            let after = if query.start_after.is_some() { Some(start_after_attr(query, schema::SK)?) } else { None };
            if let Some(after) = &after {
                if query.start_after.as_ref().and_then(|k| str_attr(k, schema::PK)) != Some(pk) {
                    return Err(StoreError::InvalidStartKey);
                }
                if query.forward {
                    lower = Bound::Excluded((pk, after.as_str()));
                } else {
                    upper = Bound::Excluded((pk, after.as_str()));
                }
            }
            let range = main.range::<(&str, &str)>((lower, upper)).map_err(unavailable)?;
            let mut iter: Box<dyn Iterator<Item = _>> =
                if query.forward { Box::new(range) } else { Box::new(range.rev()) };
            for entry in iter.by_ref() {
                let (_, value) = entry.map_err(unavailable)?;
                if items.len() == limit {
                    more = true;
                    break;
                }
                items.push(decode(value.value())?);
            }
        }
        Some(index) => {
            let (ipk, isk) = index.attrs();
            let gpk = query.pk.as_str();
            let table = txn.open_table(index_table(query.table, index)).map_err(unavailable)?;
            let after = match &query.start_after {
                None => None,
                Some(_) => Some((
                    start_after_attr(query, isk)?,
                    start_after_attr(query, schema::PK)?,
                    start_after_attr(query, schema::SK)?,
                )),
            };
            if query.start_after.as_ref().is_some_and(|k| str_attr(k, ipk) != Some(gpk)) {
                return Err(StoreError::InvalidStartKey);
            }
            let mut lower = Bound::Included((gpk, lo.as_str(), "", ""));
            let mut upper = Bound::Included((gpk, hi.as_str(), TOP, TOP));
            if let Some((gsk, pk, sk)) = &after {
                let at = (gpk, gsk.as_str(), pk.as_str(), sk.as_str());
                if query.forward {
                    lower = Bound::Excluded(at);
                } else {
                    upper = Bound::Excluded(at);
                }
            }
            let range = table.range::<(&str, &str, &str, &str)>((lower, upper)).map_err(unavailable)?;
            let mut iter: Box<dyn Iterator<Item = _>> =
                if query.forward { Box::new(range) } else { Box::new(range.rev()) };
            for entry in iter.by_ref() {
                let (key, _) = entry.map_err(unavailable)?;
                if items.len() == limit {
                    more = true;
                    break;
                }
                let (_, _, pk, sk) = key.value();
                if let Some(v) = main.get((pk, sk)).map_err(unavailable)? {
                    items.push(as_projected(query.table, index, decode(v.value())?));
                }
            }
        }
    }
    let next = if more { items.last().map(|i| super::position_of(i, query.index)) } else { None };
    Ok(Page { items, next })
}

#[async_trait]
impl Records for EmbeddedRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let t = txn.open_table(main_table(table)).map_err(unavailable)?;
            let found = t.get((key.pk.as_str(), key.sk.as_str())).map_err(unavailable)?;
            found.map(|v| decode(v.value())).transpose()
        })
        .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::limits::check_transaction(&writes)?;
        self.commit(writes).await.map(|_| ())
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        let left = self.commit(vec![Write::Update { table, key: key.clone(), update, cond }]).await?;
        left.into_iter().next().flatten().ok_or_else(|| unavailable("an update left no item"))
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.blocking(move |db| run_query(db, &query)).await
    }
}

#[cfg(test)]
mod sweep_tests {
    use serde_json::json;

    use super::*;
    use crate::store::{Cond, Query};

    #[tokio::test]
    async fn expired_records_are_swept_with_their_index_entries_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedRecords::open(&dir.path().join("records.redb")).unwrap();
        let item = |sk: &str, ttl: Option<i64>| {
            let mut i = Item::new();
            i.insert("PK".into(), "RATE#x".into());
            i.insert("SK".into(), sk.into());
            i.insert("GSI1PK".into(), "G".into());
            i.insert("GSI1SK".into(), sk.into());
            if let Some(ttl) = ttl {
                i.insert("ttl".into(), json!(ttl));
            }
            Write::put(Table::Records, i, Cond::Always)
        };
        store.transact(vec![item("spent", Some(999)), item("live", Some(2000)), item("kept", None)]).await.unwrap();
        assert_eq!(store.sweep_expired(1000).await.unwrap(), 1);
        assert_eq!(store.sweep_expired(1000).await.unwrap(), 0);
        let left = store.query(Query::new(Table::Records, "RATE#x")).await.unwrap().items;
        let sks: Vec<&str> = left.iter().filter_map(|i| str_attr(i, "SK")).collect();
        assert_eq!(sks, ["kept", "live"]);
        let indexed = store.query(Query::new(Table::Records, "G").index(Index::Gsi1)).await.unwrap().items;
        assert_eq!(indexed.len(), 2, "the index forgets the swept item too");
    }
}

#[cfg(test)]
mod encoding_tests {
    use serde_json::json;

    use super::*;

    fn access_event() -> Item {
        let sk = "2026-12-03T03:41:49.590262Z#01M8WZWZMP2R2ZSAH7J45HMA25";
        let item = json!({"PK": "CLINIC#01M8WZWZMP58H1JWCA2H37GXR7", "SK": sk, "GSI2SK": sk, "GSI1SK": sk,
            "clinicId": "01M8WZWZMP58H1JWCA2H37GXR7", "eventName": "patients.read", "outcome": "success"});
        item.as_object().cloned().unwrap()
    }

    #[test]
    fn an_item_whose_json_repeats_itself_is_stored_compressed_and_reads_back_whole() {
        let item = access_event();
        let stored = encode(&item).unwrap();
        assert_eq!(stored[0], LZ4_JSON);
        assert!(stored.len() < serde_json::to_vec(&item).unwrap().len() * 3 / 4, "{} bytes", stored.len());
        assert_eq!(decode(&stored).unwrap(), item);
    }

    #[test]
    fn a_small_item_stays_plain_json_and_items_stored_before_compression_still_read() {
        let small = json!({"PK": "A", "SK": "B"}).as_object().cloned().unwrap();
        assert_eq!(encode(&small).unwrap(), serde_json::to_vec(&small).unwrap());
        let earlier = serde_json::to_vec(&access_event()).unwrap();
        assert_eq!(decode(&earlier).unwrap(), access_event());
    }

    #[test]
    fn a_damaged_stored_item_is_an_error_not_a_panic_or_a_huge_allocation() {
        let stored = encode(&access_event()).unwrap();
        let mut huge = stored.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut short = stored.clone();
        short[1..5].copy_from_slice(&1000u32.to_le_bytes());
        let mut torn = stored.clone();
        torn.truncate(stored.len() / 2);
        for damaged in [huge, short, torn, vec![LZ4_JSON, 1, 0]] {
            assert!(matches!(decode(&damaged), Err(StoreError::Unavailable(_))), "{damaged:?}");
        }
    }
}

#[cfg(test)]
mod contract_tests {
    use super::EmbeddedRecords;

    async fn fresh() -> EmbeddedRecords {
        let dir = tempfile::tempdir().unwrap().keep();
        EmbeddedRecords::open(&dir.join("records.redb")).unwrap()
    }

    crate::records_contract!(fresh());
}
