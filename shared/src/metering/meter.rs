//! The meter: audit events, as the audit table's stream delivers them (the local server plays the stream
//! after each commit), into per-clinic, per-day (UTC), per-unit counters in the records table.
//!
//! Exactly once: each event counted leaves a marker (`USAGE#SEEN#<eventId>`, kept three days, longer than
//! the stream keeps a change) written in the same transaction as the counters it adds to, on the
//! condition that the marker is new. A delivery that comes again finds its markers and adds nothing; one
//! that stopped half-way committed whole transactions only, so a retry adds exactly what is missing. A
//! transaction holds as many events as fit in 100 writes (DynamoDB's limit, never two of one item): their
//! markers, the markers of patients counted active for the first time in their month
//! (`USAGE#ACTIVE#<clinic>#<month>` / `<patientId>`, written only if new, like an event's), and one update
//! per counter they touch, a day's and a month's.
//!
//! Closed months: a month closes a day after it ends (`GRACE`). An event of a closed month that arrives
//! late (a stream delayed, a retry after an outage) is counted on the day it is metered, marked `late`,
//! so a closed month never changes and the ledger says where the late events went.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::json;

use super::{Unit, event_unit};
use crate::archive::{Change, StreamRecord};
use crate::domain::audit::AccessEvent;
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::store::schema::{PK, TTL};
use crate::store::{Cond, Item, Key, Query, Records, SkRange, StoreError, Table, Update, Write, query_all, str_attr};

/// The most writes one transaction takes (DynamoDB's limit).
const WRITES_PER_TRANSACTION: usize = 100;
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

/// A month's totals as the meter keeps them, by clinic, each clinic's units in the partition's order:
/// every clinic's, or `only` one's.
pub async fn month_totals(
    records: &dyn Records,
    month: NaiveDate,
    only: Option<EntityId>,
) -> Result<BTreeMap<EntityId, Vec<(Unit, u64)>>, StoreError> {
    let range = only.map_or(SkRange::All, |clinic| SkRange::Prefix(format!("{clinic}#")));
    let query = Query::new(Table::Records, month_pk(&month.format("%Y-%m").to_string())).sk(range);
    let mut clinics: BTreeMap<EntityId, Vec<(Unit, u64)>> = BTreeMap::new();
    for item in query_all(records, query).await? {
        let parsed = str_attr(&item, crate::store::schema::SK).and_then(|sk| {
            let (clinic, unit) = sk.split_once('#')?;
            Some((EntityId::parse(clinic)?, Unit::named(unit)?))
        });
        if let Some((clinic, unit)) = parsed {
            let count = item.get("count").and_then(serde_json::Value::as_u64).unwrap_or(0);
            clinics.entry(clinic).or_default().push((unit, count));
        }
    }
    Ok(clinics)
}

/// The first day of the month written `YYYY-MM`.
pub fn month_start(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    let ok = year.len() == 4 && month.len() == 2 && year.chars().chain(month.chars()).all(|c| c.is_ascii_digit());
    ok.then(|| NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)).flatten()
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

/// A patient counted active in a clinic's month: the marker that they were (`USAGE#ACTIVE#…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Active {
    clinic: EntityId,
    month: NaiveDate,
    patient: EntityId,
}

impl Active {
    fn key(&self) -> Key {
        Key::new(format!("USAGE#ACTIVE#{}#{}", self.clinic, self.month.format("%Y-%m")), self.patient.to_string())
    }
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
    /// Patients counted active for the first time in their month.
    pub active_patients: usize,
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

impl Metered {
    /// The patient it makes active in its month, when it served one.
    fn active(&self) -> Option<Active> {
        let served = self.event.outcome == crate::domain::audit::Outcome::Success && self.unit != Unit::RefusedCall;
        let patient = self.event.patient_id.filter(|_| served)?;
        Some(Active { clinic: self.clinic, month: month_of(self.day), patient })
    }
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

/// One transaction's worth of events.
struct Batch<'a> {
    events: Vec<&'a Metered>,
}

impl Batch<'_> {
    /// The patients whose month's marker this batch writes (each once): those not `known` to be counted.
    fn new_active(&self, known: &HashSet<Active>) -> Vec<(Active, NaiveDate)> {
        let mut seen = HashSet::new();
        self.events
            .iter()
            .filter_map(|m| Some((m.active()?, m.day)))
            .filter(|(active, _)| !known.contains(active) && seen.insert(*active))
            .collect()
    }

    /// The writes that count it: each event's marker, each newly active patient's marker, then one
    /// addition per counter (a day's and a month's).
    fn writes(&self, known: &HashSet<Active>, now: DateTime<Utc>) -> Vec<Write> {
        let marker = |key: Key, expires: i64| {
            let mut item = Item::new();
            item.insert(PK.into(), json!(key.pk));
            item.insert(crate::store::schema::SK.into(), json!(key.sk));
            item.insert(TTL.into(), json!(expires));
            Write::put(Table::Records, item, Cond::NotExists)
        };
        let seen_until = now.timestamp() + SEEN_FOR_SECONDS;
        let mut writes: Vec<Write> = self.events.iter().map(|m| marker(seen_key(&m.event), seen_until)).collect();
        let mut days: HashMap<(EntityId, NaiveDate, Unit), (i64, i64)> = HashMap::new();
        let mut months: HashMap<(EntityId, NaiveDate, Unit), i64> = HashMap::new();
        let mut count = |clinic: EntityId, day: NaiveDate, unit: Unit, late: bool| {
            let counter = days.entry((clinic, day, unit)).or_default();
            counter.0 += 1;
            counter.1 += i64::from(late);
            *months.entry((clinic, month_of(day), unit)).or_default() += 1;
        };
        for m in &self.events {
            count(m.clinic, m.day, m.unit, m.late);
        }
        for (active, day) in self.new_active(known) {
            // Kept until its month has closed (a late event counts in the month it is metered in).
            writes.push(marker(active.key(), closes_at(active.month).timestamp() + SEEN_FOR_SECONDS));
            count(active.clinic, day, Unit::ActivePatient, false);
        }
        let add = |key: Key, add: Vec<(String, i64)>| Write::Update {
            table: Table::Records,
            key,
            update: Update { set: Item::new(), add },
            cond: Cond::Always,
        };
        for ((clinic, day, unit), (count, late)) in days {
            let counts = match late {
                0 => vec![("count".into(), count)],
                _ => vec![("count".into(), count), ("late".into(), late)],
            };
            writes.push(add(Key::new(usage_pk(clinic), counter_sk(day, unit)), counts));
        }
        for ((clinic, month, unit), count) in months {
            let key = Key::new(month_pk(&month.format("%Y-%m").to_string()), format!("{clinic}#{unit}"));
            writes.push(add(key, vec![("count".into(), count)]));
        }
        writes
    }
}

/// The events in batches of at most one transaction's writes each.
fn batches(events: &[Metered]) -> Vec<Batch<'_>> {
    /// What a batch writes so far: markers, and the counters it adds to.
    #[derive(Default)]
    struct Size {
        writes: usize,
        active: HashSet<Active>,
        days: HashSet<(EntityId, NaiveDate, Unit)>,
        months: HashSet<(EntityId, NaiveDate, Unit)>,
    }
    impl Size {
        /// Adds `m`'s writes if they fit; false when they do not.
        fn add(&mut self, m: &Metered) -> bool {
            let active = m.active().filter(|a| !self.active.contains(a));
            let mut counters = vec![(m.clinic, m.day, m.unit)];
            counters.extend(active.map(|_| (m.clinic, m.day, Unit::ActivePatient)));
            let new_days: Vec<_> = counters.iter().copied().filter(|c| !self.days.contains(c)).collect();
            let new_months: Vec<_> = counters
                .iter()
                .map(|(clinic, day, unit)| (*clinic, month_of(*day), *unit))
                .filter(|c| !self.months.contains(c))
                .collect();
            let writes = 1 + usize::from(active.is_some()) + new_days.len() + new_months.len();
            if self.writes + writes > WRITES_PER_TRANSACTION {
                return false;
            }
            self.writes += writes;
            self.active.extend(active);
            self.days.extend(new_days);
            self.months.extend(new_months);
            true
        }
    }
    let mut batches: Vec<Batch<'_>> = Vec::new();
    let mut size = Size::default();
    for event in events {
        if batches.is_empty() || !size.add(event) {
            size = Size::default();
            size.add(event);
            batches.push(Batch { events: Vec::new() });
        }
        if let Some(batch) = batches.last_mut() {
            batch.events.push(event);
        }
    }
    batches
}

/// Counts a delivery of the audit stream, each event once, then checks the spend of each clinic month it
/// added to against its plan's cap (see `spend`).
pub async fn meter(
    records: &dyn Records,
    changes: &[StreamRecord],
    now: DateTime<Utc>,
) -> Result<MeterReport, StoreError> {
    let mut report = MeterReport::default();
    let events = metered(changes, now, &mut report);
    let mut touched: Vec<(EntityId, NaiveDate)> = Vec::new();
    // Patients known to be counted this month: each looked up once a delivery (a read), rather than found
    // by a transaction that fails on its marker (a failed transaction costs its writes all the same).
    let mut known: HashSet<Active> = HashSet::new();
    for mut batch in batches(&events) {
        for (active, _) in batch.new_active(&known) {
            if records.get(Table::Records, &active.key()).await?.is_some() {
                known.insert(active);
            }
        }
        while !batch.events.is_empty() {
            let events = batch.events.len();
            let active = batch.new_active(&known);
            match records.transact(batch.writes(&known, now)).await {
                Ok(()) => {
                    report.counted += events;
                    report.active_patients += active.len();
                    known.extend(active.iter().map(|(a, _)| *a));
                    for m in &batch.events {
                        let month = (m.clinic, month_of(m.day));
                        if !touched.contains(&month) {
                            touched.push(month);
                        }
                    }
                    break;
                }
                // That event's marker exists: it was counted by an earlier delivery.
                Err(StoreError::ConditionFailed { index }) if index < events => {
                    batch.events.remove(index);
                    report.duplicates += 1;
                }
                // That patient was counted active this month meanwhile.
                Err(StoreError::ConditionFailed { index }) if index < events + active.len() => {
                    known.insert(active[index - events].0);
                }
                Err(e) => return Err(e),
            }
        }
    }
    for (clinic, month) in touched {
        super::spend::check(records, clinic, month, now).await?;
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
    fn a_delivery_of_many_clinics_and_patients_fits_each_transaction_in_a_hundred_writes() {
        let day: NaiveDate = "2026-12-02".parse().unwrap();
        let events: Vec<Metered> = (0..99)
            .map(|i| {
                let clinic = EntityId(ulid::Ulid::from_parts(1, i % 40));
                let mut event = AccessEvent::by_system("test", "patients.read", Some(clinic), day.to_string());
                event.patient_id = Some(EntityId(ulid::Ulid::new()));
                let unit = if i % 2 == 0 { Unit::RecordRead } else { Unit::RecordWrite };
                Metered { event, clinic, day, late: false, unit }
            })
            .collect();
        let now = Utc::now();
        let batches = batches(&events);
        assert!(batches.len() > 1);
        assert_eq!(batches.iter().map(|b| b.events.len()).sum::<usize>(), 99);
        let known = HashSet::new();
        for batch in &batches {
            let writes = batch.writes(&known, now).len();
            assert!(writes <= WRITES_PER_TRANSACTION, "{writes}");
            assert_eq!(batch.new_active(&known).len(), batch.events.len(), "each event's patient is new");
        }
    }

    #[test]
    fn a_month_is_written_year_dash_month() {
        assert_eq!(month_start("2026-12"), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert!(month_start("2026-13").is_none() && month_start("26-12").is_none() && month_start("2026-1").is_none());
    }

    #[test]
    fn a_counter_sorts_by_day_then_unit() {
        let day: NaiveDate = "2026-12-02".parse().unwrap();
        assert_eq!(counter_sk(day, Unit::RecordRead), "DAY#2026-12-02#record-read");
    }
}
