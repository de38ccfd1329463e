//! Online booking: a patient without an account holds a free time on the clinic's page, confirms it from
//! the link texted to them, and is matched to their record (or registered); the public routes show no one
//! else, say nothing about who is a patient, refuse bad input, and a hold that is not confirmed lets its
//! time go on the minute.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::messages::dispatch;
use vellum_tests::messages::RecordingMessenger;
use vellum_tests::{Backend, Clinic, MovableClock, Reply, TestApp, every_day, patient_body};

/// A clinic that books online at `/book/<slug>`: one practitioner ("Dr. Pat") working 09:00–17:00 every
/// day, a laser room, an online service with the medical history form, and a service for staff only.
struct Online {
    clinic: Clinic,
    slug: String,
    practitioner: String,
    online: String,
    staff_only: String,
}

async fn online_clinic(app: &TestApp) -> Online {
    let clinic = app.open_clinic("Glow Online").await;
    let admin = clinic.admin.clone();
    let slug = format!("glow-{}", ulid::Ulid::new().to_string().to_lowercase());
    let set = app.patch("/v1/clinic", &admin, "\"1\"", json!({"bookingSlug": slug})).await;
    assert_eq!(set.status, 200, "{set:?}");
    let (_, practitioner) = app.member(&clinic, Role::Practitioner).await;
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let hours =
        app.send("PUT", &format!("/v1/staff/{practitioner}/working-hours"), Some(&admin), Some(week), &[]).await;
    assert_eq!(hours.status, 200, "{hours:?}");
    app.templates(&clinic, &["medical-history"]).await;
    let room = app.post("/v1/resources", &admin, json!({"name": "Laser room", "kind": "room"})).await;
    let service = |name: &str, online: bool| {
        json!({"name": name, "durationMinutes": 60, "intervalMinutes": 60, "performedBy": {"role": "practitioner"},
               "resourceIds": [room.body["id"]], "bookableOnline": online, "formTemplateIds": ["medical-history"],
               "price": {"amount": "450.00", "currency": "USD"}})
    };
    let online = app.post("/v1/services", &admin, service("Laser facial", true)).await;
    let staff_only = app.post("/v1/services", &admin, service("Consultation", false)).await;
    assert_eq!((online.status, staff_only.status), (201, 201));
    Online {
        clinic,
        slug,
        practitioner,
        online: online.body["id"].as_str().unwrap().to_string(),
        staff_only: staff_only.body["id"].as_str().unwrap().to_string(),
    }
}

/// A public call: no token at all.
async fn public(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Reply {
    app.send(method, path, None, body, &[]).await
}

fn requester(given: &str, family: &str, start: &str, service: &str) -> Value {
    json!({"serviceId": service, "start": start, "givenName": given, "familyName": family,
           "birthDate": "1988-04-12", "sexAtBirth": "female", "phone": "+14155550123"})
}

/// Ten o'clock in Los Angeles `days` from now.
fn ten_am(days: i64) -> String {
    format!("{}T10:00:00-08:00", (Utc::now() + Duration::days(days)).format("%Y-%m-%d"))
}

async fn free_starts(app: &TestApp, o: &Online, service: &str, days: i64) -> Reply {
    let day = (Utc::now() + Duration::days(days)).format("%Y-%m-%d").to_string();
    let path = format!("/v1/booking/{}/availability?serviceId={service}&from={day}&to={day}", o.slug);
    public(app, "GET", &path, None).await
}

/// The link (its path containing `part`) in the latest text that greets `greeting`, once the dispatcher
/// has sent what is due.
async fn texted_link(app: &TestApp, messenger: &RecordingMessenger, greeting: &str, part: &str) -> String {
    dispatch::run(&app.app, messenger, app.app.clock.now() + Duration::seconds(1)).await.expect("dispatched");
    let sent = messenger.accepted();
    let text = &sent.iter().rev().find(|m| m.text.starts_with(greeting) && m.text.contains(part)).expect("a text").text;
    text.split_whitespace().find(|w| w.contains(part)).unwrap().to_string()
}

async fn a_patient_books_online_confirms_from_the_text_and_is_matched_to_their_record(app: TestApp) {
    let o = online_clinic(&app).await;
    let admin = o.clinic.admin.clone();
    let known = app.patient(&o.clinic, patient_body("Bea", "Quimby")).await;
    let known_id = known["id"].as_str().unwrap();
    // The page and what it offers: only the online service, and nobody's name.
    let page = app.client.get(format!("{}/book/{}", app.base, o.slug)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'sha256-"));
    let offer = public(&app, "GET", &format!("/v1/booking/{}", o.slug), None).await;
    assert_eq!(offer.status, 200, "{offer:?}");
    let names: Vec<&str> =
        offer.body["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Laser facial"]);
    let free = free_starts(&app, &o, &o.online, 3).await;
    assert_eq!(free.status, 200, "{free:?}");
    assert!(!free.body.to_string().contains(&o.practitioner), "a performer is named: {free:?}");
    assert!(free.body["items"].as_array().unwrap().iter().any(|i| i["start"] == ten_am(3)), "{free:?}");

    // The known patient holds ten o'clock, typed their own way; a stranger's answer looks the same.
    let messenger = RecordingMessenger::of(app.backend).await;
    let held = public(
        &app,
        "POST",
        &format!("/v1/booking/{}/holds", o.slug),
        Some(requester("bea", "QUIMBY", &ten_am(3), &o.online)),
    )
    .await;
    assert_eq!(held.status, 202, "{held:?}");
    let stranger = public(
        &app,
        "POST",
        &format!("/v1/booking/{}/holds", o.slug),
        Some(requester("Cy", "New", &ten_am(4), &o.online)),
    )
    .await;
    assert_eq!(stranger.status, 202, "{stranger:?}");
    let keys = |r: &Reply| r.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&held), keys(&stranger));
    // Held: the time is gone from the page and from the staff's calendar.
    assert!(
        !free_starts(&app, &o, &o.online, 3).await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["start"] == ten_am(3))
    );
    let staff_booking = json!({"patientId": known_id, "serviceId": o.staff_only, "start": ten_am(3)});
    assert_eq!(app.post("/v1/appointments", &admin, staff_booking).await.status, 409);

    // The text carries the link (and the time, not the service); opening it confirms.
    let link = texted_link(&app, &messenger, "Hello bea", "/book/confirm/").await;
    let sent = messenger.accepted();
    let text = sent.iter().find(|m| m.text.contains(&link)).unwrap();
    assert_eq!((text.channel, text.to.as_str()), (vellum::messages::Channel::Sms, "+14155550123"));
    assert!(text.text.starts_with("Hello bea") && !text.text.contains("Laser"), "{text:?}");
    let token = link.rsplit('/').next().unwrap();
    let confirm = format!("/v1/booking/confirmations/{token}");
    let confirmed = public(&app, "POST", &confirm, Some(json!({}))).await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert_eq!((confirmed.body["status"].as_str(), confirmed.body["forms"].as_bool()), (Some("confirmed"), Some(true)));
    assert_eq!(public(&app, "POST", &confirm, Some(json!({}))).await.status, 200, "confirming twice is harmless");

    // The appointment is the known patient's (no second record), on the staff's day list.
    let theirs = app.get(&format!("/v1/patients/{known_id}/appointments"), &admin).await;
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 1, "{theirs:?}");
    assert_eq!(theirs.body["items"][0]["status"], "booked");
    let patients = app.get("/v1/patients?limit=100", &admin).await;
    assert_eq!(patients.body["items"].as_array().unwrap().len(), 1, "{patients:?}");
    // The confirmation text carries the forms' link.
    let forms = texted_link(&app, &messenger, "Hello Bea", "/intake/").await;
    assert!(forms.starts_with(&app.base), "{forms}");

    // The stranger confirms too: a new patient, registered from what they typed.
    let link = texted_link(&app, &messenger, "Hello Cy", "/book/confirm/").await;
    let token = link.rsplit('/').next().unwrap();
    let confirmed = public(&app, "POST", &format!("/v1/booking/confirmations/{token}"), Some(json!({}))).await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    let patients = app.get("/v1/patients?limit=100", &admin).await;
    let family: Vec<&str> =
        patients.body["items"].as_array().unwrap().iter().map(|p| p["familyName"].as_str().unwrap()).collect();
    assert!(family.contains(&"New") && family.len() == 2, "{family:?}");
}

async fn public_booking_refuses_bad_input_and_unknown_addresses_alike(app: TestApp) {
    let o = online_clinic(&app).await;
    let holds = format!("/v1/booking/{}/holds", o.slug);
    for path in [
        "/v1/booking/nobody-here",
        "/v1/booking/nobody-here/availability?serviceId=01J00000000000000000000000&from=2027-01-01&to=2027-01-01",
    ] {
        assert_eq!(public(&app, "GET", path, None).await.status, 404, "{path}");
    }
    assert_eq!(
        public(&app, "POST", "/v1/booking/nobody-here/holds", Some(requester("A", "B", &ten_am(3), &o.online)))
            .await
            .status,
        404
    );
    assert_eq!(app.client.get(format!("{}/book/Not_A_Slug", app.base)).send().await.unwrap().status(), 404);
    // A staff-only service is not offered and cannot be held.
    assert_eq!(free_starts(&app, &o, &o.staff_only, 3).await.status, 404);
    let refused = public(&app, "POST", &holds, Some(requester("A", "B", &ten_am(3), &o.staff_only))).await;
    assert_eq!((refused.status, refused.error_fields()), (404, vec!["serviceId".to_string()]), "{refused:?}");
    // Missing details or a bad phone: 400; a start off the hour, in the past, or beyond the horizon: 409.
    let mut body = requester("A", "B", &ten_am(3), &o.online);
    body.as_object_mut().unwrap().remove("birthDate");
    body["phone"] = json!("555-0100");
    let refused = public(&app, "POST", &holds, Some(body)).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    let mut fields = refused.error_fields();
    fields.sort();
    assert_eq!(fields, ["birthDate", "phone"]);
    for start in [ten_am(3).replace("10:00:00", "10:30:00"), ten_am(-1), ten_am(200)] {
        let refused = public(&app, "POST", &holds, Some(requester("A", "B", &start, &o.online))).await;
        assert_eq!((refused.status, refused.error_fields()), (409, vec!["start".to_string()]), "{start}: {refused:?}");
    }
    let day = (Utc::now() + Duration::days(3)).format("%Y-%m-%d").to_string();
    let too_long = format!("/v1/booking/{}/availability?serviceId={}&from={day}&to=2099-01-01", o.slug, o.online);
    assert_eq!(public(&app, "GET", &too_long, None).await.status, 422);
    // Links that are not links.
    for token in ["short", &"A".repeat(43)] {
        let reply = public(&app, "POST", &format!("/v1/booking/confirmations/{token}"), Some(json!({}))).await;
        assert_eq!(reply.status, 404, "{token}");
    }
    // Stopping online booking takes the page down.
    let clinic = app.get("/v1/clinic", &o.clinic.admin).await;
    let etag = clinic.header("etag").unwrap().to_string();
    assert_eq!(app.patch("/v1/clinic", &o.clinic.admin, &etag, json!({"bookingSlug": null})).await.status, 200);
    assert_eq!(public(&app, "GET", &format!("/v1/booking/{}", o.slug), None).await.status, 404);
}

on_both_backends!(
    a_patient_books_online_confirms_from_the_text_and_is_matched_to_their_record,
    public_booking_refuses_bad_input_and_unknown_addresses_alike,
);

/// A hold not confirmed in its 15 minutes holds nothing: the time is free again at once, someone else
/// may hold it, and the stale link says to book again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_not_confirmed_in_time_lets_its_time_go() {
    let clock = Arc::new(MovableClock::default());
    let (app, _) = TestApp::spawn_with(Backend::Embedded, |a| a.with_clock(clock.clone())).await;
    let o = online_clinic(&app).await;
    let holds = format!("/v1/booking/{}/holds", o.slug);
    let messenger = RecordingMessenger::of(Backend::Embedded).await;
    assert_eq!(public(&app, "POST", &holds, Some(requester("Ann", "First", &ten_am(3), &o.online))).await.status, 202);
    let first = texted_link(&app, &messenger, "Hello Ann", "/book/confirm/").await;
    let taken = public(&app, "POST", &holds, Some(requester("Bo", "Second", &ten_am(3), &o.online))).await;
    assert_eq!(taken.status, 409, "{taken:?}");
    clock.set(Duration::minutes(15) + Duration::seconds(1));
    let free = free_starts(&app, &o, &o.online, 3).await;
    assert!(free.body["items"].as_array().unwrap().iter().any(|i| i["start"] == ten_am(3)), "{free:?}");
    assert_eq!(public(&app, "POST", &holds, Some(requester("Bo", "Second", &ten_am(3), &o.online))).await.status, 202);
    let token = first.rsplit('/').next().unwrap();
    let late = public(&app, "POST", &format!("/v1/booking/confirmations/{token}"), Some(json!({}))).await;
    assert_eq!(late.status, 410, "{late:?}");
}

/// One clinic takes at most 30 holds a minute from everyone together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_takes_a_bounded_number_of_holds_a_minute() {
    // A clock that stands still: the 31 holds fall in one minute, however long they take.
    let clock = Arc::new(vellum::ids::FixedClock(Utc::now()));
    let (app, _) = TestApp::spawn_with(Backend::Embedded, |a| a.with_clock(clock)).await;
    let o = online_clinic(&app).await;
    let holds = format!("/v1/booking/{}/holds", o.slug);
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(public(&app, "POST", &holds, Some(requester("Ann", "Many", &ten_am(3), &o.online))).await.status);
    }
    assert_eq!(statuses[0], 202);
    assert!(statuses[1..30].iter().all(|s| *s == 409), "{statuses:?}");
    assert_eq!(statuses[30], 429);
}
