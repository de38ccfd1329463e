//! Runs every sample event in `events/` through the function that serves it, on the embedded store
//! and on DynamoDB (moto): the same request a deployed function receives from API Gateway or Cognito.

use std::sync::Arc;

use serde_json::Value;
use vellum::app::{App, PhotoPorts};
use vellum::crypto::SecretKey;
use vellum::http::routes;
use vellum::store::Records;
use vellum_tests::Backend;
use vellum_tests::samples::{self, CLINIC, PATIENT, deployment_key, events_dir, read};

const TREATMENT: &str = "01JD0000000000000000000003";
const NOTE: &str = "01JD0000000000000000000004";
const PHOTO: &str = "01JD0000000000000000000005";
const INVITATION: &str = "01JD0000000000000000000006";
const SECOND_INVITATION: &str = "01JD0000000000000000000007";
const SUBMISSION: &str = "01JD0000000000000000000008";
const LINK_PHOTO: &str = "01JD0000000000000000000009";
const BREAK_GLASS: &str = "01JD0000000000000000000010";
const RESOURCE: &str = "01JD0000000000000000000011";
const SERVICE: &str = "01JD0000000000000000000012";
const APPOINTMENT: &str = "01JD0000000000000000000013";
const SECOND_APPOINTMENT: &str = "01JD0000000000000000000014";
const SAFETY_PRODUCT: &str = "01JD0000000000000000000015";
const EXPORT: &str = "01JD0000000000000000000016";
const ERASURE_REQUEST: &str = "01JD0000000000000000000017";
/// The link token the sample events use.
const SAMPLE_TOKEN: &str = "SampleLinkToken0000000000000000000000000000";
const SAMPLE_FEED_TOKEN: &str = "SampleFeedToken0000000000000000000000000000";

/// Sends one API Gateway event to its function's router; `next_id` is the id the call will create.
async fn invoke(stores: &Stores, function: &str, case: &str, next_id: Option<&str>) -> (u16, Value) {
    samples::invoke(stores.records.clone(), stores.photos.clone(), function, case, next_id).await
}

struct Stores {
    records: Arc<dyn Records>,
    photos: PhotoPorts,
    _dirs: (Option<tempfile::TempDir>, tempfile::TempDir),
}

async fn stores(backend: Backend) -> Stores {
    let (records, dir) = vellum_tests::records(backend).await;
    let photo_dir = tempfile::tempdir().unwrap();
    let (photos, _) = vellum_tests::photo_ports(backend, photo_dir.path(), "http://127.0.0.1:9").await;
    Stores { records, photos, _dirs: (dir, photo_dir) }
}

/// What the client uploads for the sample photo: a JPEG, padded after its end to the size it declared.
fn sample_upload(declared: usize) -> Vec<u8> {
    let mut jpeg = vellum_tests::images::jpeg(640, 480);
    assert!(jpeg.len() <= declared, "the sample JPEG is {} bytes", jpeg.len());
    jpeg.resize(declared, 0);
    jpeg
}

/// The cases, in an order that builds the data the later ones need, with the status each must give.
const SCENARIO: &[(&str, &str, u16, Option<&str>)] = &[
    ("clinics-create", "success", 201, Some(CLINIC)),
    ("clinics-create", "invalid-time-zone", 422, None),
    ("staff-join", "success", 200, None),
    ("staff-join", "used-code", 404, None),
    ("clinic-get", "success", 200, None),
    ("clinic-get", "not-a-member", 403, None),
    ("clinic-update", "success", 200, None),
    ("clinic-update", "stale-etag", 412, None),
    ("booking", "success", 200, None),
    ("booking", "unknown-clinic", 404, None),
    ("booking", "page", 200, None),
    ("staff-create", "success", 201, None),
    ("staff-create", "forbidden-role", 403, None),
    ("staff-join", "nurse", 200, None),
    ("staff-list", "success", 200, None),
    ("staff-list", "forbidden-role", 403, None),
    ("staff-update", "success", 200, None),
    ("staff-update", "stale-etag", 412, None),
    ("patients-create", "success", 201, Some(PATIENT)),
    ("patients-create", "missing-fields", 400, None),
    ("patients-list", "success", 200, None),
    ("patients-list", "tampered-cursor", 400, None),
    ("patients-get", "success", 200, None),
    ("patients-get", "unknown-patient", 404, None),
    ("patients-update", "success", 200, None),
    ("patients-update", "missing-if-match", 428, None),
    ("patients-access-log", "success", 200, None),
    ("patients-access-log", "forbidden-role", 403, None),
    ("audit-list", "success", 200, None),
    ("audit-list", "forbidden-role", 403, None),
    ("usage-read", "success", 200, None),
    ("usage-read", "future-month", 422, None),
    ("usage-csv", "success", 200, None),
    ("usage-csv", "malformed-month", 400, None),
    ("usage-operator", "success", 200, None),
    ("usage-operator", "forbidden-role", 403, None),
    ("plan-put", "success", 200, None),
    ("plan-put", "missing-if-match", 428, None),
    ("plan-get", "success", 200, None),
    ("plan-get", "forbidden-role", 403, None),
    ("break-glass-open", "success", 201, Some(BREAK_GLASS)),
    ("break-glass-open", "missing-reason", 422, None),
    ("break-glass-list", "success", 200, None),
    ("break-glass-list", "forbidden-role", 403, None),
    ("break-glass-review", "success", 200, None),
    ("break-glass-review", "already-reviewed", 409, None),
    ("resources-create", "success", 201, Some(RESOURCE)),
    ("resources-create", "missing-kind", 400, None),
    ("resources-list", "success", 200, None),
    ("resources-list", "unknown-status", 400, None),
    ("resources-update", "success", 200, None),
    ("resources-update", "stale-etag", 412, None),
    ("services-create", "success", 201, Some(SERVICE)),
    ("services-create", "unknown-resource", 404, None),
    ("services-list", "success", 200, None),
    ("services-list", "forbidden-role", 403, None),
    ("services-get", "success", 200, None),
    ("services-get", "unknown-service", 404, None),
    ("services-update", "success", 200, None),
    ("services-update", "missing-if-match", 428, None),
    ("clinic-hours-put", "success", 200, None),
    ("clinic-hours-put", "missing-if-match", 428, None),
    ("clinic-hours-get", "success", 200, None),
    ("clinic-hours-get", "unknown-parameter", 400, None),
    ("staff-hours-put", "success", 200, None),
    ("staff-hours-put", "overlapping-spans", 422, None),
    ("staff-hours-get", "success", 200, None),
    ("staff-hours-get", "unknown-member", 404, None),
    ("resources-hours-put", "success", 200, None),
    ("resources-hours-put", "forbidden-role", 403, None),
    ("resources-hours-get", "success", 200, None),
    ("resources-hours-get", "unknown-resource", 404, None),
    ("availability", "success", 200, None),
    ("availability", "too-long", 422, None),
    ("appointments-create", "success", 201, Some(APPOINTMENT)),
    ("appointments-create", "taken", 409, None),
    ("appointments-list", "success", 200, None),
    ("appointments-list", "too-long", 422, None),
    ("appointments-get", "success", 200, None),
    ("appointments-get", "unknown-appointment", 404, None),
    ("patients-appointments", "success", 200, None),
    ("patients-appointments", "unknown-patient", 404, None),
    ("appointments-cancel", "success", 200, None),
    ("appointments-cancel", "already-cancelled", 409, None),
    ("appointments-create", "second", 201, Some(SECOND_APPOINTMENT)),
    ("appointments-reschedule", "success", 200, None),
    ("appointments-reschedule", "off-interval", 409, None),
    ("appointments-status", "success", 200, None),
    ("appointments-status", "skipping-ahead", 409, None),
    ("chart-entry-create", "success", 201, Some(TREATMENT)),
    ("chart-entry-create", "expired-lot", 422, None),
    ("chart-entry-create", "note", 201, Some(NOTE)),
    ("chart-entry-list", "success", 200, None),
    ("chart-entry-list", "bad-filter", 400, None),
    ("chart-entry-get", "success", 200, None),
    ("chart-entry-get", "unknown-entry", 404, None),
    ("chart-entry-update", "success", 200, None),
    ("chart-entry-update", "stale-etag", 412, None),
    ("chart-note-sign", "success", 200, None),
    ("chart-note-sign", "already-signed", 409, None),
    ("chart-entry-invalidate", "success", 200, None),
    ("chart-entry-invalidate", "missing-reason", 400, None),
    ("chart-entry-history", "success", 200, None),
    ("chart-entry-history", "unknown-entry", 404, None),
    ("chart-summary", "success", 200, None),
    ("chart-summary", "unknown-patient", 404, None),
    ("fhir", "success", 200, None),
    ("fhir", "unknown-type", 400, None),
    ("fhir-transaction", "success", 200, None),
    ("fhir-transaction", "unknown-type", 400, None),
    ("patient-exports", "success", 201, Some(EXPORT)),
    ("patient-exports", "unknown-patient", 404, None),
    ("erasure-requests", "success", 201, Some(ERASURE_REQUEST)),
    ("erasure-requests", "unknown-patient", 404, None),
    ("erasure-requests-awaiting", "success", 200, None),
    ("erasure-requests-awaiting", "forbidden-role", 403, None),
    ("lot-recall", "success", 200, None),
    ("lot-recall", "missing-lot-number", 400, None),
    ("safety-check", "success", 200, None),
    ("safety-check", "unknown-product", 422, None),
    ("safety-products", "success", 201, Some(SAFETY_PRODUCT)),
    ("safety-products", "create-unknown-class", 422, None),
    ("safety-products", "list-success", 200, None),
    ("safety-products", "list-forbidden-role", 403, None),
    ("safety-products", "update-success", 200, None),
    ("safety-products", "update-stale-etag", 412, None),
    ("safety-overrides", "success", 200, None),
    ("safety-overrides", "forbidden-role", 403, None),
    ("photos-create", "success", 201, Some(PHOTO)),
    ("photos-create", "oversize", 422, None),
];

/// A staff member's calendar feed, once the sample feed's token is adopted (after `FEED_SETUP`).
const FEED_SETUP: &[(&str, &str, u16, Option<&str>)] =
    &[("calendar-feed-create", "success", 201, None), ("calendar-feed-create", "someone-else", 403, None)];
const FEED_SCENARIO: &[(&str, &str, u16, Option<&str>)] = &[
    ("calendar-feed-get", "success", 200, None),
    ("calendar-feed-get", "unknown-feed", 404, None),
    ("calendar-feed-revoke", "success", 200, None),
    ("calendar-feed-revoke", "already-revoked", 404, None),
];

/// The feed's token is random; the sample events use a fixed one, so the feed is given that token as if it
/// had drawn it.
async fn adopt_sample_feed_token(stores: &Stores) {
    use vellum::api::feeds::Feed;
    use vellum::domain::forms::invitation::token_hash;
    use vellum::store::{Cond, Table, Write, entity_from, entity_item};
    let clinic = CLINIC.parse().map(vellum::domain::values::EntityId).unwrap();
    let user: vellum::domain::values::UserId = serde_json::from_value("nurse-sample".into()).unwrap();
    let pointer = Feed::member_key(clinic, &user);
    let item = stores.records.get(Table::Records, &pointer).await.unwrap().expect("the nurse's feed");
    let drawn: Feed = entity_from(item).unwrap();
    let adopted = Feed { token_hash: token_hash(SAMPLE_FEED_TOKEN), ..drawn.clone() };
    let writes = vec![
        Write::Delete { table: Table::Records, key: Feed::link_key(&drawn.token_hash), cond: Cond::Exists },
        Write::put(Table::Records, entity_item(&Feed::link_key(&adopted.token_hash), &adopted), Cond::NotExists),
        Write::put(Table::Records, entity_item(&pointer, &adopted), Cond::Always),
    ];
    stores.records.transact(writes).await.unwrap();
}

/// After the upload is processed: the photo's reads, consent and erasure.
const PHOTO_SCENARIO: &[(&str, &str, u16, Option<&str>)] = &[
    ("photos-list", "success", 200, None),
    ("photos-list", "unknown-parameter", 400, None),
    ("photos-sets", "success", 200, None),
    ("photos-sets", "unknown-patient", 404, None),
    ("photos-get", "success", 200, None),
    ("photos-get", "marketing-without-consent", 403, None),
    ("photos-consent", "success", 200, None),
    ("photos-consent", "stale-etag", 412, None),
    ("photos-erase", "success", 200, None),
    ("photos-erase", "already-erased", 409, None),
    ("photos-erase-all", "success", 200, None),
    ("photos-erase-all", "missing-reason", 400, None),
];

/// The operator's check of the archive, after the stream's sample was archived.
const ARCHIVE_SCENARIO: &[(&str, &str, u16, Option<&str>)] =
    &[("audit-verify", "success", 200, None), ("audit-verify", "forbidden-role", 403, None)];

/// Pre-visit forms, after the invitation has been given the sample link's token.
const FORMS_SCENARIO: &[(&str, &str, u16, Option<&str>)] = &[
    ("forms-templates-list", "success", 200, None),
    ("forms-templates-list", "forbidden-role", 403, None),
    ("forms-templates-get", "success", 200, None),
    ("forms-templates-get", "unknown-template", 404, None),
    ("invitations-list", "success", 200, None),
    ("invitations-list", "forbidden-role", 403, None),
    ("intake-page", "success", 200, None),
    ("intake-page", "malformed-link", 404, None),
    ("intake-get", "success", 200, None),
    ("intake-get", "unknown-link", 404, None),
    ("intake-draft", "success", 200, None),
    ("intake-draft", "unknown-form", 404, None),
    ("intake-photo", "success", 201, Some(LINK_PHOTO)),
    ("intake-photo", "unsupported-type", 422, None),
    ("intake-submit", "incomplete", 422, None),
    ("intake-submit", "success", 201, Some(SUBMISSION)),
    ("submissions-list", "success", 200, None),
    ("submissions-list", "forbidden-role", 403, None),
    ("submissions-get", "success", 200, None),
    ("submissions-get", "unknown-submission", 404, None),
    ("submissions-consent", "success", 200, None),
    ("submissions-consent", "unsigned-form", 404, None),
    ("submissions-accept", "success", 200, None),
    ("submissions-accept", "already-accepted", 409, None),
    ("invitations-create", "second", 201, Some(SECOND_INVITATION)),
    ("invitations-revoke", "success", 200, None),
    ("invitations-revoke", "already-revoked", 409, None),
];

/// The invitation's link token is random; the sample events use a fixed one, so the invitation is given
/// that token as if it had drawn it (its link item moves to the token's hash).
async fn adopt_sample_token(stores: &Stores) {
    use vellum::domain::forms::invitation::{Invitation, token_hash};
    let staff_key = Invitation::staff_key(
        CLINIC.parse().map(vellum::domain::values::EntityId).unwrap(),
        PATIENT.parse().map(vellum::domain::values::EntityId).unwrap(),
        INVITATION.parse().map(vellum::domain::values::EntityId).unwrap(),
    );
    let item = stores.records.get(vellum::store::Table::Records, &staff_key).await.unwrap().expect("the invitation");
    let mut invitation: Invitation = vellum::store::entity_from(item).unwrap();
    invitation.token_hash = token_hash(SAMPLE_TOKEN);
    let put = |item| vellum::store::Write::put(vellum::store::Table::Records, item, vellum::store::Cond::Always);
    stores.records.transact(vec![put(invitation.link_item()), put(invitation.staff_item())]).await.unwrap();
}

/// A staff invitation's code is random; the join events use a fixed one, so the invitation an answer
/// carries the code of is moved to that code's hash, as if it had been drawn.
async fn every_sample_event_gives_its_expected_answer(backend: Backend) {
    let stores = stores(backend).await;
    for (function, case, expected, next_id) in SCENARIO {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
        samples::adopt_sample_staff_code(stores.records.as_ref(), &body).await;
    }
    for (function, case, expected, next_id) in FEED_SETUP {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
    }
    adopt_sample_feed_token(&stores).await;
    for (function, case, expected, next_id) in FEED_SCENARIO {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
    }
    // The nurse's week, the room's and the clinic's hours leave these starts on the Sunday the clocks
    // change (60 minutes with 10 and 15 of buffers, every 30, from 10:00 in the room).
    let (_, free) = invoke(&stores, "availability", "success", None).await;
    let sunday: Vec<&str> =
        free["items"].as_array().unwrap().iter().filter_map(|i| i["start"].as_str()).take(3).collect();
    assert_eq!(sunday, ["2027-03-14T10:30:00-07:00", "2027-03-14T13:30:00-07:00", "2027-03-14T14:00:00-07:00"]);
    // The client uploads the photo; the bucket's event runs the processing function.
    let event = vellum_tests::s3_event(&format!("quarantine/{CLINIC}/{PATIENT}/{PHOTO}"));
    let key = event.records[0].s3.object.key.clone().unwrap();
    stores.photos.blobs.put(&key, sample_upload(60000), "image/jpeg").await.unwrap();
    let app = Arc::new(App::new(stores.records.clone(), SecretKey::generate()).with_photos(stores.photos.clone()));
    vellum::photos::process::handle_s3_event(app.clone(), event, "sample").await.expect("the upload is processed");
    assert_eq!(stores.photos.blobs.get(&key).await.unwrap(), None, "quarantine is emptied");
    let again = vellum_tests::s3_event(&key);
    vellum::photos::process::handle_s3_event(app.clone(), again, "sample-again")
        .await
        .expect("a repeated event does no harm");
    // The audit stream's sample: an event archived, then an overwrite of it raised as tampering.
    let stream: vellum::archive::StreamEvent = serde_json::from_str(&read("audit-archive", "stream")).unwrap();
    let records = vellum::archive::from_stream_event(stream).expect("the stream's images read");
    let archive = vellum::archive::Archive { records: stores.records.clone(), blobs: stores.photos.blobs.clone() };
    let report = archive.handle(records, app.clock.now()).await.expect("archived");
    // The meter reads the same stream: the inserted event counts once, delivered twice.
    let stream: vellum::archive::StreamEvent = serde_json::from_str(&read("usage-meter", "stream")).unwrap();
    let changes = vellum::archive::from_stream_event(stream).expect("the stream's images read");
    let metered = vellum::metering::meter::meter(stores.records.as_ref(), &changes, app.clock.now()).await.unwrap();
    let again = vellum::metering::meter::meter(stores.records.as_ref(), &changes, app.clock.now()).await.unwrap();
    assert_eq!((metered.counted, again.counted, again.duplicates), (1, 0, 1), "{metered:?} {again:?}");
    // The billing export's schedule exports the latest closed month; a month by hand, that month; a month
    // that is not one, nothing.
    let export = |case: &str| {
        let event: Value = serde_json::from_str(&read("usage-export", case)).unwrap();
        let (stores, app) = (&stores, &app);
        async move {
            let blobs = stores.photos.blobs.as_ref();
            vellum::metering::export::handle(stores.records.as_ref(), blobs, &event, app.clock.now()).await
        }
    };
    let scheduled = export("scheduled").await.expect("the latest closed month is exported");
    let october = export("month").await.expect("a month asked for is exported");
    assert_eq!(october.month, "2026-10");
    assert_ne!(scheduled.month, october.month);
    assert!(matches!(export("bad-month").await, Err(vellum::metering::export::ExportError::BadMonth(_))));
    assert_eq!((report.archived, report.tampered, report.batches), (1, 1, 2), "{report:?}");
    // An operator verifies the clinic's chain: the overwrite shows as a break.
    for (function, case, expected, next_id) in ARCHIVE_SCENARIO {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
        if *case == "success" {
            assert_eq!((body["batches"].clone(), body["passed"].clone()), (serde_json::json!(2), false.into()));
        }
    }
    // The daily retirement (its schedule's event carries nothing it needs) removes nothing of a chain that
    // does not verify: the clinic's has an overwritten event and events the stream never archived.
    let scheduled: Value = serde_json::from_str(&read("audit-retire", "scheduled")).unwrap();
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
    let a_year_on = app.clock.now() + chrono::Duration::days(400);
    let retired = vellum::archive::retire::retire(&archive, a_year_on, 365).await.expect("the retirement runs");
    assert_eq!((retired.retired, retired.refused.clone()), (0, vec![CLINIC.to_string()]), "{retired:?}");
    // The daily sweep (its schedule's event carries nothing it needs) keeps the renditions a record names.
    let scheduled: Value = serde_json::from_str(&read("photos-sweep", "scheduled")).unwrap();
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
    let later = vellum_tests::now_seconds() + vellum::photos::sweep::GRACE_SECONDS + 60;
    let swept = vellum::photos::sweep::sweep(&app, later).await.expect("the sweep runs");
    assert_eq!((swept.examined, swept.deleted), (2, 0), "{swept:?}");
    for (function, case, expected, next_id) in PHOTO_SCENARIO {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
    }
    for (function, case, expected) in [
        ("forms-templates-put", "success", 201),
        ("forms-templates-put", "consent-copy", 201),
        ("forms-templates-put", "missing-if-match", 428),
        ("invitations-create", "unknown-template", 404),
    ] {
        let (status, body) = invoke(&stores, function, case, None).await;
        assert_eq!(status, expected, "{function}/{case}: {body}");
    }
    let (status, invitation) = invoke(&stores, "invitations-create", "success", Some(INVITATION)).await;
    assert_eq!(status, 201, "{invitation}");
    assert_eq!(invitation["delivery"]["status"], "queued");
    // A forged Host or X-Forwarded-* header never plants a foreign link: the gateway's own domain is used.
    let (status, forged) = invoke(&stores, "invitations-create", "forged-host", None).await;
    assert_eq!(status, 201, "{forged}");
    assert!(forged["link"].as_str().unwrap().starts_with("https://api.vellum.example/intake/"), "{forged}");
    // The dispatcher's schedule (its event carries nothing it needs) sends the text invitation, link and
    // all.
    let scheduled: Value = serde_json::from_str(&read("messages-dispatch", "scheduled")).unwrap();
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
    let outbox_dir = tempfile::tempdir().unwrap();
    let outbox = vellum::messages::local::LocalOutbox::new(outbox_dir.path().to_path_buf()).unwrap();
    let dispatcher = App::new(stores.records.clone(), deployment_key());
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let report = vellum::messages::dispatch::run(&dispatcher, &outbox, later).await.expect("the dispatcher runs");
    // (So is the confirmation of the appointment still on; the cancelled one's was withdrawn.)
    assert_eq!((report.sent, report.failed), (2, 0), "{report:?}");
    let sent = outbox.messages().unwrap();
    assert!(sent.iter().any(|m| m.text.contains(invitation["link"].as_str().unwrap())), "{sent:?}");
    adopt_sample_token(&stores).await;
    for (function, case, expected, next_id) in FORMS_SCENARIO {
        let (status, body) = invoke(&stores, function, case, *next_id).await;
        assert_eq!(status, *expected, "{function}/{case}: {body}");
    }
    let (_, submission) = invoke(&stores, "submissions-get", "success", None).await;
    assert_eq!(submission["signatures"][0]["ip"], "198.51.100.23");
    assert_eq!(submission["accepted"][0]["kind"], "allergy");
    let (_, patient) = invoke(&stores, "patients-get", "success", None).await;
    assert_eq!(patient["preferredName"], "Sammy");
    assert_eq!(patient["id"], PATIENT);
    let (_, log) = invoke(&stores, "patients-access-log", "success", None).await;
    // The dispatcher's sends ran at a later time than the calls after them: they head the log.
    let items = log["items"].as_array().unwrap();
    let sends = items.iter().take_while(|e| e["eventName"] == "messages.send").count();
    assert!(sends >= 2, "the invitation and the booking were sent: {items:?}");
    let calls = &items[sends..];
    let names: Vec<&str> = calls.iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    // The refused second revoke (409) names the patient from its path, so it is in the log too.
    assert_eq!(
        names[..5],
        ["patients.read", "submissions.read", "invitations.revoke", "invitations.revoke", "invitations.create"]
    );
    assert_eq!(calls[2]["outcome"], "error");
    for expected in ["photos.view", "photos.process", "intake.submit", "submissions.accept"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert_eq!(calls[0]["sourceIPAddress"], "203.0.113.10");

    // The chart events built a treatment (changed once) and a note (signed, then retracted).
    let (_, history) = invoke(&stores, "chart-entry-history", "success", None).await;
    let versions: Vec<i64> =
        history["items"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(history["items"][2]["enteredInError"]["reason"], "Charted on the wrong patient");
    let (_, chart) = invoke(&stores, "chart-summary", "success", None).await;
    assert_eq!(chart["recentTreatments"][0]["id"], TREATMENT);
    assert_eq!(chart["recentTreatments"][0]["outcome"], "Even result at review");
    assert!(chart["recentNotes"].as_array().unwrap().is_empty(), "the retracted note is out of the summary");
    let (_, recall) = invoke(&stores, "lot-recall", "success", None).await;
    assert_eq!(recall["items"][0]["patientId"], PATIENT);
    assert_eq!(recall["items"][0]["practitionerId"], "nurse-sample");

    // The token trigger reads the membership the events above created.
    let member: Value = serde_json::from_str(&read("auth-pre-token", "member")).unwrap();
    let answered = vellum::auth_trigger::handle(stores.records.as_ref(), member).await.expect("a member signs in");
    let details = &answered["response"]["claimsAndScopeOverrideDetails"];
    assert_eq!(details["accessTokenGeneration"]["claimsToAddOrOverride"]["clinic_id"], CLINIC);
    assert_eq!(details["groupOverrideDetails"]["groupsToOverride"][0], "admin");
    let operator: Value = serde_json::from_str(&read("auth-pre-token", "operator")).unwrap();
    let answered = vellum::auth_trigger::handle(stores.records.as_ref(), operator).await.expect("an operator signs in");
    assert_eq!(
        answered["response"]["claimsAndScopeOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"][0],
        "operator"
    );
    let stranger: Value = serde_json::from_str(&read("auth-pre-token", "unknown-user")).unwrap();
    let answered = vellum::auth_trigger::handle(stores.records.as_ref(), stranger).await.expect("a stranger signs in");
    let details = &answered["response"]["claimsAndScopeOverrideDetails"];
    assert_eq!(details["groupOverrideDetails"]["groupsToOverride"], serde_json::json!(["joiner"]), "only to join");
    assert_eq!(details["accessTokenGeneration"]["claimsToSuppress"], serde_json::json!(["clinic_id"]));
}

#[tokio::test]
async fn every_sample_event_gives_its_expected_answer_on_the_embedded_store() {
    every_sample_event_gives_its_expected_answer(Backend::Embedded).await;
}

#[tokio::test]
async fn every_sample_event_gives_its_expected_answer_on_dynamodb() {
    every_sample_event_gives_its_expected_answer(Backend::Aws).await;
}

#[test]
fn every_route_has_a_success_and_a_failure_event_and_every_event_is_run() {
    const FORM_SETUP: &[(&str, &str, u16, Option<&str>)] = &[
        ("forms-templates-put", "success", 201, None),
        ("forms-templates-put", "consent-copy", 201, None),
        ("forms-templates-put", "missing-if-match", 428, None),
        ("invitations-create", "success", 201, None),
        ("invitations-create", "forged-host", 201, None),
        ("invitations-create", "unknown-template", 404, None),
    ];
    let all = || {
        SCENARIO
            .iter()
            .chain(ARCHIVE_SCENARIO)
            .chain(PHOTO_SCENARIO)
            .chain(FORM_SETUP)
            .chain(FORMS_SCENARIO)
            .chain(FEED_SETUP)
            .chain(FEED_SCENARIO)
    };
    for route in routes::ROUTES.iter() {
        let cases: Vec<&str> = all().filter(|(f, ..)| *f == route.function).map(|(_, c, ..)| *c).collect();
        assert!(
            cases.contains(&"success") && cases.len() >= 2,
            "{} needs a success and a failure event",
            route.function
        );
    }
    for dir in std::fs::read_dir(events_dir()).unwrap() {
        let dir = dir.unwrap();
        let function = dir.file_name().to_string_lossy().to_string();
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_string();
            let used = all().any(|(f, c, ..)| *f == function && *c == name)
                || function == "auth-pre-token"
                || function == "photos-process"
                || function == "photos-sweep"
                || function == "audit-archive"
                || function == "audit-retire"
                || function == "messages-dispatch"
                || function == "usage-meter"
                || function == "usage-export";
            assert!(used, "events/{function}/{name}.json is not run by any test");
        }
    }
}

/// A deployed function reads the stack's cursor key from Secrets Manager at its cold start: a generated
/// secret is hashed into the key, a `CursorKey` the stack was given is the key itself, and a secret that
/// is missing or too short stops the function with a reason.
#[tokio::test]
async fn a_function_reads_the_stacks_cursor_key_from_its_secret() {
    use vellum::host::config::read_cursor_key;
    let config = vellum_tests::moto_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let store = |name: String, text: String| {
        let secrets = secrets.clone();
        async move {
            let made = secrets.create_secret().name(name).secret_string(text).send().await.expect("moto keeps it");
            made.arn().expect("an ARN").to_string()
        }
    };
    let generated = "Q7pX2kLm9RvT4sWz8NcY3bHd6FgJ1aEu5iOo0yUqZxCvBnMlKjHgFdSaPoIuYtRe".to_string();
    let arn = store(format!("generated-{suffix}"), generated.clone()).await;
    let expected: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(generated.as_bytes()).into();
    assert_eq!(read_cursor_key(&config, &arn).await.expect("a generated key").as_bytes(), &expected);

    let given = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, deployment_key().as_bytes());
    let arn = store(format!("given-{suffix}"), given).await;
    assert_eq!(read_cursor_key(&config, &arn).await.expect("a given key").as_bytes(), deployment_key().as_bytes());

    let arn = store(format!("short-{suffix}"), "too-short".into()).await;
    let refused = read_cursor_key(&config, &arn).await.expect_err("too short to be a key");
    assert!(refused.to_string().contains("at least 43 characters"), "{refused}");
    let missing = read_cursor_key(&config, &format!("missing-{suffix}")).await.expect_err("no such secret");
    assert!(missing.to_string().contains("cannot read the cursor key's secret"), "{missing}");
}

/// A deployed function reads its cursor key's secret only when a call needs it (a page, a change), once,
/// and a failed read is 503 for that call and tried again by the next: a read of one record never waits for
/// it, and nothing is sealed without it.
#[tokio::test]
async fn a_function_reads_its_keys_when_a_call_first_needs_them_and_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;
    let records: Arc<dyn Records> = Arc::new(vellum::store::memory::MemoryRecords::new());
    let dir = tempfile::tempdir().unwrap();
    let (photos, _) = vellum::host::config::embedded_photos_in(dir.path(), "http://127.0.0.1:9").unwrap();
    samples::open_sample_clinic(records.clone(), photos.clone()).await;
    let (status, _) = samples::invoke(records.clone(), photos, "patients-create", "success", Some(PATIENT)).await;
    assert_eq!(status, 201);

    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let read: vellum::app::ReadCursorKey = Arc::new(move || {
        let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
        Box::pin(async move { if first { Err("the secret is out of reach".into()) } else { Ok(deployment_key()) } })
    });
    let app = Arc::new(App::reading_keys(records, read));
    let router = vellum::http::pipeline::router(app, routes::SERVED.iter());
    let call = |function: &str| {
        let request = lambda_http::request::from_str(&samples::read(function, "success")).expect("an event");
        let router = router.clone();
        async move { router.oneshot(request).await.expect("infallible").status().as_u16() }
    };
    assert_eq!(call("patients-get").await, 200);
    assert_eq!(reads.load(Ordering::SeqCst), 0, "a read of one record needs no key");
    assert_eq!(call("patients-list").await, 503, "no page is sealed without the key");
    assert_eq!(call("patients-list").await, 200);
    assert_eq!(call("patients-list").await, 200);
    assert_eq!(reads.load(Ordering::SeqCst), 2, "read again after the failure, then kept");
}
