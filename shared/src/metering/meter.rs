//! The meter: audit events, as the audit table's stream delivers them (the local server plays the stream
//! after each commit), into per-clinic, per-day (UTC), per-unit counters in the records table.
//!
//! Exactly once: each event counted leaves a marker (`USAGE#SEEN#<eventId>`, kept three days, longer than
//! the stream keeps a change) written in the same transaction as the counters it adds to, on the
//! condition that the marker is new. A delivery that comes again finds its markers and adds nothing; one
//! that stopped half-way committed whole transactions only, so a retry adds exactly what is missing. A
//! transaction holds at most 40 events: their markers and one update per counter they touch (DynamoDB
//! takes at most 100 writes, and never two of one item).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::{Unit, event_unit};
use crate::archive::{Change, StreamRecord};
use crate::domain::audit::AccessEvent;
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::store::schema::{PK, TTL};
use crate::store::{Cond, Item, Key, Records, StoreError, Table, Update, Write, str_attr};

/// How many events one transaction counts.
const EVENTS_PER_TRANSACTION: usize = 40;
/// How long an event's marker is kept: longer than the stream keeps a change (24 hours).
const SEEN_FOR_SECONDS: i64 = 3 * 24 * 3600;

/// The partition of a clinic's usage counters.
pub fn usage_pk(clinic: EntityId) -> String {
    format!("{}#USAGE", keys::clinic_pk(clinic))
}

/// A counter's sort key: its day, then its unit.
pub fn counter_sk(day: NaiveDate, unit: Unit) -> String {
    format!("DAY#{day}#{unit}")
}

fn seen_key(event: &AccessEvent) -> Key {
    Key::new(format!("USAGE#SEEN#{}", event.event_id), "SEEN")
}

/// What one delivery did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeterReport {
    /// Events added to a counter.
    pub counted: usize,
    /// Events delivered before: already counted.
    pub duplicates: usize,
    /// Events nobody is billed for (the platform's own, a patient's page load, an event's copy in a
    /// listed patient's log).
    pub unmetered: usize,
}

/// One event to count.
struct Metered {
    event: AccessEvent,
    clinic: EntityId,
    day: NaiveDate,
    unit: Unit,
}

/// The events of a delivery that a clinic is billed for (inserts of an event in its clinic's trail).
fn metered(changes: &[StreamRecord], report: &mut MeterReport) -> Vec<Metered> {
    let mut out = Vec::new();
    for change in changes {
        let Change::Insert(item) = &change.change else { continue };
        let event = AccessEvent::from_item(item);
        let counted = event.and_then(|event| {
            let clinic = event.clinic_id?;
            // A listed patient's copy lives in a partition of its own; only the event itself counts.
            (str_attr(item, PK) == Some(keys::clinic_pk(clinic).as_str())).then_some(())?;
            let unit = event_unit(&event)?;
            let day = event.event_time.get(..10)?.parse().ok()?;
            Some(Metered { event, clinic, day, unit })
        });
        match counted {
            Some(m) => out.push(m),
            None => report.unmetered += 1,
        }
    }
    out
}

/// The writes that count `events`: each one's marker, then one addition per counter.
fn writes(events: &[&Metered], now: DateTime<Utc>) -> Vec<Write> {
    let mut writes: Vec<Write> = events
        .iter()
        .map(|m| {
            let key = seen_key(&m.event);
            let mut item = Item::new();
            item.insert(PK.into(), json!(key.pk));
            item.insert(crate::store::schema::SK.into(), json!(key.sk));
            item.insert(TTL.into(), json!(now.timestamp() + SEEN_FOR_SECONDS));
            Write::put(Table::Records, item, Cond::NotExists)
        })
        .collect();
    let mut counters: HashMap<(EntityId, NaiveDate, Unit), i64> = HashMap::new();
    for m in events {
        *counters.entry((m.clinic, m.day, m.unit)).or_default() += 1;
    }
    for ((clinic, day, unit), count) in counters {
        let key = Key::new(usage_pk(clinic), counter_sk(day, unit));
        let update = Update { set: Item::new(), add: vec![("count".into(), count)] };
        writes.push(Write::Update { table: Table::Records, key, update, cond: Cond::Always });
    }
    writes
}

/// Counts a delivery of the audit stream, each event once.
pub async fn meter(
    records: &dyn Records,
    changes: &[StreamRecord],
    now: DateTime<Utc>,
) -> Result<MeterReport, StoreError> {
    let mut report = MeterReport::default();
    let events = metered(changes, &mut report);
    for chunk in events.chunks(EVENTS_PER_TRANSACTION) {
        let mut pending: Vec<&Metered> = chunk.iter().collect();
        while !pending.is_empty() {
            match records.transact(writes(&pending, now)).await {
                Ok(()) => {
                    report.counted += pending.len();
                    break;
                }
                // That event's marker exists: it was counted by an earlier delivery.
                Err(StoreError::ConditionFailed { index }) if index < pending.len() => {
                    pending.remove(index);
                    report.duplicates += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_sorts_by_day_then_unit() {
        let day: NaiveDate = "2026-12-02".parse().unwrap();
        assert_eq!(counter_sk(day, Unit::RecordRead), "DAY#2026-12-02#record-read");
    }
}
