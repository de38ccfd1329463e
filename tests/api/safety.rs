//! Safety checks over HTTP: a proposed treatment or medication against the patient's chart, with the
//! alerts' facts and sources, nothing written but the audit event, and the refusals of bad proposals;
//! charting a treatment or medication refused on a blocking alert until it is acknowledged, the clinic's
//! list of acknowledgements, and the standing alerts of the chart summary.

use serde_json::{Value, json};
use vellum::domain::role::Role;

use vellum_tests::{TestApp, every_day, patient_body};

const LIDOCAINE_ALLERGY: &str = "filler-lidocaine-amide-anesthetic-allergy";

/// A filler treatment with one product line of `product`.
fn filler(product: &str) -> Value {
    json!({
        "type": "dermal-filler", "treatedAreas": ["lips"],
        "products": [{"product": product, "manufacturer": "Galderma", "lotNumber": "RL-2201",
                      "expiryDate": "2099-01-31", "quantity": {"value": 1, "unit": "mL"}}],
    })
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().map_or(Vec::new(), |items| items.iter().filter_map(|a| a["ruleId"].as_str()).collect())
}

async fn a_proposal_is_checked_against_the_chart_and_only_audited(app: TestApp) {
    let clinic = app.open_clinic("Safety").await;
    let patient = app.patient(&clinic, patient_body("Sara", "Safe")).await;
    let patient = patient["id"].as_str().unwrap();
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let check = format!("/v1/patients/{patient}/safety-checks");
    let filler = json!({"treatment": {"type": "dermal-filler", "products": ["restylane-l"]}});

    let clear = app.post(&check, &nurse, filler.clone()).await;
    assert_eq!(clear.status, 200, "{clear:?}");
    assert_eq!(clear.body["alerts"], json!([]));
    assert_eq!(clear.body["blocking"], false);

    let allergy = json!({"substance": "Lidocaine", "reaction": "anaphylaxis", "severity": "life-threatening"});
    let recorded = app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, allergy).await;
    assert_eq!(recorded.status, 201, "{recorded:?}");
    let medication = json!({"name": "Eliquis 5 mg", "status": "active"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/medications"), &practitioner, medication).await.status, 201);

    let before = app.get(&format!("/v1/patients/{patient}/chart"), &practitioner).await;
    let checked = app.post(&check, &nurse, filler.clone()).await;
    assert_eq!(checked.status, 200, "{checked:?}");
    assert_eq!(checked.body["blocking"], true);
    let alerts = checked.body["alerts"].as_array().unwrap();
    let rules: Vec<&str> = alerts.iter().map(|a| a["ruleId"].as_str().unwrap()).collect();
    for expected in [
        "filler-lidocaine-amide-anesthetic-allergy",
        "filler-severe-allergy-anaphylaxis",
        "filler-anticoagulant-antiplatelet-nsaid",
    ] {
        assert!(rules.contains(&expected), "{expected} not in {rules:?}");
    }
    assert_eq!(alerts[0]["severity"], "contraindicated", "worst first");
    let lidocaine = alerts.iter().find(|a| a["ruleId"] == "filler-lidocaine-amide-anesthetic-allergy").unwrap();
    assert_eq!(lidocaine["facts"][0]["entryId"], recorded.body["id"]);
    assert!(lidocaine["sources"][0]["title"].as_str().is_some_and(|t| !t.is_empty()));
    let lidocaine_free = json!({"treatment": {"type": "dermal-filler", "products": ["restylane"]}});
    let free = app.post(&check, &nurse, lidocaine_free).await;
    let free_rules: Vec<&str> =
        free.body["alerts"].as_array().unwrap().iter().map(|a| a["ruleId"].as_str().unwrap()).collect();
    assert!(!free_rules.contains(&"filler-lidocaine-amide-anesthetic-allergy"), "{free_rules:?}");

    let drug = app.post(&check, &practitioner, json!({"medication": {"name": "Claravis 40 mg"}})).await;
    assert_eq!(drug.status, 200, "{drug:?}");
    let after = app.get(&format!("/v1/patients/{patient}/chart"), &practitioner).await;
    assert_eq!(before.body, after.body, "a check writes nothing to the chart");
    let log = app.get(&format!("/v1/patients/{patient}/access-log"), &clinic.admin).await;
    let checks = log.body["items"].as_array().unwrap().iter().filter(|e| e["eventName"] == "safety.check").count();
    assert_eq!(checks, 4, "every check is audited");
    let shown = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["eventName"] == "safety.check" && e["resources"].as_array().unwrap().len() > 1);
    let shown = shown.expect("a check that showed entries names them");
    assert!(shown["resources"].as_array().unwrap().iter().any(|r| r["id"] == recorded.body["id"]), "{shown}");
}

async fn a_bad_proposal_is_refused_and_another_clinic_s_patient_is_not_found(app: TestApp) {
    let clinic = app.open_clinic("Safety refusals").await;
    let patient = app.patient(&clinic, patient_body("Rae", "Refused")).await;
    let check = format!("/v1/patients/{}/safety-checks", patient["id"].as_str().unwrap());
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    for (body, field, status) in [
        (json!({"treatment": {"type": "dermal-filler", "products": ["miracle-gel"]}}), "treatment.products[0]", 422),
        (
            json!({"treatment": {"type": "laser", "procedure": "vascular-laser", "products": ["restylane"]}}),
            "treatment.products[0]",
            422,
        ),
        (json!({"treatment": {"type": "laser", "procedure": "deep-peel"}}), "treatment.procedure", 422),
        (json!({"treatment": {"type": "laser", "procedure": "warp-drive"}}), "treatment.procedure", 422),
        (json!({"medication": {"name": "isotretinoin", "rxnormCode": "R6064"}}), "medication.rxnormCode", 422),
        (json!({"medication": {"name": "x"}, "treatment": {"type": "laser"}}), "treatment", 400),
        (json!({}), "treatment", 400),
        (
            json!({"treatment": {"type": "laser", "procedure": "vascular-laser", "colour": "red"}}),
            "treatment.colour",
            400,
        ),
        (json!({"treatment": {"type": "laser"}}), "treatment.procedure", 422),
        (json!({"treatment": {"type": "dermal-filler"}}), "treatment.products", 400),
        (json!({"treatment": {"type": "neurotoxin", "products": []}}), "treatment.products", 422),
    ] {
        let refused = app.post(&check, &nurse, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {refused:?}");
        assert_eq!(refused.error_fields(), [field], "{body}");
    }
    let other = app.open_clinic("Elsewhere").await;
    let (their_nurse, _) = app.member(&other, Role::Nurse).await;
    let proposal = json!({"medication": {"name": "doxycycline"}});
    assert_eq!(app.post(&check, &their_nurse, proposal.clone()).await.status, 404);
    assert_eq!(app.post(&check, &clinic.admin, proposal).await.status, 403, "clinicians only");
}

async fn a_blocked_treatment_is_charted_only_once_each_alert_is_acknowledged_with_a_reason(app: TestApp) {
    let clinic = app.open_clinic("Gate").await;
    let patient = app.patient(&clinic, patient_body("Lia", "Gated")).await;
    let patient = patient["id"].as_str().unwrap();
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let treatments = format!("/v1/patients/{patient}/treatments");
    let allergy = json!({"substance": "Lidocaine", "reaction": "hives", "severity": "moderate"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, allergy).await.status, 201);
    let nsaid = json!({"name": "Naproxen 250 mg", "status": "active"});
    let charted = app.post(&format!("/v1/patients/{patient}/medications"), &practitioner, nsaid).await;
    assert_eq!(charted.status, 201, "{charted:?}");
    assert_eq!(charted.body["safety"]["alerts"], json!([]), "an NSAID alone raises nothing");

    let refused = app.post(&treatments, &practitioner, filler("Restylane-L")).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.body["type"], "urn:vellum:problem:safety-alerts");
    assert_eq!(refused.body["unacknowledged"], json!([LIDOCAINE_ALLERGY]));
    let raised = ids(&refused.body["alerts"]);
    assert!(raised.contains(&"filler-anticoagulant-antiplatelet-nsaid"), "every alert comes back: {raised:?}");
    let listed = app.get(&treatments, &practitioner).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");

    let mut without_reason = filler("Restylane-L");
    without_reason["safetyOverrides"] = json!([{"ruleId": LIDOCAINE_ALLERGY}]);
    let unreasoned = app.post(&treatments, &practitioner, without_reason).await;
    assert_eq!((unreasoned.status, unreasoned.error_fields()), (422, vec!["safetyOverrides[0].reason".into()]));
    let mut moot = filler("Restylane-L");
    moot["safetyOverrides"] = json!([
        {"ruleId": LIDOCAINE_ALLERGY, "reason": "negative patch test"},
        {"ruleId": "filler-anticoagulant-antiplatelet-nsaid", "reason": "a caution needs none"},
    ]);
    let mooted = app.post(&treatments, &practitioner, moot).await;
    assert_eq!((mooted.status, mooted.error_fields()), (409, vec!["safetyOverrides[1].ruleId".into()]));
    let free = app.post(&treatments, &practitioner, filler("Restylane")).await;
    assert_eq!(free.status, 201, "a lidocaine-free filler raises only the caution: {free:?}");
    assert_eq!(ids(&free.body["safety"]["alerts"]), ["filler-anticoagulant-antiplatelet-nsaid"]);

    let mut acknowledged = filler("Restylane-L");
    let reason = "Lidocaine allergy disproved by patch test on 2 Nov; patient informed";
    acknowledged["safetyOverrides"] = json!([{"ruleId": LIDOCAINE_ALLERGY, "reason": reason}]);
    let made = app.post(&treatments, &practitioner, acknowledged).await;
    assert_eq!(made.status, 201, "{made:?}");
    let safety = &made.body["safety"];
    assert_eq!(safety["overrides"][0]["ruleId"], LIDOCAINE_ALLERGY);
    assert_eq!(safety["overrides"][0]["reason"], reason);
    assert_eq!(safety["overrides"][0]["by"]["role"], "practitioner");
    assert_eq!(safety["unmatchedProducts"], json!([]));
    assert!(made.body.get("safetyOverrides").is_none(), "the acknowledgement is kept as an override");
    let entry = made.body["id"].as_str().unwrap();

    // A change that leaves what was checked alone is not checked again; one that changes it is, and the
    // alert acknowledged before stays acknowledged.
    let path = format!("{treatments}/{entry}");
    let noted = app.patch(&path, &practitioner, "\"1\"", json!({"outcome": "Even result"})).await;
    assert_eq!(noted.status, 200, "{noted:?}");
    assert_eq!(noted.body["safety"], made.body["safety"]);
    let products = json!({"products": filler("Restylane Kysse")["products"].clone()});
    let swapped = app.patch(&path, &practitioner, "\"2\"", products).await;
    assert_eq!(swapped.status, 200, "{swapped:?}");
    assert_ne!(swapped.body["safety"]["checkedAt"], made.body["safety"]["checkedAt"]);
    assert_eq!(swapped.body["safety"]["overrides"], made.body["safety"]["overrides"]);

    let overrides = app.get("/v1/overrides", &clinic.admin).await;
    assert_eq!(overrides.status, 200, "{overrides:?}");
    let items = overrides.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "an acknowledgement is listed once: {items:?}");
    assert_eq!(items[0]["entryId"], entry);
    assert_eq!(items[0]["patientId"], patient);
    assert_eq!(items[0]["reason"], reason);
    assert_eq!(app.get("/v1/overrides", &practitioner).await.status, 403, "the clinic's admins only");
    let other = app.open_clinic("Elsewhere").await;
    let theirs = app.get("/v1/overrides", &other.admin).await;
    assert_eq!(theirs.body["items"], json!([]), "another clinic sees none of them");

    let log = app.get(&format!("/v1/patients/{patient}/access-log"), &clinic.admin).await;
    let event = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["eventName"] == "treatments.create" && e["resources"].to_string().contains("safety-override"));
    let event = event.expect("the write's event names the acknowledged rule");
    assert!(
        event["resources"].as_array().unwrap().contains(&json!({"type": "safety-override", "id": LIDOCAINE_ALLERGY}))
    );
    assert!(!event.to_string().contains("patch test"), "no reason in the audit trail: {event}");
}

async fn medications_and_lasers_are_gated_and_a_past_course_is_only_recorded(app: TestApp) {
    let clinic = app.open_clinic("Gate two").await;
    let patient = app.patient(&clinic, patient_body("Mo", "Meds")).await;
    let patient = patient["id"].as_str().unwrap();
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let medications = format!("/v1/patients/{patient}/medications");
    let doxycycline = json!({"name": "Doxycycline 100 mg", "status": "active"});
    assert_eq!(app.post(&medications, &nurse, doxycycline).await.status, 201);
    let isotretinoin = json!({"name": "Absorica 30 mg", "status": "active"});
    let refused = app.post(&medications, &nurse, isotretinoin).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.body["unacknowledged"], json!(["isotretinoin-systemic-tetracycline"]));
    let history = json!({"name": "Absorica 30 mg", "status": "completed", "stopDate": "2024-03-01"});
    let past = app.post(&medications, &nurse, history).await;
    assert_eq!(past.status, 201, "a course long finished is a record, not a plan: {past:?}");
    assert_eq!(past.body["safety"], Value::Null);

    let treatments = format!("/v1/patients/{patient}/treatments");
    let laser = json!({"type": "laser", "treatedAreas": ["cheeks"]});
    let unnamed = app.post(&treatments, &nurse, laser.clone()).await;
    assert_eq!((unnamed.status, unnamed.error_fields()), (422, vec!["procedure".into()]));
    let mut peel_for_laser = laser.clone();
    peel_for_laser["procedure"] = json!("deep-peel");
    let mismatched = app.post(&treatments, &nurse, peel_for_laser).await;
    assert_eq!((mismatched.status, mismatched.error_fields()), (422, vec!["procedure".into()]));
    let mut vascular = laser;
    vascular["procedure"] = json!("vascular-laser");
    let made = app.post(&treatments, &nurse, vascular).await;
    assert_eq!(made.status, 201, "{made:?}");
    assert_eq!(made.body["procedure"], "vascular-laser");
    let mut allergy_body = json!({"substance": "Lidocaine"});
    allergy_body["safetyOverrides"] = json!([]);
    let misplaced = app.post(&format!("/v1/patients/{patient}/allergies"), &nurse, allergy_body).await;
    assert_eq!((misplaced.status, misplaced.error_fields()), (400, vec!["safetyOverrides".into()]));
}

async fn the_chart_summary_shows_standing_alerts_to_those_who_read_their_facts(app: TestApp) {
    let clinic = app.open_clinic("Standing").await;
    let patient = app.patient(&clinic, patient_body("Sam", "Standing")).await;
    let patient = patient["id"].as_str().unwrap();
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let summary = format!("/v1/patients/{patient}/chart");
    assert_eq!(app.get(&summary, &practitioner).await.body["standingAlerts"], json!([]));
    let isotretinoin = json!({"name": "Claravis 40 mg", "status": "active", "startDate": "2026-09-01"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/medications"), &practitioner, isotretinoin).await.status, 201);
    let allergy = json!({"substance": "Latex", "reaction": "anaphylaxis", "severity": "life-threatening"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, allergy).await.status, 201);
    let pressure = json!({"bloodPressure": {"systolic": 168, "diastolic": 96}});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/vitals"), &practitioner, pressure).await.status, 201);

    let seen = app.get(&summary, &practitioner).await;
    assert_eq!(seen.status, 200, "{seen:?}");
    let standing = &seen.body["standingAlerts"];
    assert_eq!(
        ids(standing),
        ["standing-isotretinoin", "standing-severe-allergy", "vitals-blood-pressure-high"],
        "worst first"
    );
    let on_isotretinoin = &standing[0]["facts"][0]["detail"];
    assert!(on_isotretinoin.as_str().unwrap().contains("taken since 2026-09-01"), "{on_isotretinoin}");
    // The front desk reads allergies but not medications or vital signs.
    let desk = app.get(&summary, &front_desk).await;
    assert_eq!(ids(&desk.body["standingAlerts"]), ["standing-severe-allergy"]);
}

async fn booking_a_service_that_names_its_treatment_is_checked_and_only_clinicians_see_or_acknowledge_chart_facts(
    app: TestApp,
) {
    let clinic = app.open_clinic("Booked checks").await;
    let (practitioner, user) = app.member(&clinic, Role::Practitioner).await;
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let hours = app.send("PUT", &format!("/v1/staff/{user}/working-hours"), Some(&clinic.admin), Some(week), &[]).await;
    assert_eq!(hours.status, 200, "{hours:?}");
    let resurfacing = json!({"name": "CO2 resurfacing", "durationMinutes": 60, "performedBy": {"role": "practitioner"},
                             "treatment": {"type": "laser", "procedure": "fully-ablative-resurfacing"}});
    let service = app.post("/v1/services", &clinic.admin, resurfacing).await;
    assert_eq!(service.status, 201, "{service:?}");
    assert_eq!(service.body["treatment"]["procedure"], "fully-ablative-resurfacing");
    let peel_for_laser = json!({"name": "Odd", "durationMinutes": 30, "performedBy": {"role": "practitioner"},
                                "treatment": {"type": "laser", "procedure": "deep-peel"}});
    let odd = app.post("/v1/services", &clinic.admin, peel_for_laser).await;
    assert_eq!((odd.status, odd.error_fields()), (422, vec!["treatment.procedure".into()]));
    let plain = json!({"name": "Consultation", "durationMinutes": 30, "performedBy": {"role": "practitioner"}});
    let plain = app.post("/v1/services", &clinic.admin, plain).await;

    let patient = app.patient(&clinic, patient_body("Iso", "Tretinoin")).await;
    let patient = patient["id"].as_str().unwrap();
    let isotretinoin = json!({"name": "Claravis 40 mg", "status": "active"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/medications"), &practitioner, isotretinoin).await.status, 201);
    let rule = "isotretinoin-fully-ablative-laser-or-mechanical-dermabrasion";
    let booking = |start: &str| json!({"patientId": patient, "serviceId": service.body["id"], "start": start});

    let desk = app.post("/v1/appointments", &front_desk, booking("2027-01-11T10:00:00-08:00")).await;
    assert_eq!(desk.status, 409, "{desk:?}");
    assert_eq!(desk.body["type"], "urn:vellum:problem:safety-alerts");
    assert_eq!(desk.body["withheld"], 1, "the front desk does not read medications");
    assert_eq!(desk.body["alerts"], json!([]));
    assert!(!desk.body.to_string().contains("isotretinoin"), "nothing of the medication reaches the front desk");
    let mut guessed = booking("2027-01-11T10:00:00-08:00");
    guessed["safetyOverrides"] = json!([{"ruleId": rule, "reason": "the doctor said so"}]);
    let refused = app.post("/v1/appointments", &front_desk, guessed).await;
    assert_eq!((refused.status, refused.error_fields()), (409, vec!["safetyOverrides[0].ruleId".into()]));

    let unacknowledged = app.post("/v1/appointments", &practitioner, booking("2027-01-11T10:00:00-08:00")).await;
    assert_eq!(unacknowledged.status, 409, "{unacknowledged:?}");
    assert_eq!(unacknowledged.body["unacknowledged"], json!([rule]));
    assert_eq!(unacknowledged.body["withheld"], 0);
    let mut acknowledged = booking("2027-01-11T10:00:00-08:00");
    let reason = "Course ends 20 Dec; confirmed stopped at the pre-treatment visit, or the booking is cancelled";
    acknowledged["safetyOverrides"] = json!([{"ruleId": rule, "reason": reason}]);
    let booked = app.post("/v1/appointments", &practitioner, acknowledged).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    assert_eq!(ids(&booked.body["safetyAlerts"]), [rule]);
    let appointment = booked.body["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/appointments/{appointment}"), &front_desk).await;
    assert_eq!(read.status, 200, "{read:?}");
    assert!(read.body.get("safetyAlerts").is_none() && !read.body.to_string().contains(reason));

    let overrides = app.get("/v1/overrides", &clinic.admin).await;
    let item = &overrides.body["items"][0];
    assert_eq!((item["entryKind"].as_str(), item["entryId"].as_str()), (Some("appointment"), Some(appointment)));
    assert_eq!(item["reason"], reason);

    let mut needless =
        json!({"patientId": patient, "serviceId": plain.body["id"], "start": "2027-01-11T13:00:00-08:00"});
    needless["safetyOverrides"] = json!([{"ruleId": rule, "reason": "x"}]);
    let needless = app.post("/v1/appointments", &practitioner, needless).await;
    assert_eq!((needless.status, needless.error_fields()), (409, vec!["safetyOverrides".into()]));
}

async fn a_clinic_adds_a_product_and_the_rules_see_it_as_a_shipped_one(app: TestApp) {
    let clinic = app.open_clinic("House products").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let lumiflex = json!({"name": "Lumiflex Lips", "manufacturer": "Lumiflex Labs", "aliases": ["Lumiflex L"],
                          "treatmentType": "dermal-filler", "classes": ["hyaluronic-acid-filler", "amide-local-anesthetics"],
                          "note": "Instructions for use, 1: 0.3% lidocaine"});
    let added = app.post("/v1/safety-products", &practitioner, lumiflex.clone()).await;
    assert_eq!(added.status, 201, "{added:?}");
    assert!(added.header("location").is_none(), "the list is its only address");
    let product = added.body["id"].as_str().unwrap().to_string();
    for (body, field, status) in [
        (
            json!({"name": "Restylane-L", "manufacturer": "x", "treatmentType": "dermal-filler", "classes": ["hyaluronic-acid-filler"]}),
            "name",
            422,
        ),
        (
            json!({"name": "Other", "aliases": ["lumiflex lips"], "manufacturer": "x", "treatmentType": "dermal-filler", "classes": ["hyaluronic-acid-filler"]}),
            "name",
            409,
        ),
        (
            json!({"name": "Moon", "manufacturer": "x", "treatmentType": "dermal-filler", "classes": ["moonbeams"]}),
            "classes[0]",
            422,
        ),
        (
            json!({"name": "Empty", "manufacturer": "x", "treatmentType": "dermal-filler", "classes": []}),
            "classes",
            422,
        ),
    ] {
        let refused = app.post("/v1/safety-products", &practitioner, body.clone()).await;
        assert_eq!((refused.status, refused.error_fields()), (status, vec![field.to_string()]), "{body}");
    }
    assert_eq!(app.post("/v1/safety-products", &nurse, lumiflex).await.status, 403);
    let listed = app.get("/v1/safety-products", &nurse).await;
    assert_eq!(ids_of(&listed.body["items"]), [product.as_str()]);
    let elsewhere = app.open_clinic("Elsewhere").await;
    assert_eq!(app.get("/v1/safety-products", &elsewhere.admin).await.body["items"], json!([]));

    let patient = app.patient(&clinic, patient_body("Lida", "Caine")).await;
    let patient = patient["id"].as_str().unwrap();
    let allergy = json!({"substance": "lidocaine", "reaction": "urticaria", "severity": "moderate"});
    assert_eq!(app.post(&format!("/v1/patients/{patient}/allergies"), &practitioner, allergy).await.status, 201);
    let check = format!("/v1/patients/{patient}/safety-checks");
    let proposal = json!({"treatment": {"type": "dermal-filler", "products": [product]}});
    let checked = app.post(&check, &nurse, proposal).await;
    assert_eq!(checked.status, 200, "{checked:?}");
    assert!(ids(&checked.body["alerts"]).contains(&LIDOCAINE_ALLERGY), "{checked:?}");
    let wrong_type =
        app.post(&check, &nurse, json!({"treatment": {"type": "neurotoxin", "products": [product]}})).await;
    assert_eq!((wrong_type.status, wrong_type.error_fields()), (409, vec!["treatment.products[0]".into()]));
    let theirs = json!({"treatment": {"type": "dermal-filler", "products": ["01JD0000000000000000000099"]}});
    let unknown = app.post(&check, &nurse, theirs).await;
    assert_eq!((unknown.status, unknown.error_fields()), (404, vec!["treatment.products[0]".into()]));

    let charted = app.post(&format!("/v1/patients/{patient}/treatments"), &practitioner, filler("Lumiflex L")).await;
    assert_eq!(charted.status, 409, "charted by its alias, the clinic's product is checked: {charted:?}");
    assert_eq!(charted.body["unacknowledged"], json!([LIDOCAINE_ALLERGY]));

    let retired = app
        .patch(&format!("/v1/safety-products/{product}"), &practitioner, "\"1\"", json!({"status": "retired"}))
        .await;
    assert_eq!(retired.status, 200, "{retired:?}");
    let service = json!({"name": "Lip filler", "durationMinutes": 45, "performedBy": {"role": "practitioner"},
                         "treatment": {"type": "dermal-filler", "products": [product]}});
    let refused = app.post("/v1/services", &clinic.admin, service).await;
    assert_eq!((refused.status, refused.error_fields()), (409, vec!["treatment.products[0]".into()]));
}

fn ids_of(list: &Value) -> Vec<&str> {
    list.as_array().map_or(Vec::new(), |items| items.iter().filter_map(|i| i["id"].as_str()).collect())
}

on_both_backends!(
    a_proposal_is_checked_against_the_chart_and_only_audited,
    a_bad_proposal_is_refused_and_another_clinic_s_patient_is_not_found,
    a_blocked_treatment_is_charted_only_once_each_alert_is_acknowledged_with_a_reason,
    medications_and_lasers_are_gated_and_a_past_course_is_only_recorded,
    the_chart_summary_shows_standing_alerts_to_those_who_read_their_facts,
    booking_a_service_that_names_its_treatment_is_checked_and_only_clinicians_see_or_acknowledge_chart_facts,
    a_clinic_adds_a_product_and_the_rules_see_it_as_a_shipped_one,
);
