//! Pre-visit forms: templates and their versions, invitation links (expired, revoked, used, wrong), drafts,
//! submissions checked field by field, signed consents, the review into the chart, and isolation.

use serde_json::{Value, json};
use vellum::domain::forms::invitation::{Invitation, token_hash};
use vellum::domain::role::Role;
use vellum::ids::Clock;
use vellum::store::{Cond, Table, Write};
use vellum_tests::{Clinic, TestApp, complete_answers, drawn_signature, patient_body};

async fn clinic_and_patient(app: &TestApp, name: &str) -> (Clinic, String) {
    let clinic = app.open_clinic(name).await;
    let patient = app.patient(&clinic, patient_body("Ana", "Forms")).await;
    (clinic, patient["id"].as_str().unwrap().to_string())
}

async fn intake(app: &TestApp, method: &str, token: &str, tail: &str, body: Option<Value>) -> vellum_tests::Reply {
    app.send(method, &format!("/v1/intake/{token}{tail}"), None, body, &[]).await
}

/// A problem as the patient sees it, without the request id.
fn problem(reply: &vellum_tests::Reply) -> (u16, Value) {
    let mut body = reply.body.clone();
    body.as_object_mut().unwrap().remove("requestId");
    (reply.status, body)
}

async fn a_link_shows_only_what_the_forms_need_keeps_drafts_and_is_used_up_by_its_submission(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Glow").await;
    let (invitation, token) = app.invite(&clinic, &patient, &["medical-history", "neurotoxin-consent"]).await;
    assert!(invitation["link"].as_str().unwrap().ends_with(&format!("/intake/{token}")));
    assert!(!invitation.to_string().contains(&token_hash(&token)), "staff never see the token's hash");
    let opened = intake(&app, "GET", &token, "", None).await;
    assert_eq!(opened.status, 200, "{opened:?}");
    assert_eq!(opened.body["clinicName"], "Glow");
    assert_eq!(opened.body["patientFirstName"], "Ana");
    let text = opened.body.to_string();
    for private in ["Forms", "1988-04-12", "patient@mail.example", "+14155550123", &patient] {
        assert!(!text.contains(private), "the link reveals {private}");
    }
    assert_eq!(opened.body["forms"][1]["content"]["sections"][0]["questions"][1]["kind"], "signature");

    let draft = json!({"answers": {"medical-history": {"keloids": true, "conditions": "Asthma"}}});
    assert_eq!(intake(&app, "PUT", &token, "/draft", Some(draft)).await.status, 200);
    assert_eq!(intake(&app, "GET", &token, "", None).await.body["draft"]["medical-history"]["conditions"], "Asthma");
    let stranger = json!({"answers": {"someone-elses-form": {}}});
    assert_eq!(intake(&app, "PUT", &token, "/draft", Some(stranger)).await.status, 404, "a form not of the link");

    let mut incomplete = complete_answers();
    incomplete["answers"]["medical-history"].as_object_mut().unwrap().remove("pregnant");
    incomplete["answers"]["neurotoxin-consent"]["signature"]["drawing"] = json!("data:image/gif;base64,R0lGOD");
    incomplete["answers"]["medical-history"]["bleeding"] = json!(true);
    let refused = intake(&app, "POST", &token, "/submit", Some(incomplete)).await;
    assert_eq!(refused.status, 422, "{refused:?}");
    assert_eq!(
        refused.error_fields(),
        [
            "answers.medical-history.pregnant",
            "answers.medical-history.bleeding-details",
            "answers.neurotoxin-consent.signature"
        ]
    );
    let sent = app
        .send(
            "POST",
            &format!("/v1/intake/{token}/submit"),
            None,
            Some(complete_answers()),
            &[("user-agent", "PhoneBrowser/1.0")],
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let used = intake(&app, "GET", &token, "", None).await;
    assert_eq!(used.status, 410);
    assert_eq!(intake(&app, "POST", &token, "/submit", Some(complete_answers())).await.status, 410);

    let (doctor, _) = app.member(&clinic, Role::Practitioner).await;
    let id = sent.body["submissionId"].as_str().unwrap();
    let submission = app.get(&format!("/v1/patients/{patient}/submissions/{id}"), &doctor).await;
    assert_eq!(submission.status, 200);
    assert_eq!(submission.body["forms"][0]["version"], 1);
    let signature = &submission.body["signatures"][0];
    assert_eq!(signature["typedName"], "Ana García");
    assert_eq!(signature["userAgent"], "PhoneBrowser/1.0");
    assert!(signature["ip"].as_str().is_some_and(|ip| ip.starts_with("127.")));
    let consent_text =
        opened.body["forms"][1]["content"]["sections"][0]["questions"][1]["consentText"].as_str().unwrap();
    assert_eq!(signature["consentTextSha256"], vellum::crypto::sha256_hex(consent_text.as_bytes()));
    assert!(!submission.body.to_string().contains("base64"), "drawings stay out of the JSON");
    let pdf = app
        .client
        .get(format!("{}/v1/patients/{patient}/submissions/{id}/consents/neurotoxin-consent", app.base))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.windows(9).any(|w| w == b"Signed by"));
    let invitations = app.get(&format!("/v1/patients/{patient}/invitations"), &clinic.admin).await;
    assert_eq!(invitations.body["items"][0]["status"], "used");
    assert_eq!(invitations.body["items"][0]["submissionId"], id);
}

async fn expired_revoked_and_wrong_links_look_like_links_that_never_existed(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Links").await;
    let (_, never) = {
        let (token, _) = vellum::domain::forms::invitation::new_token();
        ((), token)
    };
    let unknown = problem(&intake(&app, "GET", &never, "", None).await);
    assert_eq!(unknown.0, 404);
    assert_eq!(problem(&intake(&app, "GET", "short", "", None).await), unknown);

    let (revoked_invitation, revoked) = app.invite(&clinic, &patient, &["medical-history"]).await;
    let path = format!("/v1/patients/{patient}/invitations/{}/revoke", revoked_invitation["id"].as_str().unwrap());
    assert_eq!(app.post(&path, &clinic.admin, json!({})).await.status, 200);
    assert_eq!(app.post(&path, &clinic.admin, json!({})).await.status, 409);
    assert_eq!(problem(&intake(&app, "GET", &revoked, "", None).await), unknown);
    assert_eq!(problem(&intake(&app, "POST", &revoked, "/submit", Some(complete_answers())).await), unknown);

    let (_, expired) = app.invite(&clinic, &patient, &["medical-history"]).await;
    let key = Invitation::link_key(&token_hash(&expired));
    let mut item = app.records.get(Table::Records, &key).await.unwrap().unwrap();
    item.insert("expiresAt".into(), json!(vellum_tests::now_seconds() - 1));
    app.records.transact(vec![Write::put(Table::Records, item, Cond::Always)]).await.unwrap();
    assert_eq!(problem(&intake(&app, "GET", &expired, "", None).await), unknown);

    let (other, _) = clinic_and_patient(&app, "Elsewhere").await;
    assert_eq!(app.post(&path, &other.admin, json!({})).await.status, 404, "another clinic's invitation is not found");
}

async fn a_submission_keeps_the_template_version_it_answered(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Versions").await;
    let (_, token) = app.invite(&clinic, &patient, &["medical-history", "neurotoxin-consent"]).await;
    let mut changed = app.get("/v1/form-templates/medical-history", &clinic.admin).await.body["content"].clone();
    changed["title"] = json!("Medical history (2027)");
    let no_etag =
        app.send("PUT", "/v1/form-templates/medical-history", Some(&clinic.admin), Some(changed.clone()), &[]).await;
    assert_eq!(no_etag.status, 428);
    let stale = app
        .send(
            "PUT",
            "/v1/form-templates/medical-history",
            Some(&clinic.admin),
            Some(changed.clone()),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    let saved = app
        .send("PUT", "/v1/form-templates/medical-history", Some(&clinic.admin), Some(changed), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(saved.status, 200, "{saved:?}");
    assert_eq!(saved.body["version"], 2);
    let sent = intake(&app, "POST", &token, "/submit", Some(complete_answers())).await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let id = sent.body["submissionId"].as_str().unwrap();
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let by_admin = app.get(&format!("/v1/patients/{patient}/submissions/{id}"), &clinic.admin).await;
    assert_eq!(by_admin.status, 403, "answers hold medications, which administrators do not read in the chart");
    let submission = app.get(&format!("/v1/patients/{patient}/submissions/{id}"), &nurse).await;
    assert_eq!(submission.body["forms"][0]["version"], 1);
    assert_eq!(submission.body["forms"][0]["title"], "Medical history");
    let first = app.get("/v1/form-templates/medical-history?version=1", &clinic.admin).await;
    assert_eq!(first.body["content"]["title"], "Medical history");
    let (next, _) = app.invite(&clinic, &patient, &["medical-history"]).await;
    assert_eq!(next["forms"][0]["version"], 2);

    let broken = json!({"title": "", "sections": [{"title": "S", "questions": [{"id": "x", "kind": "signature", "label": "Sign"}]}]});
    let refused = app.send("PUT", "/v1/form-templates/broken", Some(&clinic.admin), Some(broken), &[]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["title", "sections[0].questions[0].consentText"]);
    let unknown =
        app.send("PUT", "/v1/form-templates/copy", Some(&clinic.admin), Some(json!({"copyOf": "nope"})), &[]).await;
    assert_eq!(unknown.error_fields(), ["copyOf"]);
}

async fn oversize_answers_are_refused(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Sizes").await;
    let (_, token) = app.invite(&clinic, &patient, &["medical-history", "neurotoxin-consent"]).await;
    let mut long = complete_answers();
    long["answers"]["medical-history"]["conditions"] = json!("x".repeat(2001));
    let refused = intake(&app, "POST", &token, "/submit", Some(long)).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["answers.medical-history.conditions"]);
    let mut huge = complete_answers();
    huge["answers"]["medical-history"]["conditions"] = json!("x".repeat(300_000));
    assert_eq!(intake(&app, "PUT", &token, "/draft", Some(huge)).await.status, 413);
    let too_many: Vec<Value> = (0..51).map(|i| json!({"substance": format!("S{i}")})).collect();
    let mut many = complete_answers();
    many["answers"]["medical-history"]["allergies"] = json!(too_many);
    assert_eq!(
        intake(&app, "POST", &token, "/submit", Some(many)).await.error_fields(),
        ["answers.medical-history.allergies"]
    );
    let mut forged = complete_answers();
    forged["answers"]["neurotoxin-consent"]["signature"]["drawing"] =
        json!(format!("{}{}", drawn_signature(), "A".repeat(90_000)));
    assert_eq!(intake(&app, "POST", &token, "/submit", Some(forged)).await.status, 422);
}

async fn nothing_a_patient_wrote_reaches_the_chart_until_staff_accept_it(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Review").await;
    let submission = app.submission(&clinic, &patient).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let chart = format!("/v1/patients/{patient}/chart");
    assert_eq!(app.get(&chart, &nurse).await.body["allergies"]["assessment"], "not-yet-asked");
    assert!(app.get(&chart, &nurse).await.body["medications"].as_array().unwrap().is_empty());
    let accept = format!("/v1/patients/{patient}/submissions/{submission}/accept");
    let items = json!({"items": [
        {"templateId": "medical-history", "questionId": "allergies", "index": 0},
        {"templateId": "medical-history", "questionId": "medications", "index": 0},
    ]});
    let accepted = app.post(&accept, &nurse, items.clone()).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let summary = app.get(&chart, &nurse).await.body;
    let allergy = &summary["allergies"]["items"][0];
    assert_eq!(allergy["substance"], "Penicillin");
    assert_eq!(allergy["severity"], "moderate");
    assert_eq!(allergy["source"], json!({"type": "patient-entered", "submissionId": submission}));
    assert_eq!(allergy["recordedBy"]["role"], "nurse");
    assert_eq!(summary["medications"][0]["name"], "Valacyclovir");
    assert_eq!(summary["allergies"]["items"].as_array().unwrap().len(), 1, "Latex was not accepted");
    assert_eq!(app.post(&accept, &nurse, items).await.status, 409, "accepted once only");
    let past_end = app
        .post(
            &accept,
            &nurse,
            json!({"items": [{"templateId": "medical-history", "questionId": "allergies", "index": 9}]}),
        )
        .await;
    assert_eq!(past_end.error_fields(), ["items[0].index"]);
    let not_a_list = json!({"items": [{"templateId": "medical-history", "questionId": "pregnant"}]});
    let refused = app.post(&accept, &nurse, not_a_list).await;
    assert_eq!(refused.error_fields(), ["items[0].questionId"], "only allergy and medication lists enter the chart");
    let read = app.get(&format!("/v1/patients/{patient}/submissions/{submission}"), &nurse).await;
    assert_eq!(read.body["accepted"].as_array().unwrap().len(), 2);

    let (other, _) = clinic_and_patient(&app, "Other").await;
    let (other_nurse, _) = app.member(&other, Role::Nurse).await;
    assert_eq!(app.get(&format!("/v1/patients/{patient}/submissions/{submission}"), &other_nurse).await.status, 404);
    assert_eq!(
        app.post(
            &accept,
            &other_nurse,
            json!({"items": [{"templateId": "medical-history", "questionId": "allergies", "index": 1}]})
        )
        .await
        .status,
        404
    );
    let front_desk = app.member(&clinic, Role::FrontDesk).await.0;
    assert_eq!(app.get(&format!("/v1/patients/{patient}/submissions"), &front_desk).await.status, 403);
}

async fn a_patient_sends_a_photo_through_the_link(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Photos").await;
    let (_, token) = app.invite(&clinic, &patient, &["aesthetic-consultation"]).await;
    let jpeg = vellum_tests::images::jpeg(64, 48);
    let asked =
        intake(&app, "POST", &token, "/photos", Some(json!({"contentType": "image/jpeg", "byteSize": jpeg.len()})))
            .await;
    assert_eq!(asked.status, 201, "{asked:?}");
    let photo = asked.body["photoId"].as_str().unwrap().to_string();
    let mut created = asked.body.clone();
    created["patientId"] = json!(patient);
    let uploaded = app.upload(&created, jpeg).await;
    assert_eq!(uploaded.body["state"], "ready", "{uploaded:?}");
    let answers = json!({"answers": {"aesthetic-consultation": {
        "areas": ["lips"], "goals": "Fuller lips", "look": "subtle", "previous-treatments": false, "photo": photo,
    }}});
    assert_eq!(intake(&app, "POST", &token, "/submit", Some(answers)).await.status, 201);
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let photos = app.get(&format!("/v1/patients/{patient}/photos"), &nurse).await;
    assert_eq!(photos.body["items"][0]["id"], photo.as_str());
    assert_eq!(photos.body["items"][0]["uploadedBy"]["role"], "patient");
}

async fn a_link_is_kept_nowhere_in_clear_and_a_retry_gets_it_back(app: TestApp) {
    use vellum::domain::fields::{Context, ParseStr};
    use vellum::domain::keys;
    use vellum::domain::values::{EntityId, UserId};
    use vellum::store::{Key, Query, SkRange};
    let (clinic, patient) = clinic_and_patient(&app, "Sealed").await;
    app.templates(&clinic, &["medical-history"]).await;
    let body = json!({"patientId": patient, "templateIds": ["medical-history"], "channel": "email"});
    let send = || {
        app.send(
            "POST",
            "/v1/invitations",
            Some(&clinic.admin),
            Some(body.clone()),
            &[("idempotency-key", "invite-ana-1")],
        )
    };
    let first = send().await;
    assert_eq!(first.status, 201, "{first:?}");
    let link = first.body["link"].as_str().unwrap().to_string();
    let token = link.rsplit('/').next().unwrap().to_string();
    let retry = send().await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body["link"], link.as_str(), "a client that lost the first answer gets the same link");

    // The stored first response and the outbox message hold the link only sealed.
    let clinic_id = EntityId::parse(&clinic.id).unwrap();
    let user = UserId::parse_str(&clinic.admin_user, &Context::timeless()).unwrap();
    let key_hash = vellum::crypto::sha256_hex(b"invite-ana-1");
    let stored_key =
        Key::new(keys::audit_pk(Some(clinic_id)), keys::idempotency_sk("invitations.create", &user, &key_hash));
    let stored = app.records.get(Table::Records, &stored_key).await.unwrap().expect("the stored first response");
    let outbox = app
        .records
        .query(Query::new(Table::Records, keys::clinic_pk(clinic_id)).sk(SkRange::Prefix("OUTBOX#".into())))
        .await
        .unwrap()
        .items;
    assert_eq!(outbox.len(), 1);
    for item in [&stored, &outbox[0]] {
        let text = Value::Object(item.clone()).to_string();
        assert!(!text.contains(&token), "a working link is stored in clear: {text}");
    }
    let sealed = outbox[0]["sealedLink"].as_str().unwrap();
    let message_key = outbox[0]["SK"].as_str().unwrap().as_bytes();
    let opened = vellum::crypto::open_text(&app.app.keys().unwrap().stored_secrets, message_key, sealed)
        .expect("the sender opens it");
    assert_eq!(opened, link.as_bytes());
}

/// An autosave still in flight when the patient sends the forms does not stop them being sent.
async fn sending_the_forms_does_not_collide_with_an_autosave(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Autosave").await;
    for _ in 0..4 {
        let (_, token) = app.invite(&clinic, &patient, &["medical-history", "neurotoxin-consent"]).await;
        let draft = json!({"answers": {"medical-history": {"pregnant": false}}});
        let (saved, sent) = tokio::join!(
            intake(&app, "PUT", &token, "/draft", Some(draft)),
            intake(&app, "POST", &token, "/submit", Some(complete_answers())),
        );
        assert_eq!(sent.status, 201, "{sent:?}");
        assert!(saved.status == 200 || saved.status == 410, "{saved:?}");
        assert_eq!(intake(&app, "GET", &token, "", None).await.status, 410, "the link is used up");
    }
}

/// A link's routes count requests per address and minute: with a low limit and a clock that stands still,
/// the request past the limit is refused (429) however the token is guessed.
async fn a_link_is_rate_limited_per_address(backend: vellum_tests::Backend) {
    let frozen = std::sync::Arc::new(vellum::ids::FixedClock(vellum::ids::SystemClock.now()));
    let (app, _) = TestApp::spawn_with(backend, |a| a.with_clock(frozen).with_link_limit(20)).await;
    let (token, _) = vellum::domain::forms::invitation::new_token();
    for _ in 0..20 {
        assert_eq!(intake(&app, "GET", &token, "", None).await.status, 404);
    }
    let limited = intake(&app, "GET", &token, "", None).await;
    assert_eq!(limited.status, 429, "guessing links is slowed down");
    assert_eq!(limited.body["type"], "urn:vellum:problem:too-many-requests");
}

mod rate_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::a_link_is_rate_limited_per_address(vellum_tests::Backend::Embedded).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws() {
        super::a_link_is_rate_limited_per_address(vellum_tests::Backend::Aws).await;
    }
}

/// An invitation names the template versions it asks for; their texts stay in the templates, so neither
/// the link's item nor the staff copy grows with them.
async fn an_invitation_refers_to_its_template_versions_instead_of_copying_them(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Refs").await;
    let (invitation, token) = app.invite(&clinic, &patient, &["medical-history", "neurotoxin-consent"]).await;
    let id = invitation["id"].as_str().unwrap();
    assert_eq!(invitation["forms"][0]["title"], "Medical history");
    let clinic_id = vellum::domain::values::EntityId::parse(&clinic.id).unwrap();
    let patient_id = vellum::domain::values::EntityId::parse(&patient).unwrap();
    let staff_key = Invitation::staff_key(clinic_id, patient_id, vellum::domain::values::EntityId::parse(id).unwrap());
    for key in [Invitation::link_key(&token_hash(&token)), staff_key] {
        let item = app.records.get(Table::Records, &key).await.unwrap().expect("the invitation");
        let text = serde_json::to_string(&item).unwrap();
        assert!(!text.contains("sections") && !text.contains("consentText"), "no template text is copied: {text}");
        assert!(text.len() < 2_000, "{} bytes", text.len());
    }
    let opened = intake(&app, "GET", &token, "", None).await;
    assert_eq!(opened.body["forms"][0]["content"]["title"], "Medical history", "the link still shows the forms");
}

/// One review that would record "no known allergies" after an allergy it accepts a line earlier is
/// refused whole, as two separate reviews in that order would be.
async fn one_review_cannot_accept_an_allergy_and_no_known_allergies(app: TestApp) {
    let (clinic, patient) = clinic_and_patient(&app, "Batch").await;
    let recheck = json!({"title": "Allergy check", "sections": [{"title": "Allergies", "questions": [
        {"id": "allergies", "kind": "allergy-list", "label": "Any allergies since your last visit?", "required": true}
    ]}]});
    let saved = app.send("PUT", "/v1/form-templates/allergy-check", Some(&clinic.admin), Some(recheck), &[]).await;
    assert_eq!(saved.status, 201, "{saved:?}");
    app.templates(&clinic, &["medical-history"]).await;
    let invited = json!({"patientId": patient, "templateIds": ["medical-history", "allergy-check"]});
    let invited = app.post("/v1/invitations", &clinic.admin, invited).await;
    assert_eq!(invited.status, 201, "{invited:?}");
    let token = invited.body["link"].as_str().unwrap().rsplit('/').next().unwrap();
    let mut answers = complete_answers();
    answers["answers"].as_object_mut().unwrap().remove("neurotoxin-consent");
    answers["answers"]["allergy-check"] = json!({"allergies": []});
    let sent = intake(&app, "POST", token, "/submit", Some(answers)).await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let submission = sent.body["submissionId"].as_str().unwrap();
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let accept = format!("/v1/patients/{patient}/submissions/{submission}/accept");
    let both = json!({"items": [
        {"templateId": "medical-history", "questionId": "allergies", "index": 0},
        {"templateId": "allergy-check", "questionId": "allergies"},
    ]});
    let refused = app.post(&accept, &nurse, both).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    let chart = app.get(&format!("/v1/patients/{patient}/chart"), &nurse).await.body;
    assert_eq!(chart["allergies"]["assessment"], "not-yet-asked", "nothing of the refused review was written");
    let read = app.get(&format!("/v1/patients/{patient}/submissions/{submission}"), &nurse).await;
    assert_eq!(read.body["accepted"], json!([]));
}

on_both_backends!(
    an_invitation_refers_to_its_template_versions_instead_of_copying_them,
    one_review_cannot_accept_an_allergy_and_no_known_allergies,
    a_link_shows_only_what_the_forms_need_keeps_drafts_and_is_used_up_by_its_submission,
    expired_revoked_and_wrong_links_look_like_links_that_never_existed,
    a_submission_keeps_the_template_version_it_answered,
    oversize_answers_are_refused,
    nothing_a_patient_wrote_reaches_the_chart_until_staff_accept_it,
    a_patient_sends_a_photo_through_the_link,
    a_link_is_kept_nowhere_in_clear_and_a_retry_gets_it_back,
    sending_the_forms_does_not_collide_with_an_autosave,
);
