//! The cost of one request through the whole pipeline in-process, in µs: identity from the request context,
//! the role table, the membership read, the clinic's quota, the handler and the audit event, on the
//! in-memory records adapter. Measured beside a baseline in the same run: an empty handler behind the same
//! router, driven the same way, which is what the HTTP framework alone costs.
//!
//! `cargo bench -p vellum-tests --bench pipeline` (criterion; `-- --quick` for a short run).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use http::Request;
use serde_json::Value;
use tower::ServiceExt;
use vellum::app::App;
use vellum::domain::values::EntityId;
use vellum::http::pipeline;
use vellum::http::routes::SERVED;
use vellum::metering::plan::Plan;
use vellum::store::memory::MemoryRecords;
use vellum::store::{Cond, Records, Table, Write};
use vellum_tests::samples::{self, PATIENT};

/// The sample event `case` of `function`, with its idempotency key replaced by `key` when given.
fn event(function: &str, case: &str, key: Option<&str>) -> String {
    let mut event: Value = serde_json::from_str(&samples::read(function, case)).expect("a sample event");
    if let Some(key) = key {
        event["headers"]["idempotency-key"] = Value::String(key.to_string());
    }
    event.to_string()
}

fn request(event: &str) -> Request<lambda_http::Body> {
    lambda_http::request::from_str(event).expect("a valid API Gateway v2 event")
}

/// The sample clinic in memory, with its patient and `entries` treatments charted.
async fn clinic(entries: usize) -> (Router, tempfile::TempDir) {
    let records = Arc::new(MemoryRecords::new());
    let dir = tempfile::tempdir().expect("temp dir");
    let (photos, _) = vellum::host::config::embedded_photos_in(dir.path(), "http://127.0.0.1:9").expect("photo ports");
    samples::open_sample_clinic(records.clone(), photos.clone()).await;
    let (status, _) =
        samples::invoke(records.clone(), photos.clone(), "patients-create", "success", Some(PATIENT)).await;
    assert_eq!(status, 201);
    // The clinic's burst quota is counted on every metered call but never reached: what is measured is the
    // cost of a call, not the quota's answer.
    let clinic = EntityId::parse(samples::CLINIC).expect("an id");
    let plan = Plan { burst_units_per_minute: u32::MAX, version: 1, ..Plan::list() };
    records.transact(vec![Write::put(Table::Records, plan.to_item(clinic), Cond::NotExists)]).await.expect("the plan");
    let app = Arc::new(App::new(records, samples::deployment_key()).with_photos(photos));
    let router = pipeline::router(app, SERVED.iter());
    for n in 0..entries {
        let charted = router.clone().oneshot(request(&event("chart-entry-create", "success", Some(&format!("t{n}")))));
        assert_eq!(charted.await.expect("infallible").status(), 201);
    }
    (router, dir)
}

/// Measures `router` answering the requests `next` makes (made outside the timing), each with `status`.
fn measure(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    router: &Router,
    mut next: impl FnMut() -> Request<lambda_http::Body>,
    status: u16,
) {
    group.bench_function(name, |b| {
        b.to_async(runtime).iter_batched(
            &mut next,
            |req| {
                let router = router.clone();
                async move {
                    let answer = router.oneshot(req).await.expect("infallible");
                    assert_eq!(answer.status(), status);
                }
            },
            BatchSize::SmallInput,
        )
    });
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (router, _dir) = runtime.block_on(clinic(100));
    let empty = Router::new().route("/v1/patients/{patientId}", axum::routing::get(|| async { "" }));
    let read = event("patients-get", "success", None);
    let summary = event("chart-summary", "success", None);
    let mut group = c.benchmark_group("pipeline");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    measure(&mut group, &runtime, "baseline: an empty handler behind the router", &empty, || request(&read), 200);
    measure(&mut group, &runtime, "audited patient read", &router, || request(&read), 200);
    measure(&mut group, &runtime, "audited chart summary of 100 entries", &router, || request(&summary), 200);
    let mut created = 0u64;
    let create = || {
        created += 1;
        request(&event("patients-create", "success", Some(&format!("bench-{created}"))))
    };
    measure(&mut group, &runtime, "audited patient create", &router, create, 201);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
