//! Before/after photos: uploads checked by their bytes, cleaned and sealed; views decrypted for a purpose
//! their consent covers and audited; erasure by destroying keys; before/after sets; tenant isolation.

use base64::Engine;
use serde_json::{Value, json};
use vellum::domain::photo::Photo;
use vellum::domain::role::Role;
use vellum::domain::values::EntityId;
use vellum::keyring::KeyError;
use vellum::photos::process::encryption_context;
use vellum::store::{Table, str_attr};
use vellum_tests::images::{GPS_MARKER, contains, has_exif, jpeg, jpeg_with_gps, png, png_claiming};
use vellum_tests::{Clinic, TestApp, patient_body};

struct Setup {
    clinic: Clinic,
    patient: String,
    nurse: String,
}

async fn setup(app: &TestApp, name: &str) -> Setup {
    let clinic = app.open_clinic(name).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Photo")).await["id"].as_str().unwrap().to_string();
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    Setup { clinic, patient, nurse }
}

fn id(photo: &Value) -> EntityId {
    EntityId::parse(photo["id"].as_str().unwrap()).unwrap()
}

fn ids(s: &Setup) -> (EntityId, EntityId) {
    (EntityId::parse(&s.clinic.id).unwrap(), EntityId::parse(&s.patient).unwrap())
}

/// Where the record says the display rendition is kept.
async fn display_key(app: &TestApp, clinic: EntityId, patient: EntityId, photo: EntityId) -> String {
    let item = app.records.get(Table::Records, &Photo::key(clinic, patient, photo)).await.unwrap().unwrap();
    item["display"]["objectKey"].as_str().unwrap().to_string()
}

async fn bucket_object(app: &TestApp, key: &str) -> Option<Vec<u8>> {
    app.app.photos.as_ref().unwrap().blobs.get(key).await.unwrap()
}

async fn image(app: &TestApp, s: &Setup, photo: &Value, query: &str) -> vellum_tests::Reply {
    app.get(&format!("/v1/patients/{}/photos/{}{query}", s.patient, photo["id"].as_str().unwrap()), &s.nurse).await
}

/// The raw image bytes of a view.
async fn image_bytes(app: &TestApp, s: &Setup, photo: &Value, query: &str) -> (u16, Vec<u8>, Option<String>) {
    let url = format!("{}/v1/patients/{}/photos/{}{query}", app.base, s.patient, photo["id"].as_str().unwrap());
    let response = app.client.get(url).bearer_auth(&s.nurse).send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
    assert!(status != 200 || response.headers()["content-type"] == "image/jpeg");
    (status, response.bytes().await.unwrap().to_vec(), cache)
}

async fn a_jpeg_with_gps_comes_out_upright_without_exif_and_is_sealed_in_the_bucket(app: TestApp) {
    let s = setup(&app, "Clean").await;
    let original = jpeg_with_gps(600, 400, 6);
    assert!(contains(&original, GPS_MARKER) && has_exif(&original));
    let (created, uploaded) = app.photo(&s.nurse, &s.patient, "image/jpeg", original, json!({})).await;
    assert_eq!(created["state"], "pending");
    assert!(created["upload"]["url"].as_str().unwrap().contains("quarantine/"));
    assert!(created.get("display").is_none() && !created.to_string().contains("wrappedKey"));
    assert_eq!(uploaded.status, 200, "{uploaded:?}");
    assert_eq!(uploaded.body["state"], "ready", "{uploaded:?}");

    let (status, display, cache) = image_bytes(&app, &s, &created, "?rendition=display").await;
    assert_eq!(status, 200);
    assert_eq!(cache.as_deref(), Some("no-store"));
    assert!(!has_exif(&display), "no EXIF at all");
    assert!(!contains(&display, GPS_MARKER));
    assert!(!display.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 segment");
    let decoded = image::load_from_memory(&display).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (400, 600), "turned upright by its orientation");
    let (_, thumbnail, _) = image_bytes(&app, &s, &created, "?rendition=thumbnail").await;
    assert_eq!(image::load_from_memory(&thumbnail).unwrap().height(), 320);

    let (clinic, patient) = ids(&s);
    let photo = id(&created);
    assert_eq!(bucket_object(&app, &Photo::quarantine_key(clinic, patient, photo)).await, None, "quarantine is empty");
    let stored = bucket_object(&app, &display_key(&app, clinic, patient, photo).await).await.unwrap();
    assert!(!stored.starts_with(&[0xFF, 0xD8]), "the stored object is not an image");
    assert!(image::load_from_memory(&stored).is_err());
    assert!(!contains(&stored, &display[display.len() - 64..]), "the plaintext is not in the bucket");
    let listed = app.get(&format!("/v1/patients/{}/photos", s.patient), &s.nurse).await;
    assert_eq!(listed.body["items"][0]["state"], "ready");
    assert_eq!(listed.body["items"][0]["renditions"]["display"], json!({"width": 400, "height": 600}));
    assert!(!listed.body.to_string().contains("wrappedKey") && !listed.body.to_string().contains("objectKey"));
}

async fn files_that_lie_or_break_are_rejected_with_reasons_and_leave_nothing_in_quarantine(app: TestApp) {
    let s = setup(&app, "Liars").await;
    let full = jpeg(300, 200);
    let bomb = png_claiming(20_000, 20_000);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("image/jpeg", png(40, 30), "declared image/jpeg but is a PNG image"),
        ("image/jpeg", full[..full.len() / 2].to_vec(), "damaged or truncated"),
        ("image/jpeg", b"I am a text file that says I am a JPEG".to_vec(), "not a JPEG, PNG or WebP"),
        ("image/png", bomb, "20000x20000 pixels"),
    ];
    let (clinic, patient) = ids(&s);
    for (declared, bytes, reason) in cases {
        let (created, uploaded) = app.photo(&s.nurse, &s.patient, declared, bytes, json!({})).await;
        assert_eq!(uploaded.body["state"], "rejected", "{reason}: {uploaded:?}");
        assert!(uploaded.body["rejection"].as_str().unwrap().contains(reason), "{uploaded:?}");
        let quarantined = Photo::quarantine_key(clinic, patient, id(&created));
        assert_eq!(bucket_object(&app, &quarantined).await, None, "{reason}");
        let view = image(&app, &s, &created, "").await;
        assert_eq!(view.status, 409);
        assert!(view.body["detail"].as_str().unwrap().contains(reason));
    }
    let oversize = app
        .post(
            &format!("/v1/patients/{}/photos", s.patient),
            &s.nurse,
            json!({"contentType": "image/jpeg", "byteSize": 100_000_000, "bodyArea": "face", "view": "front",
                   "capturedAt": "2026-11-20T15:00:00Z"}),
        )
        .await;
    assert_eq!(oversize.status, 422);
    assert_eq!(oversize.error_fields(), ["byteSize"]);
    let gif = app
        .post(
            &format!("/v1/patients/{}/photos", s.patient),
            &s.nurse,
            json!({"contentType": "image/gif", "byteSize": 100, "bodyArea": "face", "view": "front", "capturedAt": "2026-11-20T15:00:00Z"}),
        )
        .await;
    assert_eq!(gif.error_fields(), ["contentType"]);
}

async fn an_upload_of_another_size_than_signed_is_refused(app: TestApp) {
    let s = setup(&app, "Sizes").await;
    let bytes = jpeg(120, 80);
    let created = app
        .post(
            &format!("/v1/patients/{}/photos", s.patient),
            &s.nurse,
            json!({"contentType": "image/jpeg", "byteSize": bytes.len() - 1, "bodyArea": "face", "view": "front",
                   "capturedAt": "2026-11-20T15:00:00Z"}),
        )
        .await;
    let uploaded = app.upload(&created.body, bytes).await;
    match app.backend {
        // The local server checks its signed URLs as S3 checks presigned ones.
        vellum_tests::Backend::Embedded => assert_eq!(uploaded.status, 403, "{uploaded:?}"),
        // moto does not check presigned URLs; the processing compares the size it was told.
        vellum_tests::Backend::Aws => {
            assert_eq!(uploaded.body["state"], "rejected");
            assert!(uploaded.body["rejection"].as_str().unwrap().contains("declared"));
        }
    }
    let (clinic, patient) = ids(&s);
    assert_eq!(bucket_object(&app, &Photo::quarantine_key(clinic, patient, id(&created.body))).await, None);
    if app.backend == vellum_tests::Backend::Aws {
        let url = created.body["upload"]["url"].as_str().unwrap();
        assert!(url.contains("X-Amz-Expires=600"), "{url}");
        let signed = url.split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
        assert!(signed.contains("content-length") && signed.contains("content-type"), "{signed}");
    }
}

async fn a_data_key_does_not_open_under_another_patients_context(app: TestApp) {
    let s = setup(&app, "Contexts").await;
    let (created, _) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(64, 64), json!({})).await;
    let (clinic, patient) = ids(&s);
    let photo = id(&created);
    let item = app.records.get(Table::Records, &Photo::key(clinic, patient, photo)).await.unwrap().unwrap();
    let wrapped = item["display"]["wrappedKey"].as_str().unwrap();
    let wrapped = base64::engine::general_purpose::STANDARD.decode(wrapped).unwrap();
    let keyring = &app.app.photos.as_ref().unwrap().keyring;
    let other_patient = EntityId(ulid::Ulid::new());
    let refused = keyring.decrypt_data_key(&wrapped, &encryption_context(clinic, other_patient, photo)).await;
    assert!(matches!(refused, Err(KeyError::Refused)), "another patient's context");
    let own = keyring.decrypt_data_key(&wrapped, &encryption_context(clinic, patient, photo)).await;
    assert!(own.is_ok());
    assert_eq!(str_attr(&item, "state"), Some("ready"));
}

async fn another_clinics_photo_is_not_found(app: TestApp) {
    let s = setup(&app, "Mine").await;
    let other = setup(&app, "Theirs").await;
    let (created, _) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(64, 64), json!({})).await;
    let path = format!("/v1/patients/{}/photos/{}", s.patient, created["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &other.nurse).await.status, 404);
    let consent = app
        .send(
            "POST",
            &format!("{path}/consent"),
            Some(&other.nurse),
            Some(json!({"scope": "marketing"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(consent.status, 404);
    let (admin, _) = app.member(&other.clinic, Role::Practitioner).await;
    let erase = app
        .send("POST", &format!("{path}/erase"), Some(&admin), Some(json!({"reason": "x"})), &[("if-match", "\"2\"")])
        .await;
    assert_eq!(erase.status, 404);
    assert_eq!(app.get(&format!("/v1/patients/{}/photos", s.patient), &other.nurse).await.status, 404);
    assert_eq!(image(&app, &s, &created, "").await.status, 200, "still there for its own clinic");
}

async fn every_view_is_audited_and_consent_governs_each_purpose(app: TestApp) {
    let s = setup(&app, "Consent").await;
    let (created, _) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(64, 64), json!({})).await;
    assert_eq!(image(&app, &s, &created, "?purpose=clinical").await.status, 200);
    let marketing = image(&app, &s, &created, "?purpose=marketing").await;
    assert_eq!(marketing.status, 403, "clinical-record consent does not cover marketing");
    let path = format!("/v1/patients/{}/photos/{}/consent", s.patient, created["id"].as_str().unwrap());
    let granted =
        app.send("POST", &path, Some(&s.nurse), Some(json!({"scope": "marketing"})), &[("if-match", "\"2\"")]).await;
    assert_eq!(granted.status, 200, "{granted:?}");
    assert_eq!(image(&app, &s, &created, "?purpose=marketing").await.status, 200);
    assert_eq!(image(&app, &s, &created, "?purpose=education").await.status, 200, "marketing includes education");
    let withdrawn = app
        .send("POST", &path, Some(&s.nurse), Some(json!({"scope": "clinical-record"})), &[("if-match", "\"3\"")])
        .await;
    assert_eq!(withdrawn.status, 200);
    assert_eq!(withdrawn.body["consentHistory"].as_array().unwrap().len(), 2);
    assert_eq!(image(&app, &s, &created, "?purpose=marketing").await.status, 403, "withdrawal takes effect at once");

    let events = app.audit(&s.clinic, "").await;
    let views: Vec<&Value> = events.iter().filter(|e| e["eventName"] == "photos.view").collect();
    assert_eq!(views.len(), 5, "every view, allowed or refused, is an event");
    assert_eq!(views.iter().filter(|e| e["outcome"] == "denied").count(), 2);
    let served = views.iter().find(|e| e["outcome"] == "success").unwrap();
    assert!(served["resources"].to_string().contains(created["id"].as_str().unwrap()));
    assert!(events.iter().any(|e| e["eventName"] == "photos.process" && e["userIdentity"]["role"] == "system"));
}

async fn erasure_destroys_the_keys_so_no_stored_copy_can_be_read(app: TestApp) {
    let s = setup(&app, "Erase").await;
    let (admin_token, _) = (s.clinic.admin.clone(), ());
    let (created, _) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(64, 64), json!({})).await;
    assert_eq!(image(&app, &s, &created, "").await.status, 200);
    let (clinic, patient) = ids(&s);
    let photo = id(&created);
    // A copy of the sealed object, as an old object version or a bucket backup would keep it.
    let display = display_key(&app, clinic, patient, photo).await;
    let copy = bucket_object(&app, &display).await.unwrap();
    let path = format!("/v1/patients/{}/photos/{photo}/erase", s.patient);
    let by_nurse =
        app.send("POST", &path, Some(&s.nurse), Some(json!({"reason": "asked"})), &[("if-match", "\"2\"")]).await;
    assert_eq!(by_nurse.status, 403, "erasure is for administrators and practitioners");
    let erased = app
        .send(
            "POST",
            &path,
            Some(&admin_token),
            Some(json!({"reason": "The patient asked for it"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(erased.status, 200, "{erased:?}");
    assert_eq!(erased.body["state"], "erased");
    let item = app.records.get(Table::Records, &Photo::key(clinic, patient, photo)).await.unwrap().unwrap();
    assert!(
        item.get("display").is_none() && !Value::Object(item.clone()).to_string().contains("wrappedKey"),
        "no key is left"
    );
    assert_eq!(bucket_object(&app, &display).await, None);
    assert_eq!(image(&app, &s, &created, "").await.status, 410, "an erased photo is gone, not in conflict");
    assert!(vellum::photos::envelope::key_ref(&copy).is_some(), "the copy is a sealed object");
    assert!(!contains(&copy, &[0xFF, 0xD8, 0xFF]), "and holds no readable image");
    let events = app.audit(&s.clinic, &format!("&patientId={}", s.patient)).await;
    assert!(
        events.iter().any(|e| e["eventName"] == "photos.view" && e["outcome"] == "success"),
        "the trail keeps the views"
    );
    assert!(events.iter().any(|e| e["eventName"] == "photos.erase" && e["outcome"] == "success"));

    app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(32, 32), json!({})).await;
    app.photo(&s.nurse, &s.patient, "image/png", png(32, 32), json!({})).await;
    let all = app
        .send(
            "POST",
            &format!("/v1/patients/{}/photos/erase", s.patient),
            Some(&admin_token),
            Some(json!({"reason": "Erasure request"})),
            &[],
        )
        .await;
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(all.body, json!({"erased": 2, "remaining": 0}));
    let listed = app.get(&format!("/v1/patients/{}/photos", s.patient), &s.nurse).await;
    assert!(listed.body["items"].as_array().unwrap().iter().all(|p| p["state"] == "erased"));
}

async fn before_and_after_photos_pair_up_by_treatment_and_view(app: TestApp) {
    let s = setup(&app, "Sets").await;
    let (practitioner, _) = app.member(&s.clinic, Role::Practitioner).await;
    let treatment = app
        .post(
            &format!("/v1/patients/{}/treatments", s.patient),
            &practitioner,
            vellum_tests::treatment_body("S-1", "2099-01-01"),
        )
        .await;
    let treatment_id = treatment.body["id"].as_str().unwrap();
    for (view, phase, day) in [
        ("front", "before", "01"),
        ("left-profile", "before", "01"),
        ("front", "after", "15"),
        ("front", "after", "29"),
    ] {
        let extra = json!({"treatmentId": treatment_id, "phase": phase, "view": view, "capturedAt": format!("2026-10-{day}T10:00:00Z")});
        let (_, up) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(48, 48), extra).await;
        assert_eq!(up.body["state"], "ready");
    }
    app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(48, 48), json!({"view": "right-oblique"})).await;
    let sets = app.get(&format!("/v1/patients/{}/photo-sets", s.patient), &s.nurse).await;
    assert_eq!(sets.status, 200);
    let set = &sets.body["items"][0];
    assert_eq!(set["treatmentId"], treatment_id);
    assert_eq!(sets.body["items"].as_array().unwrap().len(), 1, "photos without a treatment are in no set");
    let front = &set["views"][0];
    assert_eq!(front["view"], "front");
    assert_eq!(front["before"].as_array().unwrap().len(), 1);
    let after: Vec<&str> =
        front["after"].as_array().unwrap().iter().map(|p| p["capturedAt"].as_str().unwrap()).collect();
    assert_eq!(after, ["2026-10-15T10:00:00.000000Z", "2026-10-29T10:00:00.000000Z"]);
    assert_eq!(set["views"][1]["view"], "left-profile");
    assert!(set["views"][1]["after"].as_array().unwrap().is_empty());

    let list = |query: &str| {
        let path = format!("/v1/patients/{}/photos?{query}", s.patient);
        let app = &app;
        let token = s.nurse.clone();
        async move { app.get(&path, &token).await.body["items"].as_array().unwrap().len() }
    };
    assert_eq!(list("view=front").await, 3);
    assert_eq!(list(&format!("treatmentId={treatment_id}")).await, 4);
    assert_eq!(list("capturedFrom=2026-10-10&capturedTo=2026-10-20").await, 1);
    assert_eq!(list("bodyArea=FACE").await, 5);
    let unknown_treatment = app
        .post(
            &format!("/v1/patients/{}/photos", s.patient),
            &s.nurse,
            json!({"contentType": "image/jpeg", "byteSize": 10, "bodyArea": "face", "view": "front",
                   "capturedAt": "2026-11-20T15:00:00Z", "treatmentId": ulid::Ulid::new().to_string(), "phase": "after"}),
        )
        .await;
    assert_eq!(unknown_treatment.status, 404);
    assert_eq!(unknown_treatment.error_fields(), ["treatmentId"]);
}

/// The sweep deletes sealed objects no record names (a run that lost its race, a photo that has no
/// record), once older than the grace period, and leaves the photo's own renditions and anything that
/// is not a rendition's key.
async fn the_sweep_deletes_only_old_objects_no_record_names(app: TestApp) {
    use vellum::photos::sweep::{GRACE_SECONDS, sweep};
    let s = setup(&app, "Sweep").await;
    let (photo, uploaded) = app.photo(&s.nurse, &s.patient, "image/jpeg", jpeg(300, 200), json!({})).await;
    assert_eq!(uploaded.status, 200, "{uploaded:?}");
    let (clinic, patient) = ids(&s);
    let kept = display_key(&app, clinic, patient, id(&photo)).await;
    let lost_run = format!(
        "photos/{clinic}/{patient}/{}/{}/display",
        id(&photo),
        EntityId::parse(&ulid::Ulid::new().to_string()).unwrap()
    );
    let no_record = format!("photos/{clinic}/{patient}/{}/{}/thumbnail", ulid::Ulid::new(), ulid::Ulid::new());
    let foreign = format!("photos/{clinic}/notes.txt");
    let blobs = &app.app.photos.as_ref().unwrap().blobs;
    for key in [&lost_run, &no_record, &foreign] {
        blobs.put(key, b"sealed bytes".to_vec(), "application/octet-stream").await.unwrap();
    }
    let now = vellum_tests::now_seconds();
    let early = sweep(&app.app, now).await.unwrap();
    assert_eq!(early.deleted, 0, "nothing younger than the grace period goes: {early:?}");
    let later = sweep(&app.app, now + GRACE_SECONDS + 60).await.unwrap();
    assert_eq!(later.deleted, 2, "{later:?}");
    assert_eq!(bucket_object(&app, &lost_run).await, None);
    assert_eq!(bucket_object(&app, &no_record).await, None);
    assert!(bucket_object(&app, &foreign).await.is_some(), "not a rendition's key: left alone");
    assert!(bucket_object(&app, &kept).await.is_some());
    assert_eq!(image(&app, &s, &photo, "").await.status, 200, "the photo still shows");
}

on_both_backends!(
    the_sweep_deletes_only_old_objects_no_record_names,
    a_jpeg_with_gps_comes_out_upright_without_exif_and_is_sealed_in_the_bucket,
    files_that_lie_or_break_are_rejected_with_reasons_and_leave_nothing_in_quarantine,
    an_upload_of_another_size_than_signed_is_refused,
    a_data_key_does_not_open_under_another_patients_context,
    another_clinics_photo_is_not_found,
    every_view_is_audited_and_consent_governs_each_purpose,
    erasure_destroys_the_keys_so_no_stored_copy_can_be_read,
    before_and_after_photos_pair_up_by_treatment_and_view,
);
