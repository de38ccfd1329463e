//! Tenant isolation: another clinic's ids are "not found" on every route, and lists never cross clinics.

use serde_json::json;
use vellum_tests::{TestApp, patient_body};

async fn another_clinics_ids_are_not_found_on_every_route(app: TestApp) {
    let a = app.open_clinic("Clinic A").await;
    let b = app.open_clinic("Clinic B").await;
    let patient = app.patient(&a, patient_body("Ana", "Alvarez")).await;
    let id = patient["id"].as_str().unwrap();

    let read = app.get(&format!("/v1/patients/{id}"), &b.admin).await;
    assert_eq!(read.status, 404);
    assert!(!read.body.to_string().contains("Alvarez"));
    let patch = app.patch(&format!("/v1/patients/{id}"), &b.admin, "\"1\"", json!({"givenName": "Mallory"})).await;
    assert_eq!(patch.status, 404);
    assert_eq!(app.get(&format!("/v1/patients/{id}/access-log"), &b.admin).await.status, 404);
    let staff = app.patch(&format!("/v1/staff/{}", a.admin_user), &b.admin, "\"1\"", json!({"role": "nurse"})).await;
    assert_eq!(staff.status, 404);

    let unchanged = app.get(&format!("/v1/patients/{id}"), &a.admin).await;
    assert_eq!(unchanged.body["givenName"], "Ana");
    assert_eq!(unchanged.body["version"], 1);
    let a_staff = app.get("/v1/staff", &a.admin).await;
    assert_eq!(a_staff.body["items"][0]["role"], "admin");
}

async fn lists_and_searches_never_cross_clinics(app: TestApp) {
    let a = app.open_clinic("Clinic A").await;
    let b = app.open_clinic("Clinic B").await;
    app.patient(&a, patient_body("Ana", "Alvarez")).await;
    let mine = app.patient(&b, patient_body("Bo", "Alvarez")).await;

    let found = app.get("/v1/patients?familyName=alv", &b.admin).await;
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], mine["id"]);
    let by_phone = app.get("/v1/patients?phone=%2B14155550123", &b.admin).await;
    assert_eq!(by_phone.body["items"].as_array().unwrap().len(), 1);
    let by_mrn = app.get("/v1/patients?mrn=00000001", &b.admin).await;
    assert_eq!(by_mrn.body["items"][0]["id"], mine["id"], "each clinic numbers its own patients");

    let staff = app.get("/v1/staff", &b.admin).await;
    let users: Vec<&str> =
        staff.body["items"].as_array().unwrap().iter().map(|m| m["userId"].as_str().unwrap()).collect();
    assert_eq!(users, [b.admin_user.as_str()]);
    let clinic = app.get("/v1/clinic", &b.admin).await;
    assert_eq!(clinic.body["id"], b.id.as_str());

    let events = app.audit(&b, "").await;
    assert!(events.iter().all(|e| e["clinicId"] == b.id.as_str()));
    let a_patient_events = app.audit(&a, "").await;
    assert!(a_patient_events.iter().all(|e| e["clinicId"] == a.id.as_str()));
}

async fn a_token_for_one_clinic_does_not_open_another(app: TestApp) {
    let a = app.open_clinic("Clinic A").await;
    let b = app.open_clinic("Clinic B").await;
    // A's administrator presenting B's clinic id (a token the identity provider would never issue).
    let crossed = app.token(&a.admin_user, Some(&b.id), vellum::domain::role::Role::Admin);
    let reply = app.get("/v1/patients", &crossed).await;
    assert_eq!(reply.status, 403);
    assert_eq!(app.get("/v1/clinic", &crossed).await.status, 403);
}

on_both_backends!(
    another_clinics_ids_are_not_found_on_every_route,
    lists_and_searches_never_cross_clinics,
    a_token_for_one_clinic_does_not_open_another,
);
