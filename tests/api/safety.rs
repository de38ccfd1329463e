//! Safety checks over HTTP: a proposed treatment or medication against the patient's chart, with the
//! alerts' facts and sources, nothing written but the audit event, and the refusals of bad proposals.

use serde_json::json;
use vellum::domain::role::Role;

use vellum_tests::{TestApp, patient_body};

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

on_both_backends!(
    a_proposal_is_checked_against_the_chart_and_only_audited,
    a_bad_proposal_is_refused_and_another_clinic_s_patient_is_not_found,
);
