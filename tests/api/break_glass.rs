//! Break-glass: a clinician opens, with a reason and for a while, what their role or a photo's consent
//! would not show; every read under it carries the reason; administrators review each one.

use std::sync::Arc;

use chrono::{DateTime, Duration};
use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Backend, MovableClock, TestApp, chart_entry, patient_body};

fn glass(patient: &str) -> String {
    format!("/v1/patients/{patient}/break-glass")
}

async fn an_administrator_opens_notes_for_a_while_and_every_read_carries_the_reason(app: TestApp) {
    let clinic = app.open_clinic("Glass").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Ines", "Glass")).await;
    let id = patient["id"].as_str().unwrap();
    let note = app.post(&format!("/v1/patients/{id}/notes"), &practitioner, chart_entry("notes").0).await;
    assert_eq!(note.status, 201, "{note:?}");
    let note_id = note.body["id"].as_str().unwrap();
    let notes = format!("/v1/patients/{id}/notes");

    let refused = app.get(&notes, &clinic.admin).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body["detail"].as_str().unwrap().contains("break-glass"), "{}", refused.body);
    let chart = app.get(&format!("/v1/patients/{id}/chart"), &clinic.admin).await;
    assert!(chart.body.get("recentNotes").is_none(), "{}", chart.body);

    let reason = "Patient collapsed in the waiting room; checking the last consultation";
    let opened = app.post(&glass(id), &clinic.admin, json!({"reason": reason, "scope": "note"})).await;
    assert_eq!(opened.status, 201, "{opened:?}");
    let (opened_at, expires_at) =
        (opened.body["openedAt"].as_str().unwrap(), opened.body["expiresAt"].as_str().unwrap());
    let minutes = |t: &str| DateTime::parse_from_rfc3339(t).unwrap();
    assert_eq!(minutes(expires_at) - minutes(opened_at), Duration::minutes(60), "60 minutes by default");

    assert_eq!(app.get(&notes, &clinic.admin).await.status, 200);
    assert_eq!(app.get(&format!("{notes}/{note_id}"), &clinic.admin).await.status, 200);
    assert_eq!(app.get(&format!("{notes}/{note_id}/history"), &clinic.admin).await.status, 200);
    let chart = app.get(&format!("/v1/patients/{id}/chart"), &clinic.admin).await;
    assert_eq!(chart.body["recentNotes"][0]["id"], note_id, "{}", chart.body);
    // It opens reads of notes only: no writes, no other section.
    assert_eq!(app.post(&notes, &clinic.admin, chart_entry("notes").0).await.status, 403);
    assert_eq!(app.get(&format!("/v1/patients/{id}/medications"), &clinic.admin).await.status, 403);
    assert!(chart.body.get("currentMedications").is_none(), "{}", chart.body);

    // The patient's access log shows the break-glass and each read under it, with the reason.
    let log = app.get(&format!("/v1/patients/{id}/access-log?limit=100"), &practitioner).await;
    let events = log.body["items"].as_array().unwrap();
    let opened_event = events.iter().find(|e| e["eventName"] == "break-glass.open").expect("the opening");
    assert_eq!(opened_event["breakGlass"][0]["reason"], reason);
    for name in ["notes.list", "notes.read", "notes.history", "chart.read"] {
        let read = events.iter().find(|e| e["eventName"] == name && e["outcome"] == "success").expect(name);
        assert_eq!(read["breakGlass"][0]["reason"], reason, "{name}");
        assert_eq!(read["breakGlass"][0]["id"], opened.body["id"], "{name}");
    }
    let refusal = events.iter().find(|e| e["eventName"] == "medications.list").expect("the refusal");
    assert_eq!(refusal["outcome"], "denied");
}

async fn break_glass_is_for_clinicians_with_a_reason_and_never_crosses_clinics(app: TestApp) {
    let clinic = app.open_clinic("Rules").await;
    let patient = app.patient(&clinic, patient_body("Rui", "Rules")).await;
    let id = patient["id"].as_str().unwrap();
    let ok = json!({"reason": "Urgent review", "scope": "medication"});
    for role in [Role::FrontDesk, Role::Billing] {
        let (token, _) = app.member(&clinic, role).await;
        assert_eq!(app.post(&glass(id), &token, ok.clone()).await.status, 403, "{role}");
    }
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    for (body, field) in [
        (json!({"scope": "medication"}), "reason"),
        (json!({"reason": " ", "scope": "medication"}), "reason"),
        (json!({"reason": "Urgent", "scope": "everything"}), "scope"),
        (json!({"reason": "Urgent", "scope": "photos", "minutes": 241}), "minutes"),
        (json!({"reason": "Urgent", "scope": "photos", "minutes": 0}), "minutes"),
        (json!({"reason": "Urgent", "scope": "photos", "minutes": 1.5}), "minutes"),
    ] {
        let reply = app.post(&glass(id), &nurse, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {reply:?}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let needless = app.post(&glass(id), &nurse, json!({"reason": "Urgent", "scope": "note"})).await;
    assert_eq!((needless.status, needless.error_fields()), (409, vec!["scope".to_string()]), "a nurse reads notes");
    let longest =
        app.post(&glass(id), &nurse, json!({"reason": "Case review", "scope": "photos", "minutes": 240})).await;
    assert_eq!(longest.status, 201, "{longest:?}");

    // Another clinic's administrator cannot open, or read under their own break-glass, this patient.
    let other = app.open_clinic("Elsewhere").await;
    assert_eq!(app.post(&glass(id), &other.admin, ok.clone()).await.status, 404);
    let theirs = app.patient(&other, patient_body("Ola", "Elsewhere")).await;
    let theirs = theirs["id"].as_str().unwrap();
    assert_eq!(app.post(&glass(theirs), &other.admin, ok.clone()).await.status, 201);
    assert_eq!(app.get(&format!("/v1/patients/{id}/medications"), &other.admin).await.status, 403);
    // Nor does one patient's break-glass open another patient of the same clinic.
    assert_eq!(app.post(&glass(id), &clinic.admin, ok).await.status, 201);
    let second = app.patient(&clinic, patient_body("Sam", "Rules")).await;
    let second = second["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/patients/{second}/medications"), &clinic.admin).await.status, 403);
    assert_eq!(app.get(&format!("/v1/patients/{id}/medications"), &clinic.admin).await.status, 200);
}

async fn photos_open_for_education_under_break_glass_and_never_for_marketing(app: TestApp) {
    let clinic = app.open_clinic("Lens").await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let patient = app.patient(&clinic, patient_body("Lia", "Lens")).await;
    let id = patient["id"].as_str().unwrap();
    let (created, uploaded) = app.photo(&nurse, id, "image/jpeg", vellum_tests::images::jpeg(64, 48), json!({})).await;
    assert_eq!(uploaded.body["state"], "ready", "{uploaded:?}");
    let view = format!("/v1/patients/{id}/photos/{}", created["id"].as_str().unwrap());
    assert_eq!(app.get(&format!("{view}?purpose=education"), &nurse).await.status, 403);
    assert_eq!(app.get(&view, &clinic.admin).await.status, 403, "administrators see no photos");

    let reason = "Complication review with the medical director";
    let opened = app.post(&glass(id), &nurse, json!({"reason": reason, "scope": "photos"})).await;
    assert_eq!(opened.status, 201, "{opened:?}");
    assert_eq!(app.get(&format!("{view}?purpose=education"), &nurse).await.status, 200);
    assert_eq!(app.get(&format!("{view}?purpose=marketing"), &nurse).await.status, 403, "never for marketing");
    assert_eq!(app.get(&view, &nurse).await.status, 200);
    let admin = app.post(&glass(id), &clinic.admin, json!({"reason": reason, "scope": "photos"})).await;
    assert_eq!(admin.status, 201, "{admin:?}");
    assert_eq!(app.get(&format!("/v1/patients/{id}/photos"), &clinic.admin).await.status, 200);
    assert_eq!(app.get(&view, &clinic.admin).await.status, 200);

    let events = app.audit(&clinic, &format!("&patientId={id}")).await;
    let views: Vec<&Value> = events.iter().filter(|e| e["eventName"] == "photos.view").collect();
    let marked = |e: &&Value| e["breakGlass"][0]["reason"] == reason;
    // Newest first: the administrator's view, the nurse's clinical view (within consent: no mark), the
    // refused marketing view, the nurse's education view, the two refusals before.
    let outcome: Vec<(bool, &str)> = views.iter().map(|e| (marked(e), e["outcome"].as_str().unwrap())).collect();
    assert_eq!(
        outcome,
        [
            (true, "success"),
            (false, "success"),
            (false, "denied"),
            (true, "success"),
            (false, "denied"),
            (false, "denied")
        ]
    );
}

async fn administrators_review_each_break_glass_but_not_their_own(app: TestApp) {
    let clinic = app.open_clinic("Review").await;
    let (second_admin, _) = app.member(&clinic, Role::Admin).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let patient = app.patient(&clinic, patient_body("Uma", "Review")).await;
    let id = patient["id"].as_str().unwrap();
    let mine = app.post(&glass(id), &clinic.admin, json!({"reason": "Checking vitals", "scope": "vitals"})).await;
    let nurses = app.post(&glass(id), &nurse, json!({"reason": "Teaching round", "scope": "photos"})).await;
    assert_eq!((mine.status, nurses.status), (201, 201));
    let queue = app.get("/v1/break-glass", &clinic.admin).await;
    assert_eq!(queue.status, 200, "{queue:?}");
    let ids: Vec<&Value> = queue.body["items"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, [&nurses.body["id"], &mine.body["id"]], "newest first");
    assert_eq!(app.get("/v1/break-glass", &nurse).await.status, 403);
    assert_eq!(app.get("/v1/break-glass?status=open", &clinic.admin).await.status, 400);

    let review = |glass: &Value| format!("/v1/break-glass/{}/review", glass["id"].as_str().unwrap());
    let own = app.post(&review(&mine.body), &clinic.admin, json!({"note": "fine"})).await;
    assert_eq!(own.status, 403, "{own:?}");
    assert_eq!(app.post(&review(&mine.body), &second_admin, json!({})).await.status, 400);
    let done = app.post(&review(&mine.body), &second_admin, json!({"note": "Appropriate: patient unwell"})).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["review"]["note"], "Appropriate: patient unwell");
    let again = app.post(&review(&mine.body), &clinic.admin, json!({"note": "again"})).await;
    assert_eq!(again.status, 409, "{again:?}");
    let unknown =
        app.post("/v1/break-glass/01JD0000000000000000000000/review", &clinic.admin, json!({"note": "x"})).await;
    assert_eq!(unknown.status, 404);

    let unreviewed = app.get("/v1/break-glass?status=unreviewed", &clinic.admin).await;
    assert_eq!(unreviewed.body["items"].as_array().unwrap().len(), 1);
    let reviewed = app.get("/v1/break-glass?status=reviewed", &clinic.admin).await;
    assert_eq!(reviewed.body["items"][0]["review"]["by"]["role"], "admin");
    // Another clinic's administrator sees none of it and cannot review it.
    let other = app.open_clinic("Outsider").await;
    assert_eq!(app.get("/v1/break-glass", &other.admin).await.body["items"], json!([]));
    assert_eq!(app.post(&review(&nurses.body), &other.admin, json!({"note": "x"})).await.status, 404);
    // The queue showed the patient: it is in their access log.
    let log = app.get(&format!("/v1/patients/{id}/access-log?limit=100"), &clinic.admin).await;
    let names: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert!(names.contains(&"break-glass.list") && names.contains(&"break-glass.review"), "{names:?}");
}

on_both_backends!(
    an_administrator_opens_notes_for_a_while_and_every_read_carries_the_reason,
    break_glass_is_for_clinicians_with_a_reason_and_never_crosses_clinics,
    photos_open_for_education_under_break_glass_and_never_for_marketing,
    administrators_review_each_break_glass_but_not_their_own,
);

async fn break_glass_ends_when_its_time_is_up(backend: Backend) {
    let clock = Arc::new(MovableClock::default());
    let (app, _) = TestApp::spawn_with(backend, |a| a.with_clock(clock.clone())).await;
    let clinic = app.open_clinic("Expiry").await;
    let patient = app.patient(&clinic, patient_body("Eve", "Expiry")).await;
    let id = patient["id"].as_str().unwrap();
    let vitals = format!("/v1/patients/{id}/vitals");
    let opened = app.post(&glass(id), &clinic.admin, json!({"reason": "Dizzy", "scope": "vitals", "minutes": 5})).await;
    assert_eq!(opened.status, 201, "{opened:?}");
    clock.set(Duration::minutes(4));
    assert_eq!(app.get(&vitals, &clinic.admin).await.status, 200);
    clock.set(Duration::minutes(5) + Duration::seconds(1));
    assert_eq!(app.get(&vitals, &clinic.admin).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_ends_when_its_time_is_up_embedded() {
    break_glass_ends_when_its_time_is_up(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_ends_when_its_time_is_up_aws() {
    break_glass_ends_when_its_time_is_up(Backend::Aws).await;
}
