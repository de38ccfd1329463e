//! Booking throughput under contention, in release mode, over the local server on the embedded store.
//! Contended: 16 clients at once each book 9 different 5-minute starts of one practitioner's one day, so
//! every booking writes the same claims item and most commits find it moved and decide again. Baseline,
//! in the same run: the same 16 clients, each on a practitioner of its own (no two requests touch one
//! item). Run with `cargo bench -p vellum-tests --bench booking_contention`; it prints bookings a second
//! for both and their ratio, and asserts only that nothing was booked twice.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Backend, Clinic, TestApp, every_day, patient_body};

const CLIENTS: usize = 16;
/// Bookings each client makes (16 x 9 = the 144 five-minute starts of a 12-hour day).
const ATTEMPTS: usize = 9;

struct Calendar {
    service: String,
    /// The day's starts (every 5 minutes from 08:00 to 19:55, local).
    starts: Vec<String>,
}

async fn calendar(app: &TestApp, clinic: &Clinic, day: i64) -> Calendar {
    let (_, user) = app.member(clinic, Role::Practitioner).await;
    let week = every_day(json!([{"start": "08:00", "end": "20:00"}]));
    let set = app.send("PUT", &format!("/v1/staff/{user}/working-hours"), Some(&clinic.admin), Some(week), &[]).await;
    assert_eq!(set.status, 200, "{set:?}");
    let service =
        json!({"name": "Check", "durationMinutes": 5, "intervalMinutes": 5, "performedBy": {"staff": [user]}});
    let service = app.post("/v1/services", &clinic.admin, service).await;
    let date = (Utc::now() + Duration::days(day)).format("%Y-%m-%d").to_string();
    let starts = (0..144).map(|i| format!("{date}T{:02}:{:02}:00-08:00", 8 + i / 12, (i % 12) * 5)).collect();
    Calendar { service: service.body["id"].as_str().unwrap().to_string(), starts }
}

/// Each client books `ATTEMPTS` starts of its calendar (client `c` the starts `c`, `c + 16`, …, so no two
/// clients want one start); answers (bookings made, refusals, seconds taken).
async fn run(app: Arc<TestApp>, clinic: &Clinic, patient: &str, calendars: Vec<Arc<Calendar>>) -> (usize, usize, f64) {
    let began = Instant::now();
    let mut clients = Vec::new();
    for (client, calendar) in calendars.into_iter().enumerate() {
        let (app, token, patient) = (app.clone(), clinic.admin.clone(), patient.to_string());
        clients.push(tokio::spawn(async move {
            let (mut made, mut refused) = (0, 0);
            for attempt in 0..ATTEMPTS {
                let start = &calendar.starts[client + attempt * CLIENTS];
                let body = json!({"patientId": patient, "serviceId": calendar.service, "start": start});
                match app.post("/v1/appointments", &token, body).await.status {
                    201 => made += 1,
                    409 => refused += 1,
                    other => panic!("a booking answered {other}"),
                }
            }
            (made, refused)
        }));
    }
    let (mut made, mut refused) = (0, 0);
    for client in clients {
        let (m, r) = client.await.unwrap();
        made += m;
        refused += r;
    }
    (made, refused, began.elapsed().as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = Arc::new(TestApp::spawn(Backend::Embedded).await);
    let clinic = app.open_clinic("Contention").await;
    let patient: Value = app.patient(&clinic, patient_body("Con", "Tention")).await;
    let patient = patient["id"].as_str().unwrap().to_string();
    // Baseline: every client on a practitioner of its own.
    let mut own = Vec::new();
    for client in 0..CLIENTS {
        own.push(Arc::new(calendar(&app, &clinic, 3 + client as i64).await));
    }
    let (base_made, base_refused, base_seconds) = run(app.clone(), &clinic, &patient, own).await;
    // Contended: every client on one practitioner's one day.
    let shared = Arc::new(calendar(&app, &clinic, 40).await);
    let (made, refused, seconds) = run(app.clone(), &clinic, &patient, vec![shared.clone(); CLIENTS]).await;
    let day = &shared.starts[0][..10];
    let mut booked: Vec<String> = Vec::new();
    let mut cursor = String::new();
    loop {
        let list = app.get(&format!("/v1/appointments?from={day}&to={day}&limit=100{cursor}"), &clinic.admin).await;
        let items = list.body["items"].as_array().unwrap_or_else(|| panic!("{list:?}"));
        booked.extend(items.iter().map(|a| a["start"].as_str().unwrap().to_string()));
        match list.body["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let listed = booked.len();
    booked.dedup();
    assert_eq!((listed, booked.len()), (made, made), "a start was booked twice");
    println!("booking throughput, {CLIENTS} concurrent clients x {ATTEMPTS} bookings (embedded store, release build)");
    println!(
        "  baseline, a calendar each:      {:7.1} bookings/s ({base_made} booked, {base_refused} refused)",
        base_made as f64 / base_seconds
    );
    println!(
        "  contended, one calendar's day:  {:7.1} bookings/s ({made} booked, {refused} refused after deciding again {} times)",
        made as f64 / seconds,
        vellum::http::pipeline::DECISIONS
    );
    println!("  contended / baseline:           {:.2}x", (made as f64 / seconds) / (base_made as f64 / base_seconds));
}
