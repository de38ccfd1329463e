//! The guard items that keep chart rules spanning several entries true under concurrent writes.
//!
//! "One aesthetic profile" and "no known allergies only without active allergies" are checked by reading
//! the chart. Checked alone, two concurrent requests could each pass the check and both commit. So a
//! write that relies on such a check reads the patient's guard item for the kind first and commits only
//! if the guard has not moved since; a write that could break the rule for someone else's check moves
//! the guard. Of two requests that race, the second fails with a 409 and writes nothing.

use serde_json::{Value, json};

use crate::domain::chart::{ChartKind, Entry};
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::http::outcome::Guarded;
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Item, Key, Table, Update, Write, entity_item};

/// One request's changes to a patient's chart: the guards it read or moves, and the entries it adds (so
/// the rules see an earlier entry of the same request, as in one `submissions/accept`).
pub struct ChartChange {
    clinic: EntityId,
    pub patient: EntityId,
    /// The guard versions read before a rule was checked (`None`: no guard item yet).
    checked: Vec<(ChartKind, Option<u64>)>,
    moved: Vec<ChartKind>,
    pub added: Vec<Entry>,
}

impl ChartChange {
    pub fn new(clinic: EntityId, patient: EntityId) -> Self {
        Self { clinic, patient, checked: Vec::new(), moved: Vec::new(), added: Vec::new() }
    }

    fn key(&self, kind: ChartKind) -> Key {
        Key::new(keys::chart_pk(self.clinic, self.patient), keys::chart_guard_sk(kind.key_prefix()))
    }

    /// Reads the guard of `kind` before a rule about it is checked against the chart; the commit then
    /// requires the guard unmoved.
    pub async fn before_checking(&mut self, ctx: &Ctx, kind: ChartKind) -> Result<(), ApiError> {
        if self.was_checked(kind) {
            return Ok(());
        }
        let item = ctx.app.records.get(Table::Records, &self.key(kind)).await?;
        let version = item.and_then(|i| i.get("version").and_then(Value::as_u64));
        self.checked.push((kind, version));
        Ok(())
    }

    fn was_checked(&self, kind: ChartKind) -> bool {
        self.checked.iter().any(|(k, _)| *k == kind)
    }

    /// Notes a write that could break a rule of `kind` for a concurrent request that checked it.
    pub fn moves(&mut self, kind: ChartKind) {
        if !self.moved.contains(&kind) {
            self.moved.push(kind);
        }
    }

    /// One write per guard: a checked guard is put one version on, on the version read; a guard that is only
    /// moved is counted on, whatever its version (so such writes never conflict with each other).
    pub fn guard_writes(&self) -> Vec<Guarded> {
        let raced = || {
            ApiError::Conflict(
                "a concurrent change to the same part of the chart interfered; nothing was written; retry".into(),
            )
        };
        let mut writes = Vec::new();
        for (kind, read) in &self.checked {
            let item = entity_item(&self.key(*kind), &json!({"version": read.map_or(1, |v| v + 1)}));
            let cond = read.map_or(Cond::NotExists, Cond::VersionIs);
            writes.push(Guarded::new(Write::put(Table::Records, item, cond), raced()));
        }
        for kind in self.moved.iter().filter(|k| !self.was_checked(**k)) {
            let update = Update { set: Item::new(), add: vec![("version".into(), 1)] };
            let write = Write::Update { table: Table::Records, key: self.key(*kind), update, cond: Cond::Always };
            writes.push(Guarded::new(write, raced()));
        }
        writes
    }
}
