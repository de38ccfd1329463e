//! The records port: items by (PK, SK), conditional writes, queries, indexes and transactions.

/// Contract tests run against every adapter.
pub mod contract;
pub mod dynamo;
pub mod embedded;
pub mod limits;
pub mod memory;
pub mod rules;
pub mod schema;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub use schema::{Index, Table};

/// One stored item: a JSON object whose key attributes are strings.
pub type Item = Map<String, Value>;

/// The primary key of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// A precondition on the item a write replaces or removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Always,
    NotExists,
    Exists,
    /// The item exists and its `version` attribute equals this number.
    VersionIs(u64),
}

/// A change to apply to an existing item's attributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// Attributes to set to a value.
    pub set: Item,
    /// Numeric attributes to add to (created at zero when absent).
    pub add: Vec<(String, i64)>,
}

/// One write in a transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Put { table: Table, item: Item, cond: Cond },
    Update { table: Table, key: Key, update: Update, cond: Cond },
    Delete { table: Table, key: Key, cond: Cond },
}

impl Write {
    pub fn put(table: Table, item: Item, cond: Cond) -> Self {
        Write::Put { table, item, cond }
    }
}

/// Which sort keys a query selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
}

/// A query of one partition, on the table or one of its indexes.
#[derive(Clone, Debug)]
pub struct Query {
    pub table: Table,
    pub index: Option<Index>,
    pub pk: String,
    pub sk: SkRange,
    pub forward: bool,
    pub limit: usize,
    /// The `next` of the previous page.
    pub start_after: Option<Item>,
}

impl Query {
    pub fn new(table: Table, pk: impl Into<String>) -> Self {
        Self { table, index: None, pk: pk.into(), sk: SkRange::All, forward: true, limit: 100, start_after: None }
    }
    pub fn index(mut self, index: Index) -> Self {
        self.index = Some(index);
        self
    }
    pub fn sk(mut self, sk: SkRange) -> Self {
        self.sk = sk;
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn start_after(mut self, key: Option<Item>) -> Self {
        self.start_after = key;
        self
    }
}

/// One page of a query.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// The key attributes of the last item when more may follow.
    pub next: Option<Item>,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The precondition of write number `index` (in transaction order) did not hold; nothing was written.
    #[error("the condition of write {index} failed")]
    ConditionFailed { index: usize },
    /// Another writer touched the same items at the same time; nothing was written.
    #[error("the transaction conflicted with another one")]
    Conflict,
    /// The start key of a query does not belong to it.
    #[error("invalid start key")]
    InvalidStartKey,
    /// The write breaks one of DynamoDB's limits (item size, nesting, number range, transaction size);
    /// nothing was written. The reason names sizes and limits, never values.
    #[error("refused by the store's limits: {0}")]
    Refused(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// The records port.
#[async_trait]
pub trait Records: Send + Sync {
    /// Reads one item (strongly consistent).
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Applies all writes or none of them.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Applies one update and returns the item as it is afterwards.
    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError>;

    /// Reads one page of a query.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
}

/// The stored item of an entity: its serialized fields plus its key.
pub fn entity_item<T: serde::Serialize>(key: &Key, entity: &T) -> Item {
    let mut item = match serde_json::to_value(entity) {
        Ok(Value::Object(map)) => map,
        _ => Item::new(),
    };
    item.insert(schema::PK.into(), key.pk.clone().into());
    item.insert(schema::SK.into(), key.sk.clone().into());
    item
}

/// An entity read back from its stored item. A failure names the type and the item's key (ids only),
/// never serde's message, which quotes the stored value it stumbled on (a name, an allergy).
pub fn entity_from<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let key = format!("{}/{}", str_attr(&item, schema::PK).unwrap_or("?"), str_attr(&item, schema::SK).unwrap_or("?"));
    serde_json::from_value(Value::Object(item)).map_err(|e| {
        let kind = std::any::type_name::<T>().rsplit("::").next().unwrap_or("entity");
        StoreError::Unavailable(format!("unreadable {kind} item at {key} ({:?} error)", e.classify()))
    })
}

/// Reads every page of a query (a chart partition or an audit window: DynamoDB pages by the megabyte).
pub async fn query_all(records: &dyn Records, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = records.query(query.clone().start_after(after)).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

/// Reads a string attribute.
pub fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

/// The key attributes that locate `item` in a query (its own key plus the index's key).
pub fn position_of(item: &Item, index: Option<Index>) -> Item {
    let mut names = vec![schema::PK, schema::SK];
    if let Some(index) = index {
        let (pk, sk) = index.attrs();
        names.extend([pk, sk]);
    }
    names.into_iter().filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone()))).collect()
}

/// Whether a sort key is selected by a range.
pub fn sk_matches(range: &SkRange, sk: &str) -> bool {
    match range {
        SkRange::All => true,
        SkRange::Prefix(p) => sk.starts_with(p.as_str()),
        SkRange::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Named {
        given_name: u64,
    }

    #[test]
    fn an_unreadable_item_is_named_by_type_and_key_never_by_its_values() {
        let mut item = Item::new();
        item.insert("PK".into(), "CLINIC#01J".into());
        item.insert("SK".into(), "PATIENT#01K".into());
        item.insert("given_name".into(), json!("Ana García"));
        let error = entity_from::<Named>(item).unwrap_err().to_string();
        assert!(!error.contains("Ana"), "{error}");
        assert!(error.contains("Named") && error.contains("CLINIC#01J/PATIENT#01K"), "{error}");
    }
}
