//! Availability figures, in release mode: the computation for a clinic of 10 staff and 5 rooms over 31
//! days, with a full book of appointments, as a ratio to reading its inputs (the claims of the 15
//! calendars and their hours) from the embedded store, the baseline measured in the same run.
//! Run with `cargo bench -p vellum --bench availability`; it prints its figures and asserts nothing.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use vellum::domain::fields::{Context, ParseStr};
use vellum::domain::scheduling::availability::Need;
use vellum::domain::scheduling::claims::{Block, Day, day_sk};
use vellum::domain::scheduling::hours::{DAYS, LocalTime, Span, WorkingHours};
use vellum::domain::values::EntityId;
use vellum::store::{Cond, Key, Query, Records, SkRange, Table, Write, entity_item};

const STAFF: usize = 10;
const ROOMS: usize = 5;
const DAYS_ASKED: i64 = 31;
/// Appointments a day for each staff member (an hour each, at 09:00, 11:00, 13:00, 15:00).
const BOOKED: [u32; 4] = [9, 11, 13, 15];
const ROUNDS: usize = 20;

fn span(start: &str, end: &str) -> Span {
    let ctx = Context::timeless();
    Span { start: LocalTime::parse_str(start, &ctx).unwrap(), end: LocalTime::parse_str(end, &ctx).unwrap() }
}

fn every_day(spans: Vec<Span>) -> WorkingHours {
    WorkingHours { weekly: DAYS.iter().map(|d| (d.to_string(), spans.clone())).collect(), overrides: Vec::new() }
}

fn main() {
    let zone = chrono_tz::America::Los_Angeles;
    let first: NaiveDate = "2027-03-01".parse().unwrap();
    let last = first + Duration::days(DAYS_ASKED - 1);
    let now: DateTime<Utc> = "2027-02-01T00:00:00Z".parse().unwrap();
    let staff_hours = every_day(vec![span("09:00", "12:30"), span("13:00", "18:00")]);
    let room_hours = every_day(vec![span("08:00", "19:00")]);
    let clinic_hours = every_day(vec![span("08:00", "20:00")]);
    // Each staff member's book: four one-hour appointments a day; the first room holds them all.
    let mut staff_busy: Vec<Vec<Block>> = vec![Vec::new(); STAFF];
    for (s, busy) in staff_busy.iter_mut().enumerate() {
        for day in first.iter_days().take(DAYS_ASKED as usize) {
            for hour in BOOKED {
                let start = day.and_hms_opt(hour + 8, 0, 0).unwrap().and_utc();
                let id = EntityId(ulid::Ulid::from_parts(s as u64, u128::from(hour)));
                busy.push(Block { start, end: start + Duration::minutes(60), appointment_id: id, lapses_at: None });
            }
        }
    }
    let room_busy: Vec<Block> = staff_busy.iter().flatten().take(200).cloned().collect();
    let resources = vec![Some(&room_hours); ROOMS];
    let need = Need {
        zone,
        interval_minutes: 15,
        duration_minutes: 60,
        buffer_before_minutes: 0,
        buffer_after_minutes: 15,
        clinic: Some(&clinic_hours),
        resources,
        resource_busy: room_busy,
    };

    // The computation: every staff member over 31 days.
    let mut offered = 0;
    let started = Instant::now();
    for _ in 0..ROUNDS {
        offered = staff_busy.iter().map(|busy| need.starts(&staff_hours, busy, first, last, now).len()).sum::<usize>();
    }
    let compute = started.elapsed() / ROUNDS as u32;

    // The baseline: reading the same inputs from the embedded store (claims by one query per calendar,
    // hours by one read each).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Records> = Arc::new(vellum::host::config::embedded_in(dir.path()).unwrap());
    let calendars: Vec<String> = (0..STAFF + ROOMS).map(|c| format!("CLINIC#bench#CLAIMS#{c}")).collect();
    runtime.block_on(async {
        for (c, partition) in calendars.iter().enumerate() {
            let busy = staff_busy.get(c).cloned().unwrap_or_default();
            for day in first.iter_days().take(DAYS_ASKED as usize) {
                let blocks = busy.iter().filter(|b| b.start.date_naive() == day).cloned().collect();
                let item = entity_item(&Key::new(partition, day_sk(day)), &Day { blocks, version: 1 });
                store.transact(vec![Write::put(Table::Records, item, Cond::Always)]).await.unwrap();
            }
            let hours = entity_item(&Key::new(partition, "HOURS"), &json!({"weekly": staff_hours, "version": 1}));
            store.transact(vec![Write::put(Table::Records, hours, Cond::Always)]).await.unwrap();
        }
    });
    let started = Instant::now();
    let mut read = 0;
    for _ in 0..ROUNDS {
        read = runtime.block_on(async {
            let mut items = 0;
            for partition in &calendars {
                let range = SkRange::Between(day_sk(first - Duration::days(1)), day_sk(last + Duration::days(1)));
                let query = Query::new(Table::Records, partition.as_str()).sk(range).limit(100);
                items += vellum::store::query_all(store.as_ref(), query).await.unwrap().len();
                items += usize::from(store.get(Table::Records, &Key::new(partition, "HOURS")).await.unwrap().is_some());
            }
            items
        });
    }
    let reading = started.elapsed() / ROUNDS as u32;
    println!(
        "availability for {STAFF} staff and {ROOMS} rooms over {DAYS_ASKED} days ({} appointments booked, {offered} \
         starts offered): {:.2} ms to compute, {:.2}x the time of reading its {read} input items from the embedded \
         store ({:.2} ms, the baseline)",
        STAFF * BOOKED.len() * DAYS_ASKED as usize,
        compute.as_secs_f64() * 1000.0,
        compute.as_secs_f64() / reading.as_secs_f64(),
        reading.as_secs_f64() * 1000.0,
    );
}
