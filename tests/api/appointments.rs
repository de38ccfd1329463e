//! Appointments: a booking claims the performer's and the room's time in its own transaction, so two
//! bookings that overlap can never both commit, however they race; a refusal names the next free starts;
//! a cancel releases exactly its claims.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::store::{Query, SkRange, Table};
use vellum_tests::{Backend, Clinic, TestApp, every_day, patient_body, treatment_body};

/// A clinic in Los Angeles with two practitioners working 09:00–17:00 every day, one laser room, and a
/// 60-minute laser service (15 minutes to clean up after) on 30-minute steps.
struct Setup {
    clinic: Clinic,
    /// The first practitioner's token.
    practitioner: String,
    first: String,
    second: String,
    room: String,
    service: String,
    patient: String,
}

async fn setup(app: &TestApp) -> Setup {
    let clinic = app.open_clinic("Bookings").await;
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let (mut staff, mut tokens) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let (token, user) = app.member(&clinic, Role::Practitioner).await;
        tokens.push(token);
        let path = format!("/v1/staff/{user}/working-hours");
        let set = app.send("PUT", &path, Some(&clinic.admin), Some(week.clone()), &[]).await;
        assert_eq!(set.status, 200, "{set:?}");
        staff.push(user);
    }
    let room = app.post("/v1/resources", &clinic.admin, json!({"name": "Laser room", "kind": "room"})).await;
    let room = room.body["id"].as_str().unwrap().to_string();
    let service = json!({"name": "Laser", "durationMinutes": 60, "bufferAfterMinutes": 15, "intervalMinutes": 30,
                         "performedBy": {"role": "practitioner"}, "resourceIds": [room]});
    let service = app.post("/v1/services", &clinic.admin, service).await;
    assert_eq!(service.status, 201, "{service:?}");
    let patient = app.patient(&clinic, patient_body("Bea", "Booked")).await;
    Setup {
        practitioner: tokens[0].clone(),
        first: staff[0].clone(),
        second: staff[1].clone(),
        room,
        service: service.body["id"].as_str().unwrap().to_string(),
        patient: patient["id"].as_str().unwrap().to_string(),
        clinic,
    }
}

fn booking(setup: &Setup, start: &str) -> Value {
    json!({"patientId": setup.patient, "serviceId": setup.service, "start": start})
}

const MONDAY: &str = "2027-01-11";

fn at(time: &str) -> String {
    format!("{MONDAY}T{time}:00-08:00")
}

/// Every block in a calendar's claims, by the appointment that holds it.
async fn claimed(app: &TestApp, partition: String) -> Vec<String> {
    let query = Query::new(Table::Records, partition).sk(SkRange::All).limit(100);
    let items = vellum::store::query_all(app.records.as_ref(), query).await.unwrap();
    items
        .iter()
        .flat_map(|day| day["blocks"].as_array().cloned().unwrap_or_default())
        .map(|b| b["appointmentId"].as_str().unwrap().to_string())
        .collect()
}

async fn a_booking_holds_its_time_and_rooms_and_a_cancel_releases_exactly_it(app: TestApp) {
    let s = setup(&app).await;
    let admin = &s.clinic.admin;
    let first = app.post("/v1/appointments", admin, booking(&s, &at("10:00"))).await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.body["heldUntil"], "2027-01-11T19:15:00Z");
    assert_eq!(first.body["staffId"], s.first.as_str());
    let appointment = first.header("location").unwrap().to_string();

    // The same time, an overlapping one, and the same time with the other practitioner (the room is held).
    for (body, what) in [
        (booking(&s, &at("10:00")), "the same start"),
        (booking(&s, &at("10:30")), "an overlap"),
        (
            json!({"patientId": s.patient, "serviceId": s.service, "start": at("10:00"), "staffId": s.second}),
            "the room",
        ),
    ] {
        let refused = app.post("/v1/appointments", admin, body).await;
        assert_eq!(refused.status, 409, "{what}: {refused:?}");
        assert_eq!(refused.body["type"], "urn:vellum:problem:time-taken");
        assert_eq!(refused.body["nextFree"][0], at("11:30"), "{what}: the buffer ends 11:15; next step 11:30");
    }
    // Touching the buffer's end is fine.
    let next = app.post("/v1/appointments", admin, booking(&s, &at("11:30"))).await;
    assert_eq!(next.status, 201, "{next:?}");
    let free = app.get(&format!("/v1/availability?serviceId={}&from={MONDAY}&to={MONDAY}", s.service), admin).await;
    let starts: Vec<&str> =
        free.body["items"].as_array().unwrap().iter().map(|i| i["start"].as_str().unwrap()).collect();
    // 09:00 would run into the room's 10:00 claim with its cleaning; the room is held until 12:45.
    assert_eq!(starts.first().copied(), Some("2027-01-11T13:00:00-08:00"), "{starts:?}");

    // Cancelling releases the time, and only its own claim.
    let cancel = |version: &'static str| {
        let (app, admin, path) = (&app, admin.clone(), format!("{appointment}/cancel"));
        async move { app.send("POST", &path, Some(&admin), Some(json!({"reason": "Ill"})), &[("if-match", version)]).await }
    };
    assert_eq!(cancel("\"9\"").await.status, 412);
    let cancelled = cancel("\"1\"").await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(
        (cancelled.body["status"].clone(), cancelled.body["cancellation"]["late"].clone()),
        (json!("cancelled"), json!(false))
    );
    assert_eq!(cancel("\"2\"").await.status, 409);
    let clinic_id = s.clinic.id.parse().map(vellum::domain::values::EntityId).unwrap();
    let room = vellum::domain::scheduling::claims::Claimant::Resource(
        s.room.parse().map(vellum::domain::values::EntityId).unwrap(),
    );
    let live = [next.body["id"].as_str().unwrap().to_string()];
    assert_eq!(claimed(&app, room.partition(clinic_id)).await, live);
    assert_eq!(claimed(&app, staff_claims(&s, &s.first)).await, live, "no orphaned claim");
    let rebooked = app.post("/v1/appointments", admin, booking(&s, &at("10:00"))).await;
    assert_eq!(rebooked.status, 201, "the released time is free again: {rebooked:?}");

    // The day's list, a performer's, and the patient's (whose access log shows the bookings).
    let day = app.get(&format!("/v1/appointments?from={MONDAY}&to={MONDAY}"), admin).await;
    let listed: Vec<&str> =
        day.body["items"].as_array().unwrap().iter().map(|a| a["start"].as_str().unwrap()).collect();
    assert_eq!(
        listed,
        ["2027-01-11T18:00:00Z", "2027-01-11T18:00:00Z", "2027-01-11T19:30:00Z"],
        "by start, the cancelled kept"
    );
    let theirs = app.get(&format!("/v1/appointments?from={MONDAY}&to={MONDAY}&staffId={}", s.second), admin).await;
    assert_eq!(theirs.body["items"], json!([]));
    let patients = app.get(&format!("/v1/patients/{}/appointments", s.patient), admin).await;
    assert_eq!(patients.body["items"].as_array().unwrap().len(), 3);
    let log = app.get(&format!("/v1/patients/{}/access-log?limit=100", s.patient), admin).await;
    let names: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert!(names.contains(&"appointments.book") && names.contains(&"appointments.cancel"), "{names:?}");
    assert!(names.contains(&"patients.appointments") && names.contains(&"appointments.list"), "{names:?}");
}

async fn a_booking_that_breaks_a_rule_is_refused(app: TestApp) {
    let s = setup(&app).await;
    let (billing, _) = app.member(&s.clinic, Role::Billing).await;
    let (front_desk, _) = app.member(&s.clinic, Role::FrontDesk).await;
    assert_eq!(app.post("/v1/appointments", &billing, booking(&s, &at("10:00"))).await.status, 403);
    for (body, status, field) in [
        (booking(&s, &at("10:15")), 409, "start"),
        (booking(&s, &at("20:00")), 409, "start"),
        (booking(&s, "2020-01-06T10:00:00-08:00"), 409, "start"),
        (booking(&s, "2030-01-07T10:00:00-08:00"), 409, "start"),
        (booking(&s, "next monday"), 400, "start"),
        (
            json!({"patientId": "01JD0000000000000000000000", "serviceId": s.service, "start": at("10:00")}),
            404,
            "patientId",
        ),
        (
            json!({"patientId": s.patient, "serviceId": "01JD0000000000000000000000", "start": at("10:00")}),
            404,
            "serviceId",
        ),
        (
            json!({"patientId": s.patient, "serviceId": s.service, "start": at("10:00"), "staffId": "nobody"}),
            409,
            "staffId",
        ),
    ] {
        let reply = app.post("/v1/appointments", &front_desk, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {reply:?}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let other = app.open_clinic("Elsewhere").await;
    let booked = app.post("/v1/appointments", &front_desk, booking(&s, &at("10:00"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let path = booked.header("location").unwrap();
    assert_eq!(app.get(path, &other.admin).await.status, 404);
    let foreign = app.post("/v1/appointments", &other.admin, booking(&s, &at("11:30"))).await;
    assert_eq!(foreign.status, 404, "another clinic's patient and service: {foreign:?}");
}

async fn fifty_racing_bookings_of_one_time_leave_exactly_one(app: TestApp) {
    let s = setup(&app).await;
    let app = std::sync::Arc::new(app);
    // Every request asks for the first practitioner, at 10:00 or at the overlapping 10:30.
    let requests = (0..50).map(|i| {
        let (app, admin) = (app.clone(), s.clinic.admin.clone());
        let start = if i % 2 == 0 { at("10:00") } else { at("10:30") };
        let body = json!({"patientId": s.patient, "serviceId": s.service, "start": start, "staffId": s.first});
        tokio::spawn(async move { app.post("/v1/appointments", &admin, body).await })
    });
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }
    let won: Vec<&vellum_tests::Reply> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for lost in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(lost.status, 409, "{lost:?}");
        assert!(lost.body["nextFree"].as_array().is_some_and(|n| !n.is_empty()), "{lost:?}");
    }
    assert_eq!(claimed(&app, staff_claims(&s, &s.first)).await, [won[0].body["id"].as_str().unwrap()]);
    let day = app.get(&format!("/v1/appointments?from={MONDAY}&to={MONDAY}"), &s.clinic.admin).await;
    assert_eq!(day.body["items"].as_array().unwrap().len(), 1);
}

/// The blocks in a calendar's claims, as (appointment, start).
async fn blocks(app: &TestApp, partition: String) -> Vec<(String, String)> {
    let query = Query::new(Table::Records, partition).sk(SkRange::All).limit(100);
    let items = vellum::store::query_all(app.records.as_ref(), query).await.unwrap();
    items
        .iter()
        .flat_map(|day| day["blocks"].as_array().cloned().unwrap_or_default())
        .map(|b| (b["appointmentId"].as_str().unwrap().to_string(), b["start"].as_str().unwrap().to_string()))
        .collect()
}

fn staff_claims(s: &Setup, user: &str) -> String {
    let clinic = s.clinic.id.parse().map(vellum::domain::values::EntityId).unwrap();
    let ctx = vellum::domain::fields::Context::timeless();
    let user = <vellum::domain::values::UserId as vellum::domain::fields::ParseStr>::parse_str(user, &ctx).unwrap();
    vellum::domain::scheduling::claims::Claimant::Staff(user).partition(clinic)
}

async fn a_move_claims_the_new_time_releases_the_old_and_the_status_walks_on(app: TestApp) {
    let s = setup(&app).await;
    let admin = &s.clinic.admin;
    let booked = app.post("/v1/appointments", admin, booking(&s, &at("10:00"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let (id, path) = (booked.body["id"].as_str().unwrap().to_string(), booked.header("location").unwrap().to_string());
    let step = |what: &str, body: Value, version: &str| {
        let (app, admin, path, version) = (&app, admin.clone(), format!("{path}/{what}"), version.to_string());
        async move { app.send("POST", &path, Some(&admin), Some(body), &[("if-match", &version)]).await }
    };
    // Half an hour later, overlapping its own old time: the one claim moves.
    let moved = step("reschedule", json!({"start": at("10:30")}), "\"1\"").await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(moved.body["moves"][0]["start"], "2027-01-11T18:00:00Z");
    assert_eq!(blocks(&app, staff_claims(&s, &s.first)).await, [(id.clone(), "2027-01-11T18:30:00Z".to_string())]);
    // To the other practitioner: the first is released, the second claimed, the room still held.
    let handed = step("reschedule", json!({"start": at("10:30"), "staffId": s.second}), "\"2\"").await;
    assert_eq!((handed.status, handed.body["staffId"].clone()), (200, json!(s.second)), "{handed:?}");
    assert!(blocks(&app, staff_claims(&s, &s.first)).await.is_empty(), "no orphaned claim");
    assert_eq!(blocks(&app, staff_claims(&s, &s.second)).await.len(), 1);
    assert_eq!(step("reschedule", json!({"start": at("11:00")}), "\"2\"").await.status, 412);
    let rival = app.post("/v1/appointments", admin, booking(&s, &at("13:00"))).await;
    assert_eq!(rival.status, 201);
    let taken = step("reschedule", json!({"start": at("13:30")}), "\"3\"").await;
    assert_eq!((taken.status, taken.body["type"].clone()), (409, json!("urn:vellum:problem:time-taken")), "{taken:?}");

    // The status walk, one step at a time, and a completed appointment names its treatments.
    let treatment = app
        .post(
            &format!("/v1/patients/{}/treatments", s.patient),
            &s.practitioner,
            treatment_body("AB-1234", "2099-01-31"),
        )
        .await;
    assert_eq!(treatment.status, 201, "{treatment:?}");
    let treatment = treatment.body["id"].as_str().unwrap();
    assert_eq!(step("status", json!({"status": "confirmed"}), "\"3\"").await.status, 200);
    assert_eq!(step("status", json!({"status": "completed"}), "\"4\"").await.status, 409, "no skipping ahead");
    assert_eq!(step("status", json!({"status": "cancelled"}), "\"4\"").await.status, 422);
    assert_eq!(step("status", json!({"status": "arrived"}), "\"4\"").await.status, 200);
    assert_eq!(step("reschedule", json!({"start": at("15:00")}), "\"5\"").await.status, 409, "arrived: not movable");
    assert_eq!(step("status", json!({"status": "in-treatment"}), "\"5\"").await.status, 200);
    let unknown =
        step("status", json!({"status": "completed", "treatmentIds": ["01JD0000000000000000000000"]}), "\"6\"").await;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    let done = step("status", json!({"status": "completed", "treatmentIds": [treatment]}), "\"6\"").await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["treatmentIds"], json!([treatment]));
    let walked: Vec<&str> =
        done.body["statusChanges"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(walked, ["confirmed", "arrived", "in-treatment", "completed"]);
    let rival_path = format!("/v1/appointments/{}/status", rival.body["id"].as_str().unwrap());
    let no_show =
        app.send("POST", &rival_path, Some(admin), Some(json!({"status": "no-show"})), &[("if-match", "\"1\"")]).await;
    assert_eq!(no_show.status, 200, "{no_show:?}");
}

async fn a_cancel_inside_the_clinics_window_is_late(app: TestApp) {
    let s = setup(&app).await;
    let admin = &s.clinic.admin;
    let (nurse, _) = app.member(&s.clinic, Role::Nurse).await;
    // The clinic changes its window (and only what it may change), on its version.
    let week = json!({"cancellationWindowHours": 168});
    assert_eq!(app.patch("/v1/clinic", &nurse, "\"1\"", week.clone()).await.status, 403);
    assert_eq!(app.send("PATCH", "/v1/clinic", Some(admin), Some(week.clone()), &[]).await.status, 428);
    assert_eq!(app.patch("/v1/clinic", admin, "\"1\"", json!({"cancellationWindowHours": 169})).await.status, 422);
    assert_eq!(app.patch("/v1/clinic", admin, "\"1\"", json!({"timeZone": "Europe/Paris"})).await.status, 400);
    let changed = app.patch("/v1/clinic", admin, "\"1\"", week.clone()).await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(
        (changed.body["cancellationWindowHours"].clone(), changed.body["version"].clone()),
        (json!(168), json!(2))
    );
    assert_eq!(app.patch("/v1/clinic", admin, "\"1\"", week).await.status, 412);
    assert_eq!(app.get("/v1/clinic", &nurse).await.body["cancellationWindowHours"], 168);

    // An appointment two days out is inside a week's window; one in January is not.
    let soon = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    let near = app.post("/v1/appointments", admin, booking(&s, &format!("{soon}T10:00:00-08:00"))).await;
    assert_eq!(near.status, 201, "{near:?}");
    let far = app.post("/v1/appointments", admin, booking(&s, &at("10:00"))).await;
    assert_eq!(far.status, 201, "{far:?}");
    for (booked, late) in [(&near, true), (&far, false)] {
        let path = format!("{}/cancel", booked.header("location").unwrap());
        let cancelled =
            app.send("POST", &path, Some(admin), Some(json!({"reason": "Ill"})), &[("if-match", "\"1\"")]).await;
        assert_eq!(cancelled.body["cancellation"]["late"], late, "{cancelled:?}");
    }
}

on_both_backends!(
    a_cancel_inside_the_clinics_window_is_late,
    a_move_claims_the_new_time_releases_the_old_and_the_status_walks_on,
    a_booking_holds_its_time_and_rooms_and_a_cancel_releases_exactly_it,
    a_booking_that_breaks_a_rule_is_refused,
    fifty_racing_bookings_of_one_time_leave_exactly_one,
);

/// A booking held between its last read of the claims and its commit, while an overlapping one commits:
/// its commit finds a claim moved on, so it decides again on fresh reads and is refused.
async fn a_booking_overtaken_between_its_reads_and_its_commit_is_refused(backend: Backend) {
    let (app, counts) = TestApp::spawn_counting(backend).await;
    let s = setup(&app).await;
    let app = std::sync::Arc::new(app);
    // Its claims reads: the room's (for availability), the performer's, the room's again; the last is held.
    let held = counts.hold_query_after("DAY#", 2);
    let overtaken = {
        let (app, admin) = (app.clone(), s.clinic.admin.clone());
        let body = json!({"patientId": s.patient, "serviceId": s.service, "start": at("10:00"), "staffId": s.first});
        tokio::spawn(async move { app.post("/v1/appointments", &admin, body).await })
    };
    held.reached().await;
    let rival = json!({"patientId": s.patient, "serviceId": s.service, "start": at("10:30"), "staffId": s.first});
    let rival = app.post("/v1/appointments", &s.clinic.admin, rival).await;
    assert_eq!(rival.status, 201, "{rival:?}");
    held.release();
    let overtaken = overtaken.await.unwrap();
    assert_eq!(overtaken.status, 409, "{overtaken:?}");
    assert_eq!(overtaken.body["type"], "urn:vellum:problem:time-taken");
    let day = app.get(&format!("/v1/appointments?from={MONDAY}&to={MONDAY}"), &s.clinic.admin).await;
    assert_eq!(day.body["items"].as_array().unwrap().len(), 1, "{day:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_overtaken_between_its_reads_and_its_commit_is_refused_embedded() {
    a_booking_overtaken_between_its_reads_and_its_commit_is_refused(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_overtaken_between_its_reads_and_its_commit_is_refused_aws() {
    a_booking_overtaken_between_its_reads_and_its_commit_is_refused(Backend::Aws).await;
}
