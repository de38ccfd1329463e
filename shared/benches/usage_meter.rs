//! Usage meter figures, in release mode: events counted a second by one meter (as one function
//! invocation takes the stream's deliveries one after another), against the embedded store, as a ratio to
//! the floor of any exactly-once count, writing one marker per event in transactions as full as DynamoDB
//! allows (the baseline, measured in the same run). Run with `cargo bench -p vellum --bench usage_meter`; it prints
//! its figures and asserts nothing but that the meter counted every event once.

use std::time::Instant;

use serde_json::json;
use vellum::archive::{Change, StreamRecord};
use vellum::domain::audit::AccessEvent;
use vellum::domain::values::EntityId;
use vellum::metering::meter::meter;
use vellum::store::embedded::EmbeddedRecords;
use vellum::store::{Cond, Item, Records, Table, Write};

const EVENTS: usize = 6_000;
/// The stream's batch size in the template.
const DELIVERY: usize = vellum::archive::BATCH_LINES;
/// The most writes a transaction holds (the meter's transactions also hold its counters' additions and
/// its active patients' markers, so they take fewer events each).
const PER_TRANSACTION: usize = 100;
const ROUNDS: usize = 3;

/// Reads and writes by ten clinics, as the stream would deliver them.
fn deliveries(round: usize) -> Vec<Vec<StreamRecord>> {
    let clinics: Vec<EntityId> = (0..10).map(|_| EntityId(ulid::Ulid::new())).collect();
    let patients: Vec<EntityId> = (0..500).map(|_| EntityId(ulid::Ulid::new())).collect();
    let names = ["patients.read", "patients.list", "patients.update", "chart.read", "appointments.book"];
    let events: Vec<StreamRecord> = (0..EVENTS)
        .map(|i| {
            let time = format!("2026-12-02T10:{:02}:{:02}.{:06}Z", (i / 60) % 60, i % 60, round);
            let mut event = AccessEvent::by_system("bench", names[i % names.len()], Some(clinics[i % 10]), time);
            // Fifty patients a clinic: each is counted active once in the month.
            event.patient_id = Some(patients[(i / 10) % 50 + 50 * (i % 10)]);
            StreamRecord { sequence: format!("{i:020}"), change: Change::Insert(event.to_item()) }
        })
        .collect();
    events.chunks(DELIVERY).map(<[StreamRecord]>::to_vec).collect()
}

fn marker(i: usize, round: usize) -> Item {
    let mut item = Item::new();
    item.insert("PK".into(), json!(format!("BASELINE#{round}#{i}")));
    item.insert("SK".into(), json!("SEEN"));
    item
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedRecords::open(&dir.path().join("records.redb")).unwrap();
    let now = chrono::Utc::now();
    let (mut metered, mut baseline) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let work = deliveries(round);
        let began = Instant::now();
        let mut counted = 0;
        for delivery in &work {
            counted += meter(&store, delivery, now).await.unwrap().counted;
        }
        metered.push(EVENTS as f64 / began.elapsed().as_secs_f64());
        assert_eq!(counted, EVENTS, "every event counted once");
        let began = Instant::now();
        for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(PER_TRANSACTION) {
            let writes = chunk.iter().map(|i| Write::put(Table::Records, marker(*i, round), Cond::NotExists)).collect();
            store.transact(writes).await.unwrap();
        }
        baseline.push(EVENTS as f64 / began.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (meter_rate, base_rate) = (median(&mut metered), median(&mut baseline));
    println!(
        "usage meter, {EVENTS} events of 10 clinics in deliveries of {DELIVERY} (embedded store, release build, median of {ROUNDS})"
    );
    println!("  meter (markers and counters):      {meter_rate:9.0} events/s");
    println!("  baseline (markers alone):          {base_rate:9.0} events/s");
    println!("  meter / baseline:                  {:.2}x", meter_rate / base_rate);
}
