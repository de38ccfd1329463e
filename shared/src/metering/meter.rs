//! The meter: audit events, as the audit table's stream delivers them (the local server plays the stream
//! after each commit), into per-clinic, per-day (UTC), per-unit counters in the records table.
//!
//! Exactly once: each event counted leaves a marker (`USAGE#SEEN#<eventId>`, kept three days, longer than
//! the stream keeps a change) written in the same transaction as the counters it adds to, on the
//! condition that the marker is new. A delivery that comes again finds its markers and adds nothing; one
//! that stopped half-way committed whole transactions only, so a retry adds exactly what is missing. A
//! transaction holds at most 30 events: their markers and one update per counter they touch, a day's and
//! a month's (DynamoDB takes at most 100 writes, and never two of one item).
//!
//! Closed months: a month closes a day after it ends (`GRACE`). An event of a closed month that arrives
//! late (a stream delayed, a retry after an outage) is counted on the day it is metered, marked `late`,
//! so a closed month never changes and the ledger says where the late events went.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::json;

use super::{Unit, event_unit};
use crate::archive::{Change, StreamRecord};
use crate::domain::audit::AccessEvent;
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::store::schema::{PK, TTL};
use crate::store::{Cond, Item, Key, Records, StoreError, Table, Update, Write, str_attr};

/// How many events one transaction counts.
const EVENTS_PER_TRANSACTION: usize = 30;
/// How long after its end a month still takes events.
pub const GRACE: chrono::Duration = chrono::Duration::days(1);
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

/// The partition of every clinic's totals for a month (`YYYY-MM`), for the operator.
pub fn month_pk(month: &str) -> String {
    format!("USAGE#MONTH#{month}")
}

/// The first day of the month `day` is in.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// When the month that starts on `first` stops taking events.
pub fn closes_at(first: NaiveDate) -> DateTime<Utc> {
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + GRACE
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
    /// The day it is counted on: its own, or the metering's when its month had closed.
    day: NaiveDate,
    late: bool,
    unit: Unit,
}

/// The events of a delivery that a clinic is billed for (inserts of an event in its clinic's trail).
fn metered(changes: &[StreamRecord], now: DateTime<Utc>, report: &mut MeterReport) -> Vec<Metered> {
    let mut out = Vec::new();
    for change in changes {
        let Change::Insert(item) = &change.change else { continue };
        let event = AccessEvent::from_item(item);
        let counted = event.and_then(|event| {
            let clinic = event.clinic_id?;
            // A listed patient's copy lives in a partition of its own; only the event itself counts.
            (str_attr(item, PK) == Some(keys::clinic_pk(clinic).as_str())).then_some(())?;
            let unit = event_unit(&event)?;
            let day: NaiveDate = event.event_time.get(..10)?.parse().ok()?;
            let late = now >= closes_at(month_of(day));
            let day = if late { now.date_naive() } else { day };
            Some(Metered { event, clinic, day, late, unit })
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
    let mut days: HashMap<(EntityId, NaiveDate, Unit), (i64, i64)> = HashMap::new();
    let mut months: HashMap<(EntityId, NaiveDate, Unit), i64> = HashMap::new();
    for m in events {
        let day = days.entry((m.clinic, m.day, m.unit)).or_default();
        day.0 += 1;
        day.1 += i64::from(m.late);
        *months.entry((m.clinic, month_of(m.day), m.unit)).or_default() += 1;
    }
    let add = |key: Key, add: Vec<(String, i64)>| Write::Update {
        table: Table::Records,
        key,
        update: Update { set: Item::new(), add },
        cond: Cond::Always,
    };
    for ((clinic, day, unit), (count, late)) in days {
        let counts =
            if late > 0 { vec![("count".into(), count), ("late".into(), late)] } else { vec![("count".into(), count)] };
        writes.push(add(Key::new(usage_pk(clinic), counter_sk(day, unit)), counts));
    }
    for ((clinic, month, unit), count) in months {
        let key = Key::new(month_pk(&month.format("%Y-%m").to_string()), format!("{clinic}#{unit}"));
        writes.push(add(key, vec![("count".into(), count)]));
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
    let events = metered(changes, now, &mut report);
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
    fn a_month_closes_a_day_after_it_ends() {
        let november: NaiveDate = "2026-11-01".parse().unwrap();
        assert_eq!(closes_at(november), "2026-12-02T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(month_of("2026-11-30".parse().unwrap()), november);
    }

    #[test]
    fn a_counter_sorts_by_day_then_unit() {
        let day: NaiveDate = "2026-12-02".parse().unwrap();
        assert_eq!(counter_sk(day, Unit::RecordRead), "DAY#2026-12-02#record-read");
    }
}
