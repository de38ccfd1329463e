//! The in-memory records adapter: the same port over ordered maps behind one lock, with the embedded and
//! DynamoDB adapters' contract (conditions, all-or-nothing transactions, indexes, DynamoDB's limits) and
//! nothing kept: for the per-request benchmarks and for tests that need a store and no disk.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::rules::{
    TOP, apply_update, as_projected, check_query, cond_holds, index_entries, key_of, sk_bounds, start_after_attr,
};
use super::schema::{self, Index, Table};
use super::{Cond, Item, Key, Page, Query, Records, StoreError, Update, Write, str_attr};

/// An item's place: its table, partition and sort keys.
type Place = (Table, String, String);
/// An index entry: table, index, the index's partition and sort keys, then the item's own keys.
type Entry = (Table, Index, String, String, String, String);

#[derive(Default)]
struct State {
    items: BTreeMap<Place, Item>,
    entries: BTreeSet<Entry>,
}

/// Records in memory, gone with the value.
#[derive(Clone, Default)]
pub struct MemoryRecords {
    state: Arc<Mutex<State>>,
}

impl MemoryRecords {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves no half-applied write behind (writes are applied after every
        // check), so the state stays usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn place(table: Table, key: &Key) -> Place {
    (table, key.pk.clone(), key.sk.clone())
}

impl State {
    fn current(&self, table: Table, key: &Key) -> Option<&Item> {
        self.items.get(&place(table, key))
    }

    /// Puts `item` in place of what is at its key (or removes what is there, when `None`), with its index
    /// entries.
    fn replace(&mut self, table: Table, key: &Key, item: Option<Item>) {
        let entry =
            |(index, gpk, gsk): (Index, String, String)| (table, index, gpk, gsk, key.pk.clone(), key.sk.clone());
        if let Some(old) = self.items.remove(&place(table, key)) {
            for found in index_entries(table, &old) {
                self.entries.remove(&entry(found));
            }
        }
        if let Some(item) = item {
            for found in index_entries(table, &item) {
                self.entries.insert(entry(found));
            }
            self.items.insert(place(table, key), item);
        }
    }

    /// What `write` leaves at its key, or `None` when its condition fails.
    fn outcome(&self, write: &Write) -> Result<Option<(Table, Key, Option<Item>)>, StoreError> {
        let (table, key, cond) = match write {
            Write::Put { table, item, cond } => (*table, key_of(item)?, cond),
            Write::Update { table, key, cond, .. } | Write::Delete { table, key, cond } => (*table, key.clone(), cond),
        };
        let current = self.current(table, &key);
        if !cond_holds(cond, current) {
            return Ok(None);
        }
        let next = match write {
            Write::Put { item, .. } => Some(item.clone()),
            Write::Update { update, .. } => Some(apply_update(&key, current.cloned(), update)?),
            Write::Delete { .. } => None,
        };
        if let Some(item) = &next {
            super::limits::check_item(item)?;
        }
        Ok(Some((table, key, next)))
    }

    fn query(&self, query: &Query) -> Result<Page, StoreError> {
        check_query(query)?;
        let (lo, hi) = sk_bounds(&query.sk);
        let limit = query.limit.max(1);
        let mut items = Vec::new();
        let mut more = false;
        let mut take = |item: Item, items: &mut Vec<Item>| {
            if items.len() == limit {
                more = true;
                return false;
            }
            items.push(item);
            true
        };
        let table = query.table;
        match query.index {
            None => {
                let pk = query.pk.clone();
                let mut lower = Bound::Included((table, pk.clone(), lo));
                let mut upper = Bound::Included((table, pk.clone(), hi));
                if query.start_after.is_some() {
                    if query.start_after.as_ref().and_then(|k| str_attr(k, schema::PK)) != Some(pk.as_str()) {
                        return Err(StoreError::InvalidStartKey);
                    }
                    let after = (table, pk.clone(), start_after_attr(query, schema::SK)?);
                    if query.forward {
                        lower = Bound::Excluded(after);
                    } else {
                        upper = Bound::Excluded(after);
                    }
                }
                let range = self.items.range((lower, upper));
                let found: Box<dyn Iterator<Item = _>> =
                    if query.forward { Box::new(range) } else { Box::new(range.rev()) };
                for (_, item) in found {
                    if !take(item.clone(), &mut items) {
                        break;
                    }
                }
            }
            Some(index) => {
                let (ipk, isk) = index.attrs();
                let gpk = query.pk.clone();
                if query.start_after.as_ref().is_some_and(|k| str_attr(k, ipk) != Some(gpk.as_str())) {
                    return Err(StoreError::InvalidStartKey);
                }
                let at = |gsk: String, pk: String, sk: String| (table, index, gpk.clone(), gsk, pk, sk);
                let mut lower = Bound::Included(at(lo, String::new(), String::new()));
                let mut upper = Bound::Included(at(hi, TOP.into(), TOP.into()));
                if query.start_after.is_some() {
                    let after = at(
                        start_after_attr(query, isk)?,
                        start_after_attr(query, schema::PK)?,
                        start_after_attr(query, schema::SK)?,
                    );
                    if query.forward {
                        lower = Bound::Excluded(after);
                    } else {
                        upper = Bound::Excluded(after);
                    }
                }
                let range = self.entries.range((lower, upper));
                let found: Box<dyn Iterator<Item = _>> =
                    if query.forward { Box::new(range) } else { Box::new(range.rev()) };
                for (_, _, _, _, pk, sk) in found {
                    let Some(item) = self.items.get(&(table, pk.clone(), sk.clone())) else { continue };
                    if !take(as_projected(table, index, item.clone()), &mut items) {
                        break;
                    }
                }
            }
        }
        let next = if more { items.last().map(|i| super::position_of(i, query.index)) } else { None };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl Records for MemoryRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.lock().current(table, key).cloned())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::limits::check_transaction(&writes)?;
        let mut state = self.lock();
        // Every condition is checked before anything is applied (a transaction names each item once).
        let mut outcomes = Vec::with_capacity(writes.len());
        for (index, write) in writes.iter().enumerate() {
            match state.outcome(write)? {
                Some(outcome) => outcomes.push(outcome),
                None => return Err(StoreError::ConditionFailed { index }),
            }
        }
        for (table, key, item) in outcomes {
            state.replace(table, &key, item);
        }
        Ok(())
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        super::limits::attributes_size(&update.set)?;
        let mut state = self.lock();
        let write = Write::Update { table, key: key.clone(), update, cond };
        let Some((table, key, Some(item))) = state.outcome(&write)? else {
            return Err(StoreError::ConditionFailed { index: 0 });
        };
        state.replace(table, &key, Some(item.clone()));
        Ok(item)
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.lock().query(&query)
    }
}

#[cfg(test)]
mod contract {
    crate::records_contract!(async { super::MemoryRecords::new() });
}
