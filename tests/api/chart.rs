//! The patient chart: every kind of entry versioned with provenance, signed notes that never change,
//! expired lots refused, the role table, the one-query summary and lot recall.

use serde_json::{Value, json};
use std::sync::Arc;
use vellum::domain::role::Role;

use vellum_tests::{Clinic, StoreCounts, TestApp, chart_entry, patient_body, treatment_body};

const SEGMENTS: [&str; 7] =
    ["allergies", "medications", "conditions", "vitals", "notes", "treatments", "aesthetic-profile"];

/// A clinic with one registered patient and a practitioner's token.
async fn clinic_with_patient(app: &TestApp, name: &str) -> (Clinic, String, String) {
    let clinic = app.open_clinic(name).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Chart")).await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    (clinic, patient["id"].as_str().unwrap().to_string(), practitioner)
}

async fn post_if_match(app: &TestApp, path: &str, token: &str, etag: &str, body: Value) -> vellum_tests::Reply {
    app.send("POST", path, Some(token), Some(body), &[("if-match", etag)]).await
}

fn ids(reply: &vellum_tests::Reply) -> Vec<String> {
    reply.body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

async fn every_kind_of_entry_is_versioned_from_creation_to_entered_in_error(app: TestApp) {
    let (_, patient, practitioner) = clinic_with_patient(&app, "Versions").await;
    for segment in SEGMENTS {
        let base = format!("/v1/patients/{patient}/{segment}");
        let (body, patch) = chart_entry(segment);
        let created = app.post(&base, &practitioner, body).await;
        assert_eq!(created.status, 201, "{segment}: {created:?}");
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["source"]["type"], "staff-entered");
        assert_eq!(created.body["recordedBy"]["role"], "practitioner");
        let id = created.body["id"].as_str().unwrap();
        let path = format!("{base}/{id}");
        assert_eq!(created.header("location"), Some(path.as_str()), "{segment}");

        let changed = app.patch(&path, &practitioner, "\"1\"", patch.clone()).await;
        assert_eq!(changed.status, 200, "{segment}: {changed:?}");
        assert_eq!(changed.body["version"], 2);
        for (field, value) in patch.as_object().unwrap() {
            assert_eq!(&changed.body[field], value, "{segment}.{field}");
        }
        let read = app.get(&path, &practitioner).await;
        assert_eq!(read.body, changed.body, "{segment}");
        assert_eq!(read.header("etag"), Some("\"2\""));

        let stale = post_if_match(
            &app,
            &format!("{path}/entered-in-error"),
            &practitioner,
            "\"1\"",
            json!({"reason": "wrong patient"}),
        )
        .await;
        assert_eq!(stale.status, 412, "{segment}");
        let retracted = post_if_match(
            &app,
            &format!("{path}/entered-in-error"),
            &practitioner,
            "\"2\"",
            json!({"reason": "wrong patient"}),
        )
        .await;
        assert_eq!(retracted.status, 200, "{segment}: {retracted:?}");
        assert_eq!(retracted.body["enteredInError"]["reason"], "wrong patient");
        let again = app.patch(&path, &practitioner, "\"3\"", patch).await;
        assert_eq!(again.status, 409, "an entry in error is not changed again: {segment}");

        let history = app.get(&format!("{path}/history"), &practitioner).await;
        assert_eq!(history.status, 200);
        let versions: Vec<i64> =
            history.body["items"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(versions, [1, 2, 3], "{segment}: nothing is overwritten");
        assert!(history.body["items"][0]["enteredInError"].is_null());

        assert!(ids(&app.get(&base, &practitioner).await).is_empty(), "{segment}: lists leave out entries in error");
        let all = app.get(&format!("{base}?includeEnteredInError=true"), &practitioner).await;
        assert_eq!(ids(&all), [id.to_string()], "{segment}");
    }
}

async fn a_signed_note_cannot_be_edited_and_is_corrected_by_an_addendum(app: TestApp) {
    let (clinic, patient, author) = clinic_with_patient(&app, "Notes").await;
    let (colleague, _) = app.member(&clinic, Role::Practitioner).await;
    let notes = format!("/v1/patients/{patient}/notes");
    let draft =
        app.post(&notes, &author, json!({"subjective": "Asks about filler", "plan": "Review in 2 weeks"})).await;
    assert_eq!(draft.status, 201);
    assert_eq!(draft.body["status"], "draft");
    let note = format!("{notes}/{}", draft.body["id"].as_str().unwrap());

    let early = app.post(&notes, &author, json!({"addendumTo": draft.body["id"], "plan": "x"})).await;
    assert_eq!(early.status, 422, "a draft is edited, not amended: {early:?}");
    assert_eq!(early.error_fields(), ["addendumTo"]);
    let by_colleague = post_if_match(&app, &format!("{note}/sign"), &colleague, "\"1\"", json!({})).await;
    assert_eq!(by_colleague.status, 403, "only the author signs");
    let edit_by_colleague = app.patch(&note, &colleague, "\"1\"", json!({"plan": "changed"})).await;
    assert_eq!(edit_by_colleague.status, 403);

    let signed = app.send("POST", &format!("{note}/sign"), Some(&author), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(signed.status, 200, "{signed:?}");
    assert_eq!(signed.body["status"], "signed");
    assert!(signed.body["signed"]["at"].is_string());
    let edit = app.patch(&note, &author, "\"2\"", json!({"plan": "Review in 1 week"})).await;
    assert_eq!(edit.status, 409, "a signed note never changes");
    assert_eq!(app.get(&note, &author).await.body["plan"], "Review in 2 weeks");
    let twice = post_if_match(&app, &format!("{note}/sign"), &author, "\"2\"", json!({})).await;
    assert_eq!(twice.status, 409);

    let addendum =
        app.post(&notes, &colleague, json!({"addendumTo": signed.body["id"], "plan": "Review in 1 week"})).await;
    assert_eq!(addendum.status, 201, "{addendum:?}");
    assert_eq!(addendum.body["type"], "addendum");
    let listed = app.get(&notes, &author).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let unknown = app.post(&notes, &author, json!({"addendumTo": ulid::Ulid::new().to_string(), "plan": "x"})).await;
    assert_eq!(unknown.status, 404);
}

async fn an_expired_lot_is_refused_and_nothing_is_written(app: TestApp) {
    let (_, patient, practitioner) = clinic_with_patient(&app, "Expiry").await;
    let treatments = format!("/v1/patients/{patient}/treatments");
    let reply = app.post(&treatments, &practitioner, treatment_body("EXP-1", "2020-01-31")).await;
    assert_eq!(reply.status, 422, "{reply:?}");
    assert_eq!(reply.error_fields(), ["products[0].expiryDate"]);
    assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("expired"));
    assert!(ids(&app.get(&treatments, &practitioner).await).is_empty());
    let recall = app.get("/v1/lot-recall?lotNumber=EXP-1", &practitioner).await;
    assert!(ids_of_uses(&recall).is_empty());

    let created = app.post(&treatments, &practitioner, treatment_body("OK-1", "2099-01-31")).await;
    assert_eq!(created.status, 201);
    let path = format!("{treatments}/{}", created.body["id"].as_str().unwrap());
    let expired = app.patch(&path, &practitioner, "\"1\"", json!({"products": [{"product": "Botox Cosmetic",
        "manufacturer": "Allergan", "lotNumber": "OLD-9", "expiryDate": "2021-05-01", "quantity": {"value": 20, "unit": "units"}}]})).await;
    assert_eq!(expired.status, 422, "a change cannot bring in an expired lot either");
    assert_eq!(app.get(&path, &practitioner).await.body["version"], 1);
}

fn ids_of_uses(reply: &vellum_tests::Reply) -> Vec<String> {
    reply.body["items"].as_array().unwrap().iter().map(|u| u["patientId"].as_str().unwrap().to_string()).collect()
}

async fn lot_recall_finds_exactly_the_patients_who_received_the_lot(app: TestApp) {
    let (clinic, first, practitioner) = clinic_with_patient(&app, "Recall").await;
    let mut patients = vec![first];
    for name in ["Bo", "Cy", "Di"] {
        patients.push(app.patient(&clinic, patient_body(name, "Recall")).await["id"].as_str().unwrap().to_string());
    }
    let treat = |patient: &str, lot: &str| {
        let path = format!("/v1/patients/{patient}/treatments");
        let body = treatment_body(lot, "2099-01-31");
        let app = &app;
        let practitioner = practitioner.clone();
        async move {
            let reply = app.post(&path, &practitioner, body).await;
            assert_eq!(reply.status, 201, "{reply:?}");
            format!("{path}/{}", reply.body["id"].as_str().unwrap())
        }
    };
    treat(&patients[0], "C3456 A").await;
    treat(&patients[1], "Z-999").await;
    let moved = treat(&patients[2], "C3456A").await;
    let wrong = treat(&patients[3], "c3456-a").await;
    // The third patient's lot was misread: corrected to another lot. The fourth's treatment never happened.
    let corrected = app.patch(&moved, &practitioner, "\"1\"", json!({"products": [{"product": "Botox Cosmetic",
        "manufacturer": "Allergan", "lotNumber": "Z-999", "expiryDate": "2099-01-31", "quantity": {"value": 20, "unit": "units"}}]})).await;
    assert_eq!(corrected.status, 200, "{corrected:?}");
    let retracted = post_if_match(
        &app,
        &format!("{wrong}/entered-in-error"),
        &practitioner,
        "\"1\"",
        json!({"reason": "charted on the wrong patient"}),
    )
    .await;
    assert_eq!(retracted.status, 200);
    // Another clinic used the same lot.
    let (_, other_patient, other_practitioner) = clinic_with_patient(&app, "Elsewhere").await;
    let elsewhere = app
        .post(
            &format!("/v1/patients/{other_patient}/treatments"),
            &other_practitioner,
            treatment_body("C3456A", "2099-01-31"),
        )
        .await;
    assert_eq!(elsewhere.status, 201);

    let recall = app.get("/v1/lot-recall?lotNumber=c3456a", &practitioner).await;
    assert_eq!(recall.status, 200, "{recall:?}");
    assert_eq!(ids_of_uses(&recall), [patients[0].clone()], "spacing and case of the lot number do not matter");
    let use_ = &recall.body["items"][0];
    assert!(use_["performedAt"].is_string());
    assert!(use_["practitionerId"].as_str().unwrap().starts_with("practitioner-"));
    assert_eq!(use_["product"], "Botox Cosmetic");
    let mut z: Vec<String> = ids_of_uses(&app.get("/v1/lot-recall?lotNumber=Z-999", &practitioner).await);
    z.sort();
    let mut expected = vec![patients[1].clone(), patients[2].clone()];
    expected.sort();
    assert_eq!(z, expected);
    let other_product = app.get("/v1/lot-recall?lotNumber=Z-999&product=juvederm", &practitioner).await;
    assert!(ids_of_uses(&other_product).is_empty());
    let missing = app.get("/v1/lot-recall", &practitioner).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_fields(), ["lotNumber"]);
}

async fn front_desk_sees_allergies_but_no_notes_and_billing_sees_treatments_and_codes(app: TestApp) {
    let (clinic, patient, practitioner) = clinic_with_patient(&app, "Roles").await;
    for segment in ["allergies", "notes", "treatments", "conditions"] {
        let reply = app.post(&format!("/v1/patients/{patient}/{segment}"), &practitioner, chart_entry(segment).0).await;
        assert_eq!(reply.status, 201);
    }
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let (billing, _) = app.member(&clinic, Role::Billing).await;
    let get = |segment: &str, token: &str| {
        let path = format!("/v1/patients/{patient}/{segment}");
        let token = token.to_string();
        let app = &app;
        async move { app.get(&path, &token).await.status }
    };
    assert_eq!(get("allergies", &front_desk).await, 200);
    assert_eq!(get("notes", &front_desk).await, 403, "a receptionist cannot read clinical notes");
    assert_eq!(get("treatments", &front_desk).await, 403);
    assert_eq!(get("medications", &front_desk).await, 403);
    assert_eq!(get("treatments", &billing).await, 200);
    assert_eq!(get("conditions", &billing).await, 200);
    assert_eq!(get("notes", &billing).await, 403, "billing cannot read clinical notes");
    assert_eq!(get("allergies", &billing).await, 403);
    let write = app.post(&format!("/v1/patients/{patient}/allergies"), &front_desk, chart_entry("allergies").0).await;
    assert_eq!(write.status, 403, "front desk reads allergies but does not chart them");

    let chart = format!("/v1/patients/{patient}/chart");
    let desk_chart = app.get(&chart, &front_desk).await;
    assert_eq!(desk_chart.status, 200);
    assert_eq!(desk_chart.body["sections"], json!(["allergies"]));
    assert!(desk_chart.body.get("recentNotes").is_none(), "no notes section at all, not an empty one");
    assert_eq!(desk_chart.body["allergies"]["items"][0]["substance"], "Penicillin");
    assert!(!desk_chart.body.to_string().contains("forehead lines softened"));
    let billing_chart = app.get(&chart, &billing).await;
    assert_eq!(billing_chart.body["sections"], json!(["conditions", "recentTreatments"]));
    assert!(!billing_chart.body.to_string().contains("forehead lines softened"));
}

async fn the_chart_summary_is_one_records_query_with_what_matters_first(
    app_and_counts: (TestApp, std::sync::Arc<vellum_tests::StoreCounts>),
) {
    let (app, counts) = app_and_counts;
    let (_, patient, nurse) = clinic_with_patient(&app, "Summary").await;
    let chart = format!("/v1/patients/{patient}/chart");
    let empty = app.get(&chart, &nurse).await;
    assert_eq!(empty.body["allergies"]["assessment"], "not-yet-asked");
    assert!(empty.body["latestVitals"].is_null());

    let base = format!("/v1/patients/{patient}");
    let post = |segment: &str, body: Value| {
        let path = format!("{base}/{segment}");
        let app = &app;
        let nurse = nurse.clone();
        async move {
            let reply = app.post(&path, &nurse, body).await;
            assert_eq!(reply.status, 201, "{reply:?}");
            reply.body
        }
    };
    let none_known = post("allergies", json!({"noKnownAllergies": true})).await;
    assert_eq!(app.get(&chart, &nurse).await.body["allergies"]["assessment"], "no-known-allergies");
    let conflict =
        app.post(&format!("{base}/allergies"), &nurse, json!({"noKnownAllergies": true, "note": "asked again"})).await;
    assert_eq!(conflict.status, 201, "restating no known allergies is fine");
    let path = format!("{base}/allergies/{}", none_known["id"].as_str().unwrap());
    let retire = app.patch(&path, &nurse, "\"1\"", json!({"status": "inactive"})).await;
    assert_eq!(retire.status, 200);
    let retire2 = app
        .patch(
            &format!("{base}/allergies/{}", conflict.body["id"].as_str().unwrap()),
            &nurse,
            "\"1\"",
            json!({"status": "inactive"}),
        )
        .await;
    assert_eq!(retire2.status, 200);
    post("allergies", json!({"substance": "Latex", "severity": "mild"})).await;
    post("allergies", json!({"substance": "Lidocaine", "severity": "life-threatening", "reaction": "Anaphylaxis"}))
        .await;
    post("allergies", json!({"substance": "Eggs", "severity": "moderate", "status": "resolved"})).await;
    let refused = app.post(&format!("{base}/allergies"), &nurse, json!({"noKnownAllergies": true})).await;
    assert_eq!(refused.status, 409, "no known allergies cannot stand beside active ones");
    post("medications", json!({"name": "Valacyclovir", "status": "active"})).await;
    post("medications", json!({"name": "Doxycycline", "status": "completed"})).await;
    post("conditions", json!({"code": "B00.1", "text": "Cold sores"})).await;
    post("conditions", json!({"code": "L70.0", "status": "resolved"})).await;
    post("vitals", json!({"measuredAt": "2026-01-01T10:00:00Z", "heartRate": 70})).await;
    post("vitals", json!({"measuredAt": "2026-02-01T10:00:00Z", "heartRate": 110, "bloodPressure": {"systolic": 150, "diastolic": 95}})).await;
    for day in 1..=7 {
        post("notes", json!({"encounterDate": format!("2026-03-0{day}"), "subjective": format!("visit {day}")})).await;
    }
    // The active cold sore is a blocking alert for a toxin, acknowledged as a clinician would.
    let mut toxin = treatment_body("T-1", "2099-01-01");
    toxin["safetyOverrides"] = json!([{"ruleId": "toxin-infection-at-injection-site", "reason": "Lesion on the lower lip, far from the glabella"}]);
    post("treatments", toxin).await;
    post("aesthetic-profile", chart_entry("aesthetic-profile").0).await;

    let before = counts.snapshot();
    let summary = app.get(&chart, &nurse).await;
    let after = counts.snapshot();
    assert_eq!(summary.status, 200, "{summary:?}");
    assert_eq!(after.1 - before.1, 1, "one query of the records store serves the whole chart");
    let range = counts.last_query_range.lock().unwrap().clone();
    assert_eq!(range, r#"Prefix("ENTRY#")"#, "the chart entries only: no invitations, submissions or photos");
    assert_eq!(after.0 - before.0, 2, "gets: the caller's membership and the patient");
    assert_eq!(after.2 - before.2, 1, "one write: the access event");
    assert_eq!(after.3 - before.3, 0);

    let s = &summary.body;
    assert_eq!(s["patient"]["id"], patient);
    assert_eq!(s["allergies"]["assessment"], "allergies-recorded");
    let allergies: Vec<&str> =
        s["allergies"]["items"].as_array().unwrap().iter().map(|a| a["substance"].as_str().unwrap()).collect();
    assert_eq!(allergies, ["Lidocaine", "Latex"], "active allergies only, the most dangerous first");
    let medications: Vec<&str> =
        s["medications"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(medications, ["Valacyclovir"]);
    assert_eq!(s["conditions"].as_array().unwrap().len(), 1);
    assert_eq!(s["conditions"][0]["codeName"], "Herpesviral vesicular dermatitis");
    assert_eq!(s["latestVitals"]["heartRate"], 110);
    let flags: Vec<&str> =
        s["latestVitals"]["flags"].as_array().unwrap().iter().map(|f| f["measure"].as_str().unwrap()).collect();
    assert_eq!(flags, ["bloodPressure.systolic", "bloodPressure.diastolic", "heartRate"]);
    let notes: Vec<&str> =
        s["recentNotes"].as_array().unwrap().iter().map(|n| n["subjective"].as_str().unwrap()).collect();
    assert_eq!(notes, ["visit 7", "visit 6", "visit 5", "visit 4", "visit 3"]);
    assert_eq!(s["recentTreatments"][0]["products"][0]["lotNumber"], "T-1");
    assert_eq!(s["aestheticProfile"]["fitzpatrick"], "III");

    let events = app.audit(&app.open_clinic("unused").await, "").await;
    assert!(events.iter().all(|e| e["eventName"] != "chart.read"), "events stay in their clinic");
}

async fn impossible_vitals_are_refused_and_abnormal_ones_flagged(app: TestApp) {
    let (_, patient, nurse) = clinic_with_patient(&app, "Vitals").await;
    let path = format!("/v1/patients/{patient}/vitals");
    let impossible = app
        .post(
            &path,
            &nurse,
            json!({"heartRate": 400, "temperature": {"value": 98.6, "unit": "C"}, "height": {"value": 3, "unit": "m"}}),
        )
        .await;
    assert_eq!(impossible.status, 422, "{impossible:?}");
    assert_eq!(impossible.error_fields(), ["heartRate", "temperature.value", "height.unit"]);
    let rule_only = app.post(&path, &nurse, json!({"heartRate": 400})).await;
    assert_eq!(rule_only.status, 422);
    let future = app.post(&path, &nurse, json!({"heartRate": 60, "measuredAt": "2099-01-01T00:00:00Z"})).await;
    assert_eq!(future.error_fields(), ["measuredAt"]);
    let flagged = app.post(&path, &nurse, json!({"temperature": {"value": 101.3, "unit": "F"}, "weight": {"value": 95, "unit": "kg"}, "height": {"value": 170, "unit": "cm"}})).await;
    assert_eq!(flagged.status, 201);
    assert_eq!(flagged.body["bmi"], 32.9);
    let flags: Vec<String> = flagged.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["measure"].as_str().unwrap(), f["flag"].as_str().unwrap()))
        .collect();
    assert_eq!(flags, ["temperature high", "bmi high"]);
}

async fn provenance_names_who_recorded_each_version_and_where_it_came_from(app: TestApp) {
    let (clinic, patient, practitioner) = clinic_with_patient(&app, "Provenance").await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let path = format!("/v1/patients/{patient}/medications");
    let mut body = chart_entry("medications").0;
    body["source"] = json!({"type": "imported", "system": "PreviousEMR"});
    let imported = app.post(&path, &practitioner, body.clone()).await;
    assert_eq!(imported.status, 201);
    assert_eq!(imported.body["source"], json!({"type": "imported", "system": "PreviousEMR"}));
    body["source"] = json!({"type": "patient-entered"});
    let claimed = app.post(&path, &practitioner, body).await;
    assert_eq!(claimed.status, 422, "patient-entered is set only by accepting a patient's form");
    assert_eq!(claimed.error_fields(), ["source.type"]);
    let mut with_envelope = chart_entry("medications").0;
    with_envelope["recordedBy"] = json!({"userId": "someone-else", "role": "admin"});
    assert_eq!(app.post(&path, &practitioner, with_envelope).await.error_fields(), ["recordedBy"]);

    let entry = format!("{path}/{}", imported.body["id"].as_str().unwrap());
    let stopped = app.patch(&entry, &nurse, "\"1\"", json!({"status": "stopped", "stopDate": "2026-06-01"})).await;
    assert_eq!(stopped.status, 200);
    assert_eq!(stopped.body["recordedBy"]["role"], "practitioner");
    assert_eq!(stopped.body["updatedBy"], json!({"userId": nurse_user, "role": "nurse"}));
    assert_eq!(stopped.body["source"]["type"], "staff-entered");
    let history = app.get(&format!("{entry}/history"), &nurse).await;
    assert_eq!(history.body["items"][0]["source"]["type"], "imported");
    assert_eq!(history.body["items"][0]["status"], "active");
    assert_eq!(history.body["items"][1]["status"], "stopped");
    let backwards = app.patch(&entry, &nurse, "\"2\"", json!({"stopDate": "2025-01-01"})).await;
    assert_eq!(backwards.status, 422);
    assert_eq!(backwards.error_fields(), ["stopDate"]);
}

async fn another_clinics_chart_is_not_found(app: TestApp) {
    let (_, patient, practitioner) = clinic_with_patient(&app, "Home").await;
    let (_, _, intruder) = clinic_with_patient(&app, "Away").await;
    let created =
        app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, chart_entry("allergies").0).await;
    let entry = format!("/v1/patients/{patient}/allergies/{}", created.body["id"].as_str().unwrap());
    assert_eq!(app.get(&entry, &intruder).await.status, 404);
    assert_eq!(app.get(&format!("{entry}/history"), &intruder).await.status, 404);
    assert_eq!(app.get(&format!("/v1/patients/{patient}/allergies"), &intruder).await.status, 404);
    assert_eq!(app.get(&format!("/v1/patients/{patient}/chart"), &intruder).await.status, 404);
    assert_eq!(app.patch(&entry, &intruder, "\"1\"", json!({"severity": "mild"})).await.status, 404);
    let planted = app.post(&format!("/v1/patients/{patient}/allergies"), &intruder, chart_entry("allergies").0).await;
    assert_eq!(planted.status, 404);
    assert_eq!(app.get(&entry, &practitioner).await.body["severity"], "severe", "nothing changed");
}

async fn a_retried_chart_write_records_one_version(app: TestApp) {
    let (_, patient, practitioner) = clinic_with_patient(&app, "Retry").await;
    let path = format!("/v1/patients/{patient}/allergies");
    let key = [("idempotency-key", "allergy-1")];
    let body = chart_entry("allergies").0;
    let first = app.send("POST", &path, Some(&practitioner), Some(body.clone()), &key).await;
    let second = app.send("POST", &path, Some(&practitioner), Some(body), &key).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(ids(&app.get(&path, &practitioner).await).len(), 1);
}

async fn chart_reads_and_writes_are_audited_with_the_patient(app: TestApp) {
    let (clinic, patient, practitioner) = clinic_with_patient(&app, "Audit").await;
    let created = app.post(&format!("/v1/patients/{patient}/notes"), &practitioner, chart_entry("notes").0).await;
    app.get(&format!("/v1/patients/{patient}/chart"), &practitioner).await;
    let events = app.audit(&clinic, &format!("&patientId={patient}")).await;
    let names: Vec<&str> = events.iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["chart.read", "notes.create"]);
    let resources = events[1]["resources"].to_string();
    assert!(resources.contains(created.body["id"].as_str().unwrap()));
    assert!(!events.iter().any(|e| e.to_string().contains("forehead")), "no clinical text in the audit trail");
}

async fn each_chart_route_makes_a_known_number_of_store_requests(
    app_and_counts: (TestApp, std::sync::Arc<vellum_tests::StoreCounts>),
) {
    let (app, counts) = app_and_counts;
    let (_, patient, practitioner) = clinic_with_patient(&app, "Counts").await;
    let notes = format!("/v1/patients/{patient}/notes");
    let treatments = format!("/v1/patients/{patient}/treatments");
    // (what, method, path, body, headers) → (gets, queries, transactions), the pipeline's reads of the
    // membership and of the patient the path names (made side by side, and the handler's own read of the
    // patient taken from it) and the access event included.
    let measure = |method: &'static str, path: String, body: Option<Value>, etag: Option<&'static str>| {
        let app = &app;
        let counts = counts.clone();
        let practitioner = practitioner.clone();
        async move {
            let before = counts.snapshot();
            let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
            let reply = app.send(method, &path, Some(&practitioner), body, &headers).await;
            assert!(reply.status < 300, "{method} {path}: {reply:?}");
            let after = counts.snapshot();
            ((after.0 - before.0, after.1 - before.1, after.2 - before.2), reply.body)
        }
    };
    let (create, note) = measure("POST", notes.clone(), Some(chart_entry("notes").0), None).await;
    assert_eq!(create, (2, 0, 1), "note create: membership, patient; one transaction");
    let note = format!("{notes}/{}", note["id"].as_str().unwrap());
    assert_eq!(measure("GET", note.clone(), None, None).await.0, (3, 0, 1), "read: membership, patient, entry");
    assert_eq!(measure("GET", notes.clone(), None, None).await.0, (2, 1, 1), "list");
    assert_eq!(measure("PATCH", note.clone(), Some(json!({"plan": "p"})), Some("\"1\"")).await.0, (3, 0, 1), "update");
    assert_eq!(measure("POST", format!("{note}/sign"), None, Some("\"2\"")).await.0, (3, 0, 1), "sign");
    assert_eq!(measure("GET", format!("{note}/history"), None, None).await.0, (2, 1, 1), "history");
    let retract =
        measure("POST", format!("{note}/entered-in-error"), Some(json!({"reason": "r"})), Some("\"3\"")).await;
    assert_eq!(retract.0, (3, 0, 1), "entered-in-error");
    let (treat, _) = measure("POST", treatments, Some(treatment_body("N-1", "2099-01-01")), None).await;
    assert_eq!(
        treat,
        (3, 1, 1),
        "treatment create: also the practitioner's membership, and the chart it is checked against"
    );
    let (allergy, _) =
        measure("POST", format!("/v1/patients/{patient}/allergies"), Some(json!({"noKnownAllergies": true})), None)
            .await;
    assert_eq!(allergy, (3, 1, 1), "no known allergies: also the allergies' guard, and the allergies recorded");
    assert_eq!(measure("GET", format!("/v1/patients/{patient}/chart"), None, None).await.0, (2, 1, 1), "summary");
    assert_eq!(measure("GET", "/v1/lot-recall?lotNumber=N-1".into(), None, None).await.0, (1, 1, 1), "recall");
}

/// A rule spanning entries holds when a rival write commits between a request's check of the chart and
/// its commit: the held request gets a 409 and writes nothing, so there is never a second aesthetic
/// profile, nor "no known allergies" recorded over an allergy it did not see.
async fn a_rival_write_between_check_and_commit_is_refused(app_and_counts: (TestApp, Arc<StoreCounts>)) {
    let (app, counts) = app_and_counts;
    let (_, patient, nurse) = clinic_with_patient(&app, "Races").await;
    let race = |segment: &'static str, held_prefix: &'static str, slow: Value, rival: Value| {
        let (app, nurse, counts) = (&app, nurse.clone(), counts.clone());
        let path = format!("/v1/patients/{patient}/{segment}");
        async move {
            let held = counts.hold_query(held_prefix);
            let slow = app.post(&path, &nurse, slow);
            let rival = async {
                held.reached().await;
                let reply = app.post(&path, &nurse, rival).await;
                held.release();
                reply
            };
            let (slow, rival) = tokio::join!(slow, rival);
            assert_eq!(rival.status, 201, "{rival:?}");
            assert_eq!(slow.status, 409, "the request that checked first commits nothing: {slow:?}");
            assert_eq!(slow.body["type"], "urn:vellum:problem:conflict");
        }
    };
    let (profile, _) = chart_entry("aesthetic-profile");
    race("aesthetic-profile", "ENTRY#PROFILE#", profile.clone(), profile).await;
    let profiles = app.get(&format!("/v1/patients/{patient}/aesthetic-profile"), &nurse).await;
    assert_eq!(ids(&profiles).len(), 1, "one aesthetic profile");

    let allergy = json!({"substance": "Lidocaine", "severity": "severe"});
    race("allergies", "ENTRY#ALLERGY#", json!({"noKnownAllergies": true}), allergy).await;
    let chart = app.get(&format!("/v1/patients/{patient}/chart"), &nurse).await.body;
    assert_eq!(chart["allergies"]["assessment"], "allergies-recorded");
    let allergies = app.get(&format!("/v1/patients/{patient}/allergies"), &nurse).await;
    assert_eq!(ids(&allergies).len(), 1, "no 'no known allergies' entry beside Lidocaine: {allergies:?}");
    // Allergies that only add to the list never hold each other up.
    let path = format!("/v1/patients/{patient}/allergies");
    let (a, b) = tokio::join!(
        app.post(&path, &nurse, json!({"substance": "Latex", "severity": "mild"})),
        app.post(&path, &nurse, json!({"substance": "Eggs", "severity": "mild"}))
    );
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
}

/// Runs tests that need the store's request counts, once per backend.
macro_rules! counted_on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod counted {
            $(
                mod $name {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn embedded() {
                        super::super::$name(vellum_tests::TestApp::spawn_counting(vellum_tests::Backend::Embedded).await).await;
                    }
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn aws() {
                        super::super::$name(vellum_tests::TestApp::spawn_counting(vellum_tests::Backend::Aws).await).await;
                    }
                }
            )*
        }
    };
}

counted_on_both_backends!(
    a_rival_write_between_check_and_commit_is_refused,
    the_chart_summary_is_one_records_query_with_what_matters_first,
    each_chart_route_makes_a_known_number_of_store_requests,
);

async fn a_treatment_whose_practitioner_has_left_can_still_be_corrected(app: TestApp) {
    let (clinic, patient, practitioner) = clinic_with_patient(&app, "Leavers").await;
    let (_, leaver) = app.member(&clinic, Role::Nurse).await;
    let mut body = treatment_body("LV-1", "2099-01-31");
    body["practitionerId"] = json!(leaver);
    let created = app.post(&format!("/v1/patients/{patient}/treatments"), &practitioner, body).await;
    assert_eq!(created.status, 201, "{created:?}");
    let off = app.patch(&format!("/v1/staff/{leaver}"), &clinic.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(off.status, 200, "{off:?}");
    let path = format!("/v1/patients/{patient}/treatments/{}", created.body["id"].as_str().unwrap());
    let corrected = app.patch(&path, &practitioner, "\"1\"", json!({"outcome": "Even result at review"})).await;
    assert_eq!(corrected.status, 200, "the leaver stays the treatment's practitioner: {corrected:?}");
    assert_eq!(corrected.body["practitionerId"], leaver.as_str());
    let (_, newcomer) = app.member(&clinic, Role::Practitioner).await;
    let handed = app.patch(&path, &practitioner, "\"2\"", json!({"practitionerId": newcomer})).await;
    assert_eq!(handed.status, 200, "{handed:?}");
    let back = app.patch(&path, &practitioner, "\"3\"", json!({"practitionerId": leaver})).await;
    assert_eq!(back.status, 409, "naming someone who has left is refused: {back:?}");
    assert_eq!(back.error_fields(), ["practitionerId"]);
}

on_both_backends!(
    a_treatment_whose_practitioner_has_left_can_still_be_corrected,
    every_kind_of_entry_is_versioned_from_creation_to_entered_in_error,
    a_signed_note_cannot_be_edited_and_is_corrected_by_an_addendum,
    an_expired_lot_is_refused_and_nothing_is_written,
    lot_recall_finds_exactly_the_patients_who_received_the_lot,
    front_desk_sees_allergies_but_no_notes_and_billing_sees_treatments_and_codes,
    impossible_vitals_are_refused_and_abnormal_ones_flagged,
    provenance_names_who_recorded_each_version_and_where_it_came_from,
    another_clinics_chart_is_not_found,
    a_retried_chart_write_records_one_version,
    chart_reads_and_writes_are_audited_with_the_patient,
);
