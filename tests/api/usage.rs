//! Usage: every billable call counted once from the audit stream, however often the stream delivers it
//! (again, three times, or after a delivery that stopped half-way), and read back as the clinic's ledger.

use chrono::Utc;
use serde_json::{Value, json};
use vellum::archive::{Change, StreamRecord};
use vellum::domain::role::Role;
use vellum::metering::meter::meter;
use vellum::store::{Query, SkRange, Table, query_all};
use vellum_tests::{Clinic, TestApp, patient_body};

/// The clinic's audit events as the table's stream would deliver them: one insert each, in order.
async fn stream_of(app: &TestApp, clinic: &Clinic) -> Vec<StreamRecord> {
    let query = Query::new(Table::Audit, format!("CLINIC#{}", clinic.id)).sk(SkRange::All);
    let items = query_all(app.records.as_ref(), query).await.expect("the trail");
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| StreamRecord { sequence: format!("{i:020}"), change: Change::Insert(item) })
        .collect()
}

fn line<'a>(ledger: &'a Value, unit: &str) -> Option<&'a Value> {
    ledger["lines"].as_array().unwrap().iter().find(|l| l["unit"] == unit)
}

async fn every_billable_call_is_counted_once_however_often_the_stream_delivers_it(app: TestApp) {
    let clinic = app.open_clinic("Metered").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Meter")).await;
    let path = format!("/v1/patients/{}", patient["id"].as_str().unwrap());
    for _ in 0..45 {
        assert_eq!(app.get(&path, &clinic.admin).await.status, 200);
    }
    assert_eq!(app.get("/v1/patients?limit=10", &clinic.admin).await.status, 200);
    let (billing, _) = app.member(&clinic, Role::Billing).await;
    assert_eq!(app.post("/v1/patients", &billing, patient_body("No", "Access")).await.status, 403);
    let stream = stream_of(&app, &clinic).await;
    let now = Utc::now();
    // A delivery that stopped half-way (its first transactions committed), then the whole one again, then
    // three more times: the totals are those of one delivery.
    let first = meter(app.records.as_ref(), &stream[..30], now).await.expect("metered");
    assert!(first.counted > 0, "{first:?}");
    let whole = meter(app.records.as_ref(), &stream, now).await.expect("metered");
    assert_eq!(whole.duplicates, first.counted, "{whole:?}");
    let ledger = || async { app.get("/v1/usage", &billing).await };
    let once = ledger().await;
    assert_eq!(once.status, 200, "{once:?}");
    for _ in 0..3 {
        let again = meter(app.records.as_ref(), &stream, now).await.expect("metered");
        assert_eq!(again.counted, 0, "{again:?}");
    }
    let after = ledger().await;
    assert_eq!(after.body["lines"], once.body["lines"]);
    let body = &after.body;
    assert_eq!(line(body, "record-read").unwrap()["count"], 45, "{body}");
    assert_eq!(line(body, "search-page").unwrap()["count"], 1, "{body}");
    // The patient's registration, the clinic's own set-up writes (the staff invitation) count as writes.
    assert!(line(body, "record-write").unwrap()["count"].as_u64().unwrap() >= 1, "{body}");
    let refused = line(body, "refused-call").unwrap();
    assert_eq!((refused["count"].as_u64(), refused["amountUsd"].as_str()), (Some(1), Some("0.000000")), "{body}");
    assert_eq!(line(body, "record-read").unwrap()["amountUsd"], "0.000900");
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(body["daily"][0]["date"], today.as_str());
}

async fn the_ledger_is_the_clinics_own_and_its_month_is_checked(app: TestApp) {
    let clinic = app.open_clinic("Ledger").await;
    let other = app.open_clinic("Other").await;
    let stream = stream_of(&app, &other).await;
    meter(app.records.as_ref(), &stream, Utc::now()).await.expect("metered");
    // Another clinic's use is not in this clinic's ledger.
    let mine = app.get("/v1/usage", &clinic.admin).await;
    assert_eq!((mine.status, mine.body["lines"].clone()), (200, json!([])), "{mine:?}");
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    assert_eq!(app.get("/v1/usage", &nurse).await.status, 403);
    assert_eq!(app.get("/v1/usage?month=2026-13", &clinic.admin).await.status, 400);
    assert_eq!(app.get("/v1/usage?month=December", &clinic.admin).await.status, 400);
    assert_eq!(app.get("/v1/usage?month=2999-01", &clinic.admin).await.status, 422);
    let past = app.get("/v1/usage?month=2025-01", &clinic.admin).await;
    assert_eq!((past.status, past.body["month"].as_str()), (200, Some("2025-01")));
}

on_both_backends!(
    every_billable_call_is_counted_once_however_often_the_stream_delivers_it,
    the_ledger_is_the_clinics_own_and_its_month_is_checked,
);
