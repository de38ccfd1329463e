//! What a call costs on disk in the embedded store: the records file's bytes per audited call, and where
//! they go (redb's own count of stored, metadata and fragmented bytes). Each call writes what the local
//! server writes for an audited patient read: its burst-quota counter, its access event (with the patient
//! and actor index entries), and, through the meter, the event's exactly-once marker and its counters.
//! Beside it, in the same run, the baseline: the same events' JSON alone, as bytes. Run with
//! `cargo bench -p vellum --bench records_disk`; prints `report:` lines.

use std::path::Path;

use serde_json::json;
use vellum::archive::{BATCH_LINES, Change, StreamRecord};
use vellum::domain::audit::{AccessEvent, Resource, UserIdentity};
use vellum::domain::role::Role;
use vellum::domain::values::EntityId;
use vellum::metering::meter::meter;
use vellum::store::embedded::EmbeddedRecords;
use vellum::store::{Cond, Item, Key, Records, Table, Update};

/// Calls in a full run; a smoke run (`-- --smoke`) makes a tenth of them.
const CALLS: usize = 20_000;
/// Calls committed at once, as concurrent requests share the writer's commits under load.
const CONCURRENT: usize = 16;

/// The access event of an audited patient read, shaped as the pipeline writes it.
fn read_event(clinic: EntityId, patient: EntityId, user: &str, i: usize) -> AccessEvent {
    let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let mut event = AccessEvent::by_system("patients-get", "patients.read", Some(clinic), time);
    event.user_identity =
        UserIdentity { user_id: serde_json::from_value(json!(user)).unwrap(), role: Role::Practitioner };
    event.source_ip_address = Some("127.0.0.1".into());
    event.user_agent = Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15".into());
    event.request_id = format!("{:08x}-6c1e-4d0a-9f3b-{i:012x}", i);
    event.resources = vec![Resource::new("patient", patient)];
    event.patient_id = Some(patient);
    event
}

/// The quota's counter update of a call, as the pipeline makes it.
async fn count_quota(store: &EmbeddedRecords, clinic: EntityId) {
    let minute = chrono::Utc::now().timestamp() / 60;
    let key = Key::new(format!("RATE#QUOTA#{clinic}"), format!("MINUTE#{minute}"));
    let mut set = Item::new();
    set.insert("ttl".into(), json!((minute + 2) * 60));
    store.update(Table::Records, &key, Update { set, add: vec![("count".into(), 1)] }, Cond::Always).await.unwrap();
}

fn stats(path: &Path) -> redb::DatabaseStats {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    let stats = txn.stats().unwrap();
    txn.abort().unwrap();
    stats
}

#[tokio::main]
async fn main() {
    let calls = if std::env::args().any(|a| a == "--smoke") { CALLS / 10 } else { CALLS };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.redb");
    let store = std::sync::Arc::new(EmbeddedRecords::open(&path).unwrap());
    let clinic = EntityId(ulid::Ulid::new());
    let patients: Vec<EntityId> = (0..200).map(|_| EntityId(ulid::Ulid::new())).collect();
    let mut json_bytes = 0;
    let mut stream = Vec::new();
    for round in 0..calls / CONCURRENT {
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..CONCURRENT {
            let n = round * CONCURRENT + i;
            let event = read_event(clinic, patients[n % patients.len()], &format!("dr-{}", n % 5), n);
            json_bytes += serde_json::to_vec(&event).unwrap().len();
            stream.push(StreamRecord { sequence: format!("{n:020}"), change: Change::Insert(event.to_item()) });
            let store = store.clone();
            calls.spawn(async move {
                count_quota(&store, clinic).await;
                store.transact(event.to_writes()).await.unwrap();
            });
        }
        calls.join_all().await;
        if stream.len() >= BATCH_LINES {
            meter(store.as_ref(), &std::mem::take(&mut stream), chrono::Utc::now()).await.unwrap();
        }
    }
    meter(store.as_ref(), &stream, chrono::Utc::now()).await.unwrap();
    drop(store);
    let file = std::fs::metadata(&path).unwrap().len() as f64;
    let stats = stats(&path);
    let per_call = |bytes: f64| bytes / calls as f64;
    println!("records file after {calls} audited reads, {CONCURRENT} at a time (embedded store)");
    println!("report: disk per audited call, file\t{:.0}\tbytes", per_call(file));
    println!("report: disk per audited call, stored\t{:.0}\tbytes", per_call(stats.stored_bytes() as f64));
    println!("report: disk per audited call, metadata\t{:.0}\tbytes", per_call(stats.metadata_bytes() as f64));
    println!("report: disk per audited call, fragmented\t{:.0}\tbytes", per_call(stats.fragmented_bytes() as f64));
    println!("report: disk per audited call, baseline: the event's JSON\t{:.0}\tbytes", per_call(json_bytes as f64));
}
