//! A patient's export: asked for by staff, built by the worker into one ZIP (the record as FHIR and as the
//! API shows it, a summary PDF, the photos opened, the signed consents, the access log), handed over through
//! a short-lived link that is audited, and deleted after seven days.

use std::io::Read as _;

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{TestApp, chart_entry, patient_body};

use super::fhir::{charted, validate};

/// The files of a ZIP, by path.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        files.insert(file.name().to_string(), content);
    }
    files
}

async fn run_worker(app: &TestApp, ahead: chrono::Duration) -> vellum::exports::Report {
    vellum::exports::run(&app.app, app.app.clock.now() + ahead).await.expect("the worker runs")
}

async fn a_patients_export_holds_their_whole_record_and_is_gone_after_seven_days(app: TestApp) {
    let (clinic, practitioner, patient) = charted(&app).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let note = app.post(&format!("/v1/patients/{patient}/notes"), &practitioner, chart_entry("notes").0).await;
    assert_eq!(note.status, 201, "{note:?}");
    let (photo, _) = app.photo(&nurse, &patient, "image/jpeg", vellum_tests::images::jpeg(64, 48), json!({})).await;
    let photo = photo["id"].as_str().unwrap().to_string();
    app.submission(&clinic, &patient).await;

    // Asked for: queued, and only those who see the whole record may.
    let path = format!("/v1/patients/{patient}/exports");
    let made = app.post(&path, &practitioner, json!({})).await;
    assert_eq!(made.status, 201, "{made:?}");
    assert_eq!((made.body["state"].as_str(), made.body["progress"]["percent"].as_u64()), (Some("queued"), Some(0)));
    let export = format!("{path}/{}", made.body["id"].as_str().unwrap());
    assert_eq!(made.header("location"), Some(export.as_str()));
    assert_eq!(app.post(&path, &nurse, json!({})).await.status, 403);
    let elsewhere = app.open_clinic("Elsewhere").await;
    let (stranger, _) = app.member(&elsewhere, Role::Practitioner).await;
    assert_eq!(app.get(&export, &stranger).await.status, 404);
    assert_eq!(app.get(&format!("{export}/download"), &practitioner).await.status, 409, "not ready yet");

    // Built by the worker.
    assert_eq!(
        run_worker(&app, chrono::Duration::zero()).await,
        vellum::exports::Report { built: 1, ..Default::default() }
    );
    let ready = app.get(&export, &clinic.admin).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!((ready.body["state"].as_str(), ready.body["progress"]["percent"].as_u64()), (Some("ready"), Some(100)));
    let contents = &ready.body["contents"];
    assert_eq!((contents["photos"].as_u64(), contents["consents"].as_u64()), (Some(1), Some(1)), "{ready:?}");
    let ready_at = chrono::DateTime::parse_from_rfc3339(ready.body["readyAt"].as_str().unwrap()).unwrap();
    let expires_at = chrono::DateTime::parse_from_rfc3339(ready.body["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at - ready_at, chrono::Duration::days(7));

    // Handed over through a short-lived link; the ZIP holds the whole record.
    let link = app.get(&format!("{export}/download"), &practitioner).await;
    assert_eq!(link.status, 200, "{link:?}");
    let fetched = app.client.get(link.body["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    let disposition = fetched.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"vellum-record-"), "{disposition}");
    let bytes = fetched.bytes().await.unwrap();
    assert_eq!(Some(bytes.len() as u64), ready.body["bytes"].as_u64());
    let files = unzip(&bytes);
    let record: Value = serde_json::from_slice(&files["record.json"]).unwrap();
    assert_eq!((record["resourceType"].as_str(), record["type"].as_str()), (Some("Bundle"), Some("collection")));
    let resources: Vec<Value> = record["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect();
    assert_eq!(Some(resources.len() as u64), contents["resources"].as_u64());
    validate(&resources);
    let types: std::collections::BTreeSet<&str> = resources.iter().filter_map(|r| r["resourceType"].as_str()).collect();
    for expected in [
        "Patient",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Observation",
        "Procedure",
        "Media",
        "QuestionnaireResponse",
        "Consent",
        "AuditEvent",
    ] {
        assert!(types.contains(expected), "{expected} in {types:?}");
    }
    // What the record links to travels with it.
    let consent = resources.iter().find(|r| r["resourceType"] == "Consent").unwrap();
    let pdf = &files[consent["sourceAttachment"]["url"].as_str().unwrap()];
    assert!(pdf.starts_with(b"%PDF"), "the signed consent");
    let media = resources.iter().find(|r| r["resourceType"] == "Media").unwrap();
    let jpeg = &files[media["content"]["url"].as_str().unwrap()];
    let viewed =
        app.client.get(format!("{}/v1/patients/{patient}/photos/{photo}", app.base)).bearer_auth(&practitioner);
    let viewed = viewed.send().await.unwrap().bytes().await.unwrap();
    assert_eq!(jpeg.as_slice(), viewed.as_ref(), "the photo, opened, as the clinic sees it");
    // The chart as the API shows it carries what FHIR does not: the note.
    let chart: Value = serde_json::from_slice(&files["chart.json"]).unwrap();
    assert!(chart["items"].as_array().unwrap().iter().any(|e| e["kind"] == "note"), "{chart}");
    let summary = &files["summary.pdf"];
    assert!(summary.starts_with(b"%PDF") && summary.windows(9).any(|w| w == b"Allergies"));
    let log: Value = serde_json::from_slice(&files["access-log.json"]).unwrap();
    let names: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert!(names.contains(&"exports.create"), "{names:?}");
    assert!(files.contains_key("README.txt"));

    // Each link given is in the patient's access log, as is the build.
    let trail = app.get(&format!("/v1/patients/{patient}/access-log?limit=100"), &clinic.admin).await;
    let names: Vec<&str> =
        trail.body["items"].as_array().unwrap().iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert!(names.contains(&"exports.download") && names.contains(&"exports.build"), "{names:?}");

    // Seven days on, the ZIP is deleted and the export says so.
    assert_eq!(run_worker(&app, chrono::Duration::days(6)).await, vellum::exports::Report::default());
    let report = run_worker(&app, chrono::Duration::days(7) + chrono::Duration::minutes(1)).await;
    assert_eq!(report.expired, 1, "{report:?}");
    let gone = app.get(&export, &practitioner).await;
    assert_eq!(gone.body["state"], "expired");
    assert_eq!(app.get(&format!("{export}/download"), &practitioner).await.status, 410);
    let key = format!("exports/{}/{patient}/{}.zip", clinic.id, made.body["id"].as_str().unwrap());
    let blobs = &app.app.photos.as_ref().unwrap().blobs;
    assert_eq!(blobs.get(&key).await.unwrap(), None, "the ZIP is deleted");
}

async fn an_export_of_a_patient_without_records_holds_the_patient(app: TestApp) {
    let clinic = app.open_clinic("Empty Export").await;
    let patient = app.patient(&clinic, patient_body("Nia", "Blank")).await["id"].as_str().unwrap().to_string();
    let made = app.post(&format!("/v1/patients/{patient}/exports"), &clinic.admin, json!({})).await;
    assert_eq!(made.status, 201, "{made:?}");
    assert_eq!(run_worker(&app, chrono::Duration::zero()).await.built, 1);
    let export = format!("/v1/patients/{patient}/exports/{}", made.body["id"].as_str().unwrap());
    let ready = app.get(&export, &clinic.admin).await;
    assert_eq!(
        (ready.body["contents"]["photos"].as_u64(), ready.body["contents"]["consents"].as_u64()),
        (Some(0), Some(0))
    );
    // Another clinic's patient, or an export id that is not theirs: not found.
    let elsewhere = app.open_clinic("Elsewhere").await;
    assert_eq!(app.post(&format!("/v1/patients/{patient}/exports"), &elsewhere.admin, json!({})).await.status, 404);
    let unknown = format!("/v1/patients/{patient}/exports/01JD0000000000000000000099");
    assert_eq!(app.get(&unknown, &clinic.admin).await.status, 404);
}

async fn an_export_that_cannot_be_built_fails_and_says_so(app: TestApp) {
    let clinic = app.open_clinic("Broken Export").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Ivo", "Lost")).await["id"].as_str().unwrap().to_string();
    app.photo(&practitioner, &patient, "image/jpeg", vellum_tests::images::jpeg(64, 48), json!({})).await;
    // The photo's sealed object is gone from the bucket.
    let blobs = &app.app.photos.as_ref().unwrap().blobs;
    let sealed = blobs.list("photos/", None).await.unwrap().objects;
    for object in &sealed {
        blobs.delete(&object.key).await.unwrap();
    }
    let made = app.post(&format!("/v1/patients/{patient}/exports"), &practitioner, json!({})).await;
    assert_eq!(run_worker(&app, chrono::Duration::zero()).await.failed, 1);
    let export = format!("/v1/patients/{patient}/exports/{}", made.body["id"].as_str().unwrap());
    let failed = app.get(&export, &practitioner).await;
    assert_eq!(failed.body["state"], "failed", "{failed:?}");
    assert!(failed.body["failure"].as_str().unwrap().contains("start a new one"), "{failed:?}");
    assert_eq!(app.get(&format!("{export}/download"), &practitioner).await.status, 409);
    // It is done with: the next run leaves it.
    assert_eq!(run_worker(&app, chrono::Duration::minutes(30)).await, vellum::exports::Report::default());
}

on_both_backends!(
    an_export_that_cannot_be_built_fails_and_says_so,
    a_patients_export_holds_their_whole_record_and_is_gone_after_seven_days,
    an_export_of_a_patient_without_records_holds_the_patient,
);
