//! What a write does to an item and its index entries, and what a query selects, whatever holds them: the
//! rules the embedded and in-memory adapters share (DynamoDB applies them itself).

use serde_json::Value;

use super::schema::{self, Index, Table};
use super::{Cond, Item, Key, Query, SkRange, StoreError, Update, str_attr};

/// A sort-key bound above every real key (keys are ASCII).
pub const TOP: &str = "\u{10FFFF}";

/// The key of an item (its `PK` and `SK`).
pub fn key_of(item: &Item) -> Result<Key, StoreError> {
    match (str_attr(item, schema::PK), str_attr(item, schema::SK)) {
        (Some(pk), Some(sk)) => Ok(Key::new(pk, sk)),
        _ => Err(StoreError::Unavailable("item without string PK and SK".into())),
    }
}

/// Whether a write's condition holds of the item as it is (`None`: absent).
pub fn cond_holds(cond: &Cond, current: Option<&Item>) -> bool {
    match cond {
        Cond::Always => true,
        Cond::NotExists => current.is_none(),
        Cond::Exists => current.is_some(),
        Cond::VersionIs(v) => current.and_then(|i| i.get(schema::VERSION)).and_then(Value::as_u64) == Some(*v),
    }
}

/// The index entries an item has: for each index of its table whose two attributes it holds.
pub fn index_entries(table: Table, item: &Item) -> Vec<(Index, String, String)> {
    table
        .indexes()
        .iter()
        .filter_map(|&index| {
            let (pk, sk) = index.attrs();
            Some((index, str_attr(item, pk)?.to_string(), str_attr(item, sk)?.to_string()))
        })
        .collect()
}

/// The item after an update: the current one (or a new one at `key`) with its sets and additions.
pub fn apply_update(key: &Key, current: Option<Item>, update: &Update) -> Result<Item, StoreError> {
    let mut item = current.unwrap_or_else(|| {
        let mut i = Item::new();
        i.insert(schema::PK.into(), key.pk.clone().into());
        i.insert(schema::SK.into(), key.sk.clone().into());
        i
    });
    for (name, value) in &update.set {
        item.insert(name.clone(), value.clone());
    }
    for (name, by) in &update.add {
        let now = match item.get(name) {
            None => 0,
            Some(v) => v.as_i64().ok_or_else(|| StoreError::Unavailable(format!("{name} is not a number")))?,
        };
        item.insert(name.clone(), (now + by).into());
    }
    Ok(item)
}

/// The inclusive sort-key bounds of a range.
pub fn sk_bounds(range: &SkRange) -> (String, String) {
    match range {
        SkRange::All => (String::new(), TOP.to_string()),
        SkRange::Prefix(p) => (p.clone(), format!("{p}{TOP}")),
        SkRange::Between(lo, hi) => (lo.clone(), hi.clone()),
    }
}

/// An attribute of the position a query continues after (its cursor's key).
pub fn start_after_attr(query: &Query, name: &str) -> Result<String, StoreError> {
    query.start_after.as_ref().and_then(|k| str_attr(k, name)).map(str::to_string).ok_or(StoreError::InvalidStartKey)
}

/// Refuses what DynamoDB refuses of a query: an index the table does not have, an empty key condition.
pub fn check_query(query: &Query) -> Result<(), StoreError> {
    if !query.table.has_index(query.index) {
        return Err(StoreError::Unavailable("no such index".into()));
    }
    // (An empty prefix selects everything, as the DynamoDB adapter sends no sort-key condition for it.)
    let empty_bound = matches!(&query.sk, SkRange::Between(lo, hi) if lo.is_empty() || hi.is_empty());
    if query.pk.is_empty() || empty_bound {
        // DynamoDB refuses an empty string in a key condition (ValidationException).
        return Err(StoreError::Refused("a key condition's value cannot be empty".into()));
    }
    Ok(())
}

/// An item as an index query answers it: whole, or only its keys and the index's on a table whose indexes
/// hold keys only (the audit table's).
pub fn as_projected(table: Table, index: Index, mut item: Item) -> Item {
    if table.keys_only_indexes() {
        let (ipk, isk) = index.attrs();
        item.retain(|name, _| [schema::PK, schema::SK, ipk, isk].contains(&name.as_str()));
    }
    item
}
