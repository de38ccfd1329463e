//! A patient's requests to erase or restrict their record: a restriction closes the record to all but
//! administrators and stops new writes until lifted; an erasure destroys the photos' keys at once and the
//! rest of the record once the clinic's retention period has passed, leaving a tombstone and the trail.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use vellum::domain::keys;
use vellum::domain::role::Role;
use vellum::domain::values::{EntityId, UserId};
use vellum::store::{Query, Table, query_all};
use vellum_tests::{Backend, Clinic, MovableClock, Reply, TestApp, chart_entry, every_day, patient_body};

/// Runs each named `async fn(TestApp, Arc<MovableClock>)` once per backend, on a clock the test moves.
macro_rules! on_both_backends_with_a_clock {
    ($($name:ident),* $(,)?) => {
        mod embedded_clocked {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(vellum_tests::Backend::Embedded, super::$name).await;
                }
            )*
        }
        mod aws_clocked {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(vellum_tests::Backend::Aws, super::$name).await;
                }
            )*
        }
    };
}

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp, Arc<MovableClock>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let clock = Arc::new(MovableClock::default());
    let (app, _) = TestApp::spawn_with(backend, |a| a.with_clock(clock.clone())).await;
    test(app, clock).await;
}

async fn decide(app: &TestApp, request: &str, token: &str, etag: &str, outcome: &str) -> Reply {
    let body = json!({"outcome": outcome, "reason": "Checked with the patient"});
    app.send("POST", &format!("{request}/decision"), Some(token), Some(body), &[("if-match", etag)]).await
}

async fn ask(app: &TestApp, token: &str, patient: &str, kind: &str) -> (String, Reply) {
    let made = app
        .post(
            &format!("/v1/patients/{patient}/erasure-requests"),
            token,
            json!({"kind": kind, "grounds": "Asked at the desk"}),
        )
        .await;
    assert_eq!(made.status, 201, "{made:?}");
    (made.header("location").unwrap().to_string(), made)
}

async fn a_restriction_closes_the_record_to_all_but_administrators_until_it_is_lifted(app: TestApp) {
    let clinic = app.open_clinic("Restricting").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let (desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let patient = app.patient(&clinic, patient_body("Rhea", "Restricted")).await["id"].as_str().unwrap().to_string();
    let allergies = format!("/v1/patients/{patient}/allergies");
    assert_eq!(app.post(&allergies, &practitioner, chart_entry("allergies").0).await.status, 201);
    let (_, link) = app.invite(&clinic, &patient, &["medical-history"]).await;

    // The front desk takes the request; the answer is due a month after it was received.
    let body = json!({"kind": "restriction", "receivedAt": "2026-11-30T09:00:00Z"});
    let made = app.post(&format!("/v1/patients/{patient}/erasure-requests"), &desk, body).await;
    assert_eq!(made.status, 201, "{made:?}");
    assert_eq!((made.body["state"].as_str(), made.body["answerDue"].as_str()), (Some("open"), Some("2026-12-30")));
    let request = made.header("location").unwrap().to_string();
    let unknown = json!({"kind": "forget-me"});
    let refused = app.post(&format!("/v1/patients/{patient}/erasure-requests"), &desk, unknown).await;
    assert_eq!((refused.status, refused.error_fields()), (422, vec!["kind".to_string()]), "{refused:?}");

    // It awaits the clinic's answer, soonest due first; only administrators see what awaits them.
    let awaiting = app.get("/v1/erasure-requests", &clinic.admin).await;
    assert_eq!(awaiting.body["items"][0]["answerDue"], "2026-12-30", "{awaiting:?}");
    assert_eq!(app.get("/v1/erasure-requests", &desk).await.status, 403);

    // Only an administrator decides, on the version read.
    assert_eq!(decide(&app, &request, &practitioner, "\"1\"", "grant").await.status, 403);
    assert_eq!(decide(&app, &request, &clinic.admin, "\"7\"", "grant").await.status, 412);
    let granted = decide(&app, &request, &clinic.admin, "\"1\"", "grant").await;
    assert_eq!((granted.status, granted.body["state"].as_str()), (200, Some("restricted")), "{granted:?}");
    assert_eq!(decide(&app, &request, &clinic.admin, "\"2\"", "refuse").await.status, 409, "decided already");
    assert_eq!(app.get("/v1/erasure-requests", &clinic.admin).await.body["items"], json!([]), "answered");

    // Closed to all but administrators, who read it and see why.
    let shown = app.get(&format!("/v1/patients/{patient}"), &clinic.admin).await;
    assert_eq!(shown.body["restriction"]["kind"], "restriction", "{shown:?}");
    for path in [format!("/v1/patients/{patient}"), allergies.clone(), format!("/fhir/R4/Patient/{patient}")] {
        let closed = app.get(&path, &practitioner).await;
        assert_eq!(closed.status, 403, "{path}: {closed:?}");
        assert!(closed.body.to_string().contains("restricted"), "{closed:?}");
    }
    assert_eq!(app.get(&allergies, &clinic.admin).await.status, 200);
    let search = "/v1/patients?familyName=Restricted";
    assert_eq!(app.get(search, &desk).await.body["items"], json!([]));
    assert_eq!(app.get(search, &clinic.admin).await.body["items"].as_array().unwrap().len(), 1);

    // Nothing new is written to it, an administrator's change included; the patient's link takes nothing.
    let invited = app
        .post("/v1/invitations", &clinic.admin, json!({"patientId": patient, "templateIds": ["medical-history"]}))
        .await;
    assert_eq!(invited.status, 409, "{invited:?}");
    let renamed =
        app.patch(&format!("/v1/patients/{patient}"), &clinic.admin, "\"1\"", json!({"pronouns": "she/her"})).await;
    assert_eq!(renamed.status, 409, "{renamed:?}");
    let opened = app.send("GET", &format!("/v1/intake/{link}"), None, None, &[]).await;
    assert_eq!(opened.status, 410, "{opened:?}");

    // The refusals are in the patient's access log.
    let log = app.get(&format!("/v1/patients/{patient}/access-log"), &clinic.admin).await;
    let denied = log.body["items"].as_array().unwrap().iter().filter(|e| e["outcome"] == "denied").count();
    assert!(denied >= 3, "{log:?}");

    // Lifted with a reason: open again.
    let lifted =
        app.post(&format!("{request}/lift"), &clinic.admin, json!({"reason": "The patient withdrew it"})).await;
    assert_eq!((lifted.status, lifted.body["state"].as_str()), (200, Some("lifted")), "{lifted:?}");
    assert_eq!(app.get(&format!("/v1/patients/{patient}"), &practitioner).await.status, 200);
    assert_eq!(app.post(&allergies, &practitioner, chart_entry("allergies").0).await.status, 201);
    assert_eq!(app.post(&format!("{request}/lift"), &clinic.admin, json!({"reason": "Again"})).await.status, 409);

    // Another clinic's staff find neither the request nor the patient.
    let elsewhere = app.open_clinic("Elsewhere").await;
    assert_eq!(app.get(&request, &elsewhere.admin).await.status, 404);
    let listed = app.get(&format!("/v1/patients/{patient}/erasure-requests"), &clinic.admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{listed:?}");
}

/// A token for `user` that the moved clock still takes.
fn token_at(app: &TestApp, clinic: &Clinic, user: &str, role: Role) -> String {
    let ctx = vellum::domain::fields::Context::now();
    let user = <UserId as vellum::domain::fields::ParseStr>::parse_str(user, &ctx).unwrap();
    let clinic = EntityId::parse(&clinic.id);
    app.tokens.issue(&user, clinic, role, app.app.clock.now().timestamp(), 3600)
}

/// Everything stored in the patient's own partitions.
async fn partitions(app: &TestApp, clinic: &str, patient: &str) -> usize {
    let (clinic, patient) = (EntityId::parse(clinic).unwrap(), EntityId::parse(patient).unwrap());
    let mut count = 0;
    for pk in [keys::chart_pk(clinic, patient), keys::chart_history_pk(clinic, patient)] {
        count += query_all(app.records.as_ref(), Query::new(Table::Records, pk).limit(100)).await.unwrap().len();
    }
    count
}

async fn an_erasure_destroys_the_photos_at_once_and_the_record_once_its_retention_has_passed(
    app: TestApp,
    clock: Arc<MovableClock>,
) {
    let clinic = app.open_clinic("Erasing").await;
    let (practitioner, practitioner_user) = app.member(&clinic, Role::Practitioner).await;
    let retention = json!({"recordRetention": {"jurisdiction": "DE", "years": 1}});
    let set = app.send("PATCH", "/v1/clinic", Some(&clinic.admin), Some(retention), &[("if-match", "\"1\"")]).await;
    assert_eq!(set.status, 200, "{set:?}");
    let patient = app.patient(&clinic, patient_body("Erin", "Erased")).await;
    let (patient, mrn) = (patient["id"].as_str().unwrap().to_string(), patient["mrn"].as_str().unwrap().to_string());
    assert_eq!(
        app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, chart_entry("allergies").0).await.status,
        201
    );
    let photo_bytes = vellum_tests::images::jpeg(64, 48);
    app.photo(&practitioner, &patient, "image/jpeg", photo_bytes, json!({})).await;
    app.submission(&clinic, &patient).await;
    let (_, link) = app.invite(&clinic, &patient, &["medical-history"]).await;
    let made = app.post(&format!("/v1/patients/{patient}/exports"), &practitioner, json!({})).await;
    assert_eq!(made.status, 201);
    vellum::exports::run(&app.app, app.app.clock.now()).await.unwrap();
    let bucket = &app.app.photos.as_ref().unwrap().blobs;
    assert_eq!(bucket.list("exports/", None).await.unwrap().objects.len(), 1);
    // An appointment with a note, on a Monday to come.
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let hours = format!("/v1/staff/{practitioner_user}/working-hours");
    assert_eq!(app.send("PUT", &hours, Some(&clinic.admin), Some(week), &[]).await.status, 200);
    let service = json!({"name": "Consult", "durationMinutes": 30, "performedBy": {"role": "practitioner"}});
    let service = app.post("/v1/services", &clinic.admin, service).await.body["id"].clone();
    let booking = json!({"patientId": patient, "serviceId": service, "start": "2027-01-11T10:00:00-08:00", "note": "Prefers mornings"});
    let booked = app.post("/v1/appointments", &clinic.admin, booking).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let appointment = booked.header("location").unwrap().to_string();

    // An upcoming appointment holds the erasure back; the request stays open.
    let (request, _) = ask(&app, &clinic.admin, &patient, "erasure").await;
    let held = decide(&app, &request, &clinic.admin, "\"1\"", "grant").await;
    assert_eq!(held.status, 409, "{held:?}");
    assert!(held.body["detail"].as_str().unwrap().contains("upcoming appointment"), "{held:?}");
    assert_eq!(app.get(&request, &clinic.admin).await.body["state"], "open");

    // Once it is past: the photos' keys are destroyed, the record kept (restricted) for its year.
    clock.set(Duration::days(60));
    let admin = token_at(&app, &clinic, &clinic.admin_user, Role::Admin);
    let practitioner = token_at(&app, &clinic, &practitioner_user, Role::Practitioner);
    let kept = decide(&app, &request, &admin, "\"1\"", "grant").await;
    assert_eq!((kept.status, kept.body["state"].as_str()), (200, Some("kept")), "{kept:?}");
    let erasure = &kept.body["erasure"];
    assert_eq!(
        (erasure["photosErased"].as_u64(), erasure["keptUntil"].as_str()),
        (Some(1), Some("2028-01-11")),
        "{kept:?}"
    );
    assert!(erasure["keptBecause"].as_str().unwrap().starts_with("DE: "), "{kept:?}");
    assert!(bucket.list("photos/", None).await.unwrap().objects.is_empty(), "the photo's objects are deleted");
    assert_eq!(app.get(&format!("/v1/patients/{patient}"), &practitioner).await.status, 403);
    assert_eq!(app.get(&appointment, &practitioner).await.status, 403, "its appointments are closed too");
    // A second request, still open when the record goes, can be refused after.
    let (second, _) = ask(&app, &admin, &patient, "restriction").await;
    let early = app.post(&format!("{request}/complete"), &admin, json!({})).await;
    assert_eq!(early.status, 409, "{early:?}");
    assert!(early.body["detail"].as_str().unwrap().contains("2028-01-11"), "{early:?}");
    assert!(partitions(&app, &clinic.id, &patient).await > 0);

    // After the retention period: the record is erased, a tombstone and the trail remain.
    clock.set(Duration::days(60 + 800));
    let admin = token_at(&app, &clinic, &clinic.admin_user, Role::Admin);
    let done = app.post(&format!("{request}/complete"), &admin, json!({})).await;
    let requests = app.get(&format!("/v1/patients/{patient}/erasure-requests"), &admin).await;
    assert_eq!(requests.body["items"].as_array().map(Vec::len), Some(2), "the requests stay: {requests:?}");
    let refused = decide(&app, &second, &admin, "\"1\"", "refuse").await;
    assert_eq!((refused.status, refused.body["state"].as_str()), (200, Some("refused")), "{refused:?}");
    assert_eq!((done.status, done.body["state"].as_str()), (200, Some("erased")), "{done:?}");
    assert!(done.body["erasure"]["itemsDeleted"].as_u64().unwrap() > 5, "{done:?}");
    assert_eq!(done.body["erasure"]["photosErased"], 1, "counted once: {done:?}");
    assert!(done.body["erasure"].get("keptUntil").is_none(), "{done:?}");
    let gone = app.get(&format!("/v1/patients/{patient}"), &admin).await;
    assert_eq!(gone.status, 410, "{gone:?}");
    assert!(gone.body["detail"].as_str().unwrap().contains("erased"), "{gone:?}");
    let fhir = app.get(&format!("/fhir/R4/Patient/{patient}"), &admin).await;
    assert_eq!((fhir.status, fhir.body["resourceType"].as_str()), (410, Some("OperationOutcome")), "{fhir:?}");
    let by_id = app.get(&format!("/fhir/R4/Patient?_id={patient}"), &admin).await;
    assert_eq!((by_id.status, &by_id.body["entry"]), (200, &json!([])), "{by_id:?}");
    assert_eq!(partitions(&app, &clinic.id, &patient).await, 0);
    assert_eq!(app.get(&format!("/v1/patients?mrn={mrn}"), &admin).await.body["items"], json!([]));
    assert_eq!(app.send("GET", &format!("/v1/intake/{link}"), None, None, &[]).await.status, 404);
    assert!(bucket.list("exports/", None).await.unwrap().objects.is_empty(), "the export's ZIP is deleted");
    let past = app.get(&appointment, &admin).await;
    assert_eq!(past.status, 200, "{past:?}");
    assert!(past.body.get("note").is_none_or(Value::is_null), "the note is gone: {past:?}");
    let log = app.get(&format!("/v1/patients/{patient}/access-log"), &admin).await;
    assert_eq!(log.status, 200, "the trail stays: {log:?}");
    assert!(
        log.body["items"].as_array().unwrap().iter().any(|e| e["eventName"] == "erasure-requests.complete"),
        "{log:?}"
    );
    assert_eq!(app.get(&request, &admin).await.body["state"], "erased");
}

async fn an_erasure_without_a_retention_period_keeps_the_record_and_says_why(app: TestApp) {
    let clinic = app.open_clinic("No Retention").await;
    let patient = app.patient(&clinic, patient_body("Kim", "Kept")).await["id"].as_str().unwrap().to_string();
    let (request, _) = ask(&app, &clinic.admin, &patient, "erasure").await;
    // An export being built holds the erasure back: its ZIP would outlive it.
    assert_eq!(app.post(&format!("/v1/patients/{patient}/exports"), &clinic.admin, json!({})).await.status, 201);
    let building = decide(&app, &request, &clinic.admin, "\"1\"", "grant").await;
    assert_eq!(building.status, 409, "{building:?}");
    assert!(building.body["detail"].as_str().unwrap().contains("export"), "{building:?}");
    vellum::exports::run(&app.app, app.app.clock.now()).await.unwrap();
    let kept = decide(&app, &request, &clinic.admin, "\"1\"", "grant").await;
    assert_eq!((kept.status, kept.body["state"].as_str()), (200, Some("kept")), "{kept:?}");
    assert!(kept.body["erasure"]["keptBecause"].as_str().unwrap().contains("recordRetention"), "{kept:?}");
    assert!(kept.body["erasure"].get("keptUntil").is_none(), "{kept:?}");
    // A kept erasure still awaits the clinic, last while it has no period to end.
    let awaiting = app.get("/v1/erasure-requests", &clinic.admin).await;
    assert_eq!(awaiting.body["items"][0]["state"], "kept", "{awaiting:?}");
    let not_yet = app.post(&format!("{request}/complete"), &clinic.admin, json!({})).await;
    assert_eq!(not_yet.status, 409, "{not_yet:?}");
    // Its restriction is the erasure's: a restriction request neither replaces nor lifts it.
    let (second, _) = ask(&app, &clinic.admin, &patient, "restriction").await;
    assert_eq!(decide(&app, &second, &clinic.admin, "\"1\"", "grant").await.status, 409);
    let refused = decide(&app, &second, &clinic.admin, "\"1\"", "refuse").await;
    assert_eq!(refused.body["state"], "refused", "{refused:?}");
}

on_both_backends!(
    a_restriction_closes_the_record_to_all_but_administrators_until_it_is_lifted,
    an_erasure_without_a_retention_period_keeps_the_record_and_says_why,
);

on_both_backends_with_a_clock!(an_erasure_destroys_the_photos_at_once_and_the_record_once_its_retention_has_passed);
