//! Audit completeness: every route leaves its event, in the design's shape, ids only, and filters work.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{TestApp, patient_body, treatment_body};

fn names(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["eventName"].as_str().unwrap().to_string()).collect()
}

async fn every_route_leaves_its_event(app: TestApp) {
    let clinic = app.open_clinic("Audited").await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let created = app.post("/v1/patients", &nurse, patient_body("Ana", "Audit")).await;
    let id = created.body["id"].as_str().unwrap();
    app.get(&format!("/v1/patients/{id}"), &nurse).await;
    app.patch(&format!("/v1/patients/{id}"), &nurse, "\"1\"", json!({"pronouns": "they/them"})).await;
    app.get("/v1/patients?familyName=aud", &nurse).await;
    app.get("/v1/clinic", &nurse).await;
    app.get("/v1/staff", &clinic.admin).await;
    app.patch(&format!("/v1/staff/{nurse_user}"), &clinic.admin, "\"1\"", json!({"displayName": "Nurse N"})).await;
    app.get(&format!("/v1/patients/{id}/access-log"), &clinic.admin).await;
    app.get("/v1/audit", &clinic.admin).await;

    let events = app.audit(&clinic, "").await;
    let mut seen = names(&events);
    seen.sort();
    seen.dedup();
    for expected in [
        "clinics.create",
        "staff.create",
        "patients.create",
        "patients.read",
        "patients.update",
        "patients.list",
        "clinic.read",
        "staff.list",
        "staff.update",
        "patients.access-log",
        "audit.list",
    ] {
        assert!(seen.contains(&expected.to_string()), "{expected} missing from {seen:?}");
    }
    let read = events.iter().find(|e| e["eventName"] == "patients.read").unwrap();
    assert_eq!(read["patientId"], id);
    assert_eq!(read["outcome"], "success");
    assert_eq!(read["userIdentity"]["userId"], nurse_user.as_str());
    assert_eq!(read["userIdentity"]["role"], "nurse");
    assert_eq!(read["eventSource"], "patients-get");
    assert_eq!(read["resources"][0], json!({"type": "patient", "id": id}));
    assert!(read["requestId"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(read["sourceIPAddress"], "127.0.0.1");
    let times: Vec<&str> = events.iter().map(|e| e["eventTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let text = Value::Array(events).to_string();
    assert!(!text.contains("Audit\"") && !text.contains("1988-04-12") && !text.contains("they/them"), "no PHI values");
}

async fn a_patients_access_log_shows_who_touched_the_record(app: TestApp) {
    let clinic = app.open_clinic("Access log").await;
    let (practitioner, p_user) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Log")).await;
    let other = app.patient(&clinic, patient_body("Bo", "Other")).await;
    let id = patient["id"].as_str().unwrap();
    app.get(&format!("/v1/patients/{id}"), &practitioner).await;
    app.get(&format!("/v1/patients/{}", other["id"].as_str().unwrap()), &practitioner).await;
    let log = app.get(&format!("/v1/patients/{id}/access-log"), &practitioner).await;
    assert_eq!(log.status, 200);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(names(items), ["patients.read", "patients.create"]);
    assert_eq!(items[0]["userIdentity"]["userId"], p_user.as_str());
    assert!(items.iter().all(|e| e["patientId"] == id));
}

async fn audit_filters_by_patient_actor_and_time(app: TestApp) {
    let clinic = app.open_clinic("Filters").await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Filter")).await;
    let id = patient["id"].as_str().unwrap();
    app.get(&format!("/v1/patients/{id}"), &nurse).await;
    app.get("/v1/clinic", &nurse).await;

    let by_actor = app.audit(&clinic, &format!("&actor={nurse_user}")).await;
    assert_eq!(names(&by_actor), ["clinic.read", "patients.read", "staff.join"], "joining is audited too");
    let by_both = app.audit(&clinic, &format!("&actor={nurse_user}&patientId={id}")).await;
    assert_eq!(names(&by_both), ["patients.read"]);
    let future = app.audit(&clinic, "&from=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let past = app.audit(&clinic, "&to=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
    let all_time = app.audit(&clinic, "&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z").await;
    assert!(all_time.len() >= 5);
    let backwards = app.get("/v1/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", &clinic.admin).await;
    assert_eq!(backwards.status, 422, "a well-formed window that breaks a rule");
}

async fn a_failed_write_leaves_an_error_event_and_no_data(app: TestApp) {
    let clinic = app.open_clinic("Failures").await;
    let mut body = patient_body("Ana", "Fail");
    body["birthDate"] = json!("2999-01-01");
    assert_eq!(app.post("/v1/patients", &clinic.admin, body).await.status, 422);
    let events = app.audit(&clinic, "").await;
    let failed = events.iter().find(|e| e["eventName"] == "patients.create").unwrap();
    assert_eq!(failed["outcome"], "error");
    assert_eq!(failed["errorCode"], "validation-failed");
    let missing = app.get(&format!("/v1/patients/{}", ulid::Ulid::new()), &clinic.admin).await;
    assert_eq!(missing.status, 404);
    let events = app.audit(&clinic, "").await;
    let denied = events.iter().find(|e| e["eventName"] == "patients.read").unwrap();
    assert_eq!(denied["outcome"], "denied");
    assert_eq!(denied["errorCode"], "not-found");
}

/// The names of the events in a patient's access log, newest first.
async fn log_of(app: &TestApp, token: &str, patient: &str) -> Vec<Value> {
    let log = app.get(&format!("/v1/patients/{patient}/access-log?limit=100"), token).await;
    assert_eq!(log.status, 200, "{log:?}");
    log.body["items"].as_array().unwrap().clone()
}

/// A search and a lot recall show several patients: the event is in each one's access log, and still
/// once in the clinic's trail.
async fn a_search_and_a_recall_reach_every_listed_patients_log(app: TestApp) {
    let clinic = app.open_clinic("Listed").await;
    let (practitioner, p_user) = app.member(&clinic, Role::Practitioner).await;
    let mut ids = Vec::new();
    for given in ["Ana", "Bea", "Cy"] {
        let patient = app.patient(&clinic, patient_body(given, "Listed")).await;
        ids.push(patient["id"].as_str().unwrap().to_string());
    }
    let found = app.get("/v1/patients?familyName=listed", &practitioner).await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 3);
    for id in &ids[..2] {
        let path = format!("/v1/patients/{id}/treatments");
        let treated = app.post(&path, &practitioner, treatment_body("LST-1", "2099-01-31")).await;
        assert_eq!(treated.status, 201, "{treated:?}");
    }
    let recalled = app.get("/v1/lot-recall?lotNumber=LST-1", &practitioner).await;
    assert_eq!(recalled.body["items"].as_array().unwrap().len(), 2);
    for (i, id) in ids.iter().enumerate() {
        let log = log_of(&app, &practitioner, id).await;
        let search = log.iter().find(|e| e["eventName"] == "patients.list").expect("the search is in the log");
        assert_eq!(search["patientId"], id.as_str());
        assert_eq!(search["userIdentity"]["userId"], p_user.as_str());
        let recall = log.iter().any(|e| e["eventName"] == "lots.recall");
        assert_eq!(recall, i < 2, "the recall is in the log of the patients it showed only");
    }
    let mine = app.audit(&clinic, &format!("&actor={p_user}")).await;
    assert_eq!(names(&mine).iter().filter(|n| *n == "patients.list").count(), 1, "once in the clinic's trail");
}

/// Refused looks at a patient show in the patient's log: a role the route does not allow, an unknown
/// photo of a real patient, a view the photo's consent does not cover.
async fn refused_looks_name_the_patient_from_the_path(app: TestApp) {
    let clinic = app.open_clinic("Refusals").await;
    let (billing, billing_user) = app.member(&clinic, Role::Billing).await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Refused")).await;
    let id = patient["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/patients/{id}/notes"), &billing).await.status, 403);
    let unknown = format!("/v1/patients/{id}/photos/{}", ulid::Ulid::new());
    assert_eq!(app.get(&unknown, &nurse).await.status, 404);
    let (photo, _) = app.photo(&nurse, id, "image/jpeg", vellum_tests::images::jpeg(64, 64), json!({})).await;
    let marketing = format!("/v1/patients/{id}/photos/{}?purpose=marketing", photo["id"].as_str().unwrap());
    assert_eq!(app.get(&marketing, &nurse).await.status, 403);
    let log = log_of(&app, &clinic.admin, id).await;
    let by = |user: &str, name: &str, outcome: &str| {
        log.iter().any(|e| e["userIdentity"]["userId"] == user && e["eventName"] == name && e["outcome"] == outcome)
    };
    assert!(by(&billing_user, "notes.list", "denied"), "{log:?}");
    assert!(by(&nurse_user, "photos.view", "error") || by(&nurse_user, "photos.view", "denied"), "{log:?}");
    let views =
        log.iter().filter(|e| e["eventName"] == "photos.view" && e["userIdentity"]["userId"] == nurse_user.as_str());
    assert_eq!(views.count(), 2, "the unknown photo and the refused purpose: {log:?}");
}

on_both_backends!(
    a_search_and_a_recall_reach_every_listed_patients_log,
    refused_looks_name_the_patient_from_the_path,
    every_route_leaves_its_event,
    a_patients_access_log_shows_who_touched_the_record,
    audit_filters_by_patient_actor_and_time,
    a_failed_write_leaves_an_error_event_and_no_data,
);
