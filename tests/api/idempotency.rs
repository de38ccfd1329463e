//! Idempotent retries: the same key returns the first response and writes nothing new.

use serde_json::json;
use vellum_tests::{TestApp, clinic_body, patient_body};

async fn a_retried_patient_registration_returns_the_first_response(app: TestApp) {
    let clinic = app.open_clinic("Retries").await;
    let key = [("idempotency-key", "register-ana-1")];
    let body = patient_body("Ana", "Retry");
    let first = app.send("POST", "/v1/patients", Some(&clinic.admin), Some(body.clone()), &key).await;
    assert_eq!(first.status, 201);
    let second = app.send("POST", "/v1/patients", Some(&clinic.admin), Some(body), &key).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("etag"), first.header("etag"));
    let list = app.get("/v1/patients?familyName=retry", &clinic.admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let next = app.patient(&clinic, patient_body("Bea", "Retry")).await;
    assert_eq!(next["mrn"], "00000002", "the retry did not use up a record number");
}

async fn the_same_key_with_a_different_body_is_refused(app: TestApp) {
    let clinic = app.open_clinic("Reuse").await;
    let key = [("idempotency-key", "k-1")];
    let first = app.send("POST", "/v1/patients", Some(&clinic.admin), Some(patient_body("A", "One")), &key).await;
    assert_eq!(first.status, 201);
    let other = app.send("POST", "/v1/patients", Some(&clinic.admin), Some(patient_body("B", "Two")), &key).await;
    assert_eq!(other.status, 422);
    let list = app.get("/v1/patients", &clinic.admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

async fn keys_are_scoped_to_the_caller(app: TestApp) {
    let clinic = app.open_clinic("Scopes").await;
    let (nurse, _) = app.member(&clinic, vellum::domain::role::Role::Nurse).await;
    let key = [("idempotency-key", "shared-key")];
    let a = app.send("POST", "/v1/patients", Some(&clinic.admin), Some(patient_body("A", "One")), &key).await;
    let b = app.send("POST", "/v1/patients", Some(&nurse), Some(patient_body("B", "Two")), &key).await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.body["id"], b.body["id"]);
}

async fn every_post_honours_the_key(app: TestApp) {
    let operator = app.operator();
    let key = [("idempotency-key", "open-1")];
    let body = clinic_body("Once");
    let first = app.send("POST", "/v1/clinics", Some(&operator), Some(body.clone()), &key).await;
    let second = app.send("POST", "/v1/clinics", Some(&operator), Some(body), &key).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body["id"], second.body["id"]);

    let clinic = app.open_clinic("Staffing").await;
    let member = json!({"role": "nurse", "displayName": "N"});
    let key = [("idempotency-key", "staff-1")];
    let first = app.send("POST", "/v1/staff", Some(&clinic.admin), Some(member.clone()), &key).await;
    let second = app.send("POST", "/v1/staff", Some(&clinic.admin), Some(member.clone()), &key).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body, second.body, "one invitation, its code answered again");
    let without_key = app.post("/v1/staff", &clinic.admin, member).await;
    assert_ne!(without_key.body["id"], first.body["id"], "without the key, a second invitation");
    let code = first.body["code"].as_str().unwrap();
    let join = [("idempotency-key", "join-1")];
    let joiner = app.token("nurse-once", None, vellum::domain::role::Role::Joiner);
    let body = json!({"code": code});
    let joined = app.send("POST", "/v1/staff/join", Some(&joiner), Some(body.clone()), &join).await;
    let again = app.send("POST", "/v1/staff/join", Some(&joiner), Some(body), &join).await;
    assert_eq!((joined.status, again.status), (200, 200), "{again:?}");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

async fn a_malformed_key_is_refused(app: TestApp) {
    let clinic = app.open_clinic("Keys").await;
    let long = "k".repeat(300);
    let reply = app
        .send("POST", "/v1/patients", Some(&clinic.admin), Some(patient_body("A", "B")), &[("idempotency-key", &long)])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["Idempotency-Key"]);
}

/// Two identical requests with one key at the same moment: whichever commits second gets the first one's
/// answer, never a conflict (the change itself checks a version that its twin has just moved on).
async fn simultaneous_twins_with_one_key_both_get_the_first_answer(app: TestApp) {
    let clinic = app.open_clinic("Twins").await;
    let patient = app.patient(&clinic, patient_body("Ana", "Twin")).await;
    let patient = patient["id"].as_str().unwrap().to_string();
    for round in 0..6 {
        let (invitation, _) = app.invite(&clinic, &patient, &["medical-history"]).await;
        let path = format!("/v1/patients/{patient}/invitations/{}/revoke", invitation["id"].as_str().unwrap());
        let key = format!("revoke-{round}");
        let headers = [("idempotency-key", key.as_str())];
        let send = || app.send("POST", &path, Some(&clinic.admin), Some(json!({})), &headers);
        let (a, b) = tokio::join!(send(), send());
        assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
        assert_eq!(a.body, b.body);
    }
}

on_both_backends!(
    simultaneous_twins_with_one_key_both_get_the_first_answer,
    a_retried_patient_registration_returns_the_first_response,
    the_same_key_with_a_different_body_is_refused,
    keys_are_scoped_to_the_caller,
    every_post_honours_the_key,
    a_malformed_key_is_refused,
);
