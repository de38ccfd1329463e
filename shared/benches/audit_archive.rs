//! Audit archive figures, in release mode: what archiving costs per event (store requests and bucket
//! writes, counted, and their price at AWS list prices), and how fast the verifier walks a chain, as a
//! ratio to reading the same events from the table alone (the baseline, measured in the same run).
//! Run with `cargo bench -p vellum --bench audit_archive`; it prints its figures and asserts nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use serde_json::json;
use vellum::archive::verify::{Depth, Window, verify};
use vellum::archive::{Archive, Change, StreamRecord};
use vellum::blobs::Blobs;
use vellum::store::{Cond, Item, Key, Page, Query, Records, SkRange, StoreError, Table, Update, Write};

const EVENTS: usize = 20_000;
/// The stream's batch size in the template.
const DELIVERY: usize = vellum::archive::BATCH_LINES;

#[derive(Default)]
struct Counts {
    gets: AtomicUsize,
    transaction_writes: AtomicUsize,
}

struct Counting {
    inner: Arc<dyn Records>,
    counts: Arc<Counts>,
}

#[async_trait]
impl Records for Counting {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        self.counts.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get(table, key).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.counts.transaction_writes.fetch_add(writes.len(), Ordering::Relaxed);
        self.inner.transact(writes).await
    }
    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        self.inner.update(table, key, update, cond).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
}

fn event(clinic: &str, i: usize) -> Item {
    let id = ulid::Ulid::new().to_string();
    let sk = format!("2026-11-{:02}T{:02}:00:00.{:06}Z#{id}", 1 + i / 100_000, (i / 4000) % 24, i % 1_000_000);
    let value = json!({
        "PK": format!("CLINIC#{clinic}"), "SK": sk, "eventId": id, "eventTime": sk.split('#').next().unwrap(),
        "eventName": "patients.read", "eventSource": "patients-get", "clinicId": clinic,
        "userIdentity": {"userId": "nurse-bench", "role": "nurse"}, "sourceIPAddress": "203.0.113.10",
        "userAgent": "VellumWeb/1.0", "requestId": format!("req-{i}"),
        "resources": [{"type": "patient", "id": "01JD0000000000000000000002"}],
        "patientId": "01JD0000000000000000000002", "outcome": "success", "errorCode": null, "reason": null,
    });
    value.as_object().unwrap().clone()
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Records> = Arc::new(vellum::host::config::embedded_in(dir.path()).unwrap());
    let blobs: Arc<dyn Blobs> = vellum::host::config::local_archive_in(dir.path()).unwrap();
    let clinic = ulid::Ulid::new().to_string();
    let events: Vec<Item> = (0..EVENTS).map(|i| event(&clinic, i)).collect();
    let bytes: usize = events.iter().map(|e| vellum::archive::batch::canonical_line(e).len()).sum();
    runtime.block_on(async {
        for chunk in events.chunks(100) {
            let writes = chunk.iter().map(|e| Write::put(Table::Audit, e.clone(), Cond::NotExists)).collect();
            store.transact(writes).await.unwrap();
        }
    });
    let counts = Arc::new(Counts::default());
    let counting: Arc<dyn Records> = Arc::new(Counting { inner: store.clone(), counts: counts.clone() });
    let archive = Archive { records: counting, blobs: blobs.clone() };
    let started = Instant::now();
    let mut batches = 0;
    runtime.block_on(async {
        for (n, delivery) in events.chunks(DELIVERY).enumerate() {
            let records = delivery
                .iter()
                .enumerate()
                .map(|(i, e)| StreamRecord { sequence: format!("{n:010}{i:04}"), change: Change::Insert(e.clone()) })
                .collect();
            batches += archive.handle(records, chrono::Utc::now()).await.unwrap().batches;
        }
    });
    let archiving = started.elapsed();
    let per_event = |n: usize| n as f64 / EVENTS as f64;
    let (gets, writes) = (counts.gets.load(Ordering::Relaxed), counts.transaction_writes.load(Ordering::Relaxed));
    // us-east-1 on-demand list prices: $0.125 per million read request units (a strongly consistent read
    // of up to 4 KB is one), $0.625 per million write request units (a transactional write of up to 1 KB
    // is two), $0.005 per thousand S3 PUTs; the stream's reads by Lambda are free; Lambda time is left out.
    let dollars = gets as f64 * 0.125e-6 + writes as f64 * 2.0 * 0.625e-6 + batches as f64 * 0.005e-3;
    println!(
        "archiving {EVENTS} events ({:.0} bytes each as JSON) in deliveries of {DELIVERY}: {batches} batches; \
         per event {:.2} reads, {:.2} transactional writes, {:.3} bucket writes; about ${:.2} per million events \
         in requests; {:.0} events/s on the embedded store",
        bytes as f64 / EVENTS as f64,
        per_event(gets),
        per_event(writes),
        per_event(batches),
        dollars / EVENTS as f64 * 1e6,
        EVENTS as f64 / archiving.as_secs_f64()
    );

    let baseline = runtime.block_on(async {
        let started = Instant::now();
        let query = Query::new(Table::Audit, format!("CLINIC#{clinic}")).sk(SkRange::All).limit(1000);
        let seen = vellum::store::query_all(store.as_ref(), query).await.unwrap().len();
        assert_eq!(seen, EVENTS);
        started.elapsed()
    });
    let (verified, took) = runtime.block_on(async {
        let started = Instant::now();
        let found = verify(store.as_ref(), blobs.as_ref(), &clinic, Window::default(), Depth::Whole).await.unwrap();
        (found, started.elapsed())
    });
    assert!(verified.passed(), "{verified:?}");
    println!(
        "verifying the chain ({} batches, {} events): {:.0} events/s; {:.1}x the time of reading the events \
         from the table alone (the baseline, {:.0} events/s)",
        verified.batches,
        verified.archived_events,
        EVENTS as f64 / took.as_secs_f64(),
        took.as_secs_f64() / baseline.as_secs_f64(),
        EVENTS as f64 / baseline.as_secs_f64()
    );
}
