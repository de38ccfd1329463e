//! The FHIR import: a Synthea-style transaction bundle written all at once and read back equal, and every
//! refusal (a bad entry, another clinic's patient, too many entries, an unknown type) an OperationOutcome
//! naming the entry and the path, with nothing written.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Reply, TestApp};

use super::fhir::{refused, resources, validate};

const SYSTEM: &str = "Synthea EMR";

fn url(n: usize) -> String {
    format!("urn:uuid:5e1a0000-0000-4000-8000-{n:012}")
}

fn loinc(code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": "http://loinc.org", "code": code, "display": display }], "text": display })
}

fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code })
}

/// A vital sign as the vital-signs profile has it: `value` holds its valueQuantity or components.
fn vital(patient: &str, at: &str, code: &str, display: &str, value: Value) -> Value {
    let mut o = json!({
        "resourceType": "Observation", "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": "vital-signs", "display": "Vital Signs" }] }],
        "code": loinc(code, display), "subject": { "reference": patient }, "effectiveDateTime": at,
    });
    if let (Some(o), Value::Object(value)) = (o.as_object_mut(), value) {
        o.extend(value);
    }
    o
}

/// A treatment as a clinic's system maps it for Vellum: its kind by Vellum's code, the product with its lot
/// as a contained Medication, and who performed it, who is not a member of the clinic.
fn treatment(patient: &str) -> Value {
    let units = json!({ "value": 20, "unit": "units", "system": "http://unitsofmeasure.org", "code": "[U]" });
    json!({
        "resourceType": "Procedure", "status": "completed",
        "contained": [{ "resourceType": "Medication", "id": "product-0", "code": { "text": "Botox Cosmetic" },
                        "manufacturer": { "display": "Allergan" },
                        "batch": { "lotNumber": "C3709C3", "expirationDate": "2027-06-30" } }],
        "code": { "coding": [{ "system": "urn:vellum:treatment-type", "code": "neurotoxin" }], "text": "neurotoxin" },
        "subject": { "reference": patient }, "performedDateTime": "2026-03-04T10:15:00Z",
        "performer": [{ "actor": { "display": "Dr. Ana Silva" } }],
        "bodySite": [{ "text": "glabella" }, { "text": "forehead" }],
        "outcome": { "text": "Tolerated well" },
        "note": [{ "text": "Technique: 5-point glabellar pattern" }, { "text": "Aftercare: No lying down for 4 hours" }],
        "followUp": [{ "text": "Follow up on 2026-03-18" }],
        "usedReference": [{ "reference": "#product-0",
                            "extension": [{ "url": "urn:vellum:fhir:quantity-used", "valueQuantity": units }] }],
    })
}

/// A generated patient record as Synthea writes one: the patient (with what Vellum does not keep), an
/// allergy, a medication, a condition, two sets of vital signs, and a treatment.
fn synthea_record(given: &str, family: &str) -> Vec<Value> {
    let patient = url(0);
    let clinical = |system: &str, code: &str| json!({ "coding": [{ "system": system, "code": code }] });
    let allergy_status = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
    let condition_status = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    let bp = |sys: f64, dia: f64| {
        let part = |code: &str, name: &str, v: f64| {
            let code = json!({ "coding": [{ "system": "http://loinc.org", "code": code, "display": name }] });
            json!({ "code": code, "valueQuantity": quantity(v, "mmHg", "mm[Hg]") })
        };
        json!({ "component": [part("8480-6", "Systolic blood pressure", sys), part("8462-4", "Diastolic blood pressure", dia)] })
    };
    let at = "2026-03-04T09:30:00Z";
    vec![
        json!({
            "resourceType": "Patient",
            "identifier": [{ "system": "https://github.com/synthetichealth/synthea", "value": "b3e2f1c0" }],
            "name": [{ "use": "official", "family": family, "given": [given] }],
            "telecom": [{ "system": "phone", "value": "+14155550123", "use": "mobile" }],
            "gender": "female", "birthDate": "1984-07-19",
            "address": [{ "line": ["12 Harbour St"], "city": "Boston", "state": "MA", "postalCode": "02110", "country": "US" }],
            "maritalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M" }] },
        }),
        json!({
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": clinical(allergy_status, "active"),
            "verificationStatus": clinical("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed"),
            "category": ["medication"], "criticality": "low",
            "code": { "text": "Penicillin", "coding": [{ "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7980" }] },
            "patient": { "reference": patient }, "onsetDateTime": "2010-05-01",
            "reaction": [{ "manifestation": [{ "text": "Hives" }], "severity": "moderate" }],
        }),
        json!({
            "resourceType": "MedicationStatement", "status": "active",
            "medicationCodeableConcept": { "text": "Lisinopril 10 mg" },
            "subject": { "reference": patient }, "effectivePeriod": { "start": "2024-01-10" },
            "dosage": [{ "text": "1 tablet daily", "route": { "text": "oral" } }],
        }),
        json!({
            "resourceType": "Condition",
            "clinicalStatus": clinical(condition_status, "active"),
            "verificationStatus": clinical("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                         "code": "problem-list-item", "display": "Problem List Item" }] }],
            "code": { "coding": [{ "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10" }], "text": "Essential hypertension" },
            "subject": { "reference": patient }, "onsetDateTime": "2023-11-02",
        }),
        vital(&patient, at, "85354-9", "Blood pressure panel with all children optional", bp(132.0, 84.0)),
        vital(&patient, at, "8867-4", "Heart rate", json!({ "valueQuantity": quantity(72.0, "beats/minute", "/min") })),
        vital(&patient, at, "29463-7", "Body weight", json!({ "valueQuantity": quantity(70.0, "kg", "kg") })),
        vital(&patient, at, "8302-2", "Body height", json!({ "valueQuantity": quantity(170.0, "cm", "cm") })),
        vital(
            &patient,
            at,
            "39156-5",
            "Body mass index (BMI) [Ratio]",
            json!({ "valueQuantity": quantity(24.2, "kg/m2", "kg/m2") }),
        ),
        vital(
            &patient,
            "2026-06-01T08:00:00Z",
            "8867-4",
            "Heart rate",
            json!({ "valueQuantity": quantity(66.0, "beats/minute", "/min") }),
        ),
        treatment(&patient),
    ]
}

/// A transaction bundle of `resources`, each with a fullUrl, from the system `SYSTEM`.
fn transaction(resources: &[Value]) -> Value {
    let entry: Vec<Value> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| json!({ "fullUrl": url(i), "resource": r, "request": { "method": "POST", "url": r["resourceType"] } }))
        .collect();
    json!({ "resourceType": "Bundle", "type": "transaction", "meta": { "source": SYSTEM }, "entry": entry })
}

/// Posts a bundle as FHIR JSON, or as plain JSON with an `Idempotency-Key`.
async fn import(app: &TestApp, token: &str, bundle: &Value, key: Option<&str>) -> Reply {
    match key {
        Some(key) => app.send("POST", "/fhir/R4", Some(token), Some(bundle.clone()), &[("idempotency-key", key)]).await,
        None => app.send_raw("POST", "/fhir/R4", token, "application/fhir+json", bundle.to_string().into_bytes()).await,
    }
}

/// A resource with what the sender and the receiver give on their own left out (ids, versions, when it was
/// recorded, the patient's reference, the record number), every number as a float and every instant in one
/// form.
fn comparable(resource: &Value) -> Value {
    fn numbers(v: &mut Value) {
        match v {
            Value::Number(n) => *v = json!(n.as_f64()),
            Value::Array(items) => items.iter_mut().for_each(numbers),
            Value::Object(map) => map.values_mut().for_each(numbers),
            _ => {}
        }
    }
    let mut r = resource.clone();
    if let Some(map) = r.as_object_mut() {
        for own in [
            "id",
            "meta",
            "recordedDate",
            "dateAsserted",
            "recorder",
            "patient",
            "subject",
            "identifier",
            "active",
            "maritalStatus",
        ] {
            map.remove(own);
        }
    }
    numbers(&mut r);
    for instant in ["effectiveDateTime", "performedDateTime"] {
        if let Some(at) = r[instant].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
            r[instant] = json!(at.to_rfc3339());
        }
    }
    r
}

/// The fields of a refusal's issues, with their expressions.
fn expressions(reply: &Reply) -> Vec<String> {
    reply.body["issue"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

async fn a_synthea_bundle_imports_all_at_once_and_reads_back_equal(app: TestApp) {
    let clinic = app.open_clinic("Import Clinic").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let sent = synthea_record("Maria", "Okafor");
    validate(&sent);
    let bundle = transaction(&sent);
    let reply = import(&app, &practitioner, &bundle, Some("import-1")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/fhir+json"));
    assert_eq!(reply.body["type"], "transaction-response");
    let responses: Vec<Value> = reply.body["entry"].as_array().unwrap().iter().map(|e| e["response"].clone()).collect();
    assert_eq!(responses.len(), sent.len());
    // What the patient held that Vellum does not keep is said, not dropped silently.
    let warned = &responses[0]["outcome"]["issue"];
    assert_eq!(warned[0]["expression"], json!(["Bundle.entry[0].resource.maritalStatus"]), "{warned}");
    let patient = responses[0]["location"].as_str().unwrap().split('/').nth(1).unwrap().to_string();
    for (resource, response) in sent.iter().zip(&responses) {
        assert_eq!(response["status"], "201 Created", "{response}");
        let location = response["location"].as_str().unwrap();
        let (path, version) = location.split_once("/_history/").unwrap();
        assert_eq!(version, "1");
        let read = app.get(&format!("/fhir/R4/{path}"), &practitioner).await;
        assert_eq!(read.status, 200, "{path}: {read:?}");
        // Read back equal: what was sent is what is served, but for what each side gives on its own.
        assert_eq!(comparable(&read.body), comparable(resource), "{path}");
        let reference = &read.body[if path.starts_with("Allergy") { "patient" } else { "subject" }]["reference"];
        if !path.starts_with("Patient") {
            assert_eq!(reference, &json!(format!("Patient/{patient}")), "{path}");
        }
    }
    // The vital signs taken together are one entry; each entry is marked imported from the sender.
    let vitals = app.get(&format!("/v1/patients/{patient}/vitals"), &practitioner).await;
    assert_eq!(vitals.body["items"].as_array().unwrap().len(), 2, "{vitals:?}");
    let provenance = app.get(&format!("/fhir/R4/Provenance?patient={patient}"), &practitioner).await;
    let provenances = resources(&provenance.body);
    assert_eq!(provenances.len(), 6, "{provenance:?}");
    assert!(provenances.iter().all(|p| p["agent"][0]["who"]["display"] == SYSTEM), "{provenances:?}");
    // The treatment is charted as performed by someone who is not a member, its lot found by a recall.
    let treatments = app.get(&format!("/v1/patients/{patient}/treatments"), &practitioner).await;
    let charted = &treatments.body["items"][0];
    assert_eq!(
        (&charted["externalPractitioner"], charted.get("practitionerId"), &charted["aftercare"]["given"]),
        (&json!("Dr. Ana Silva"), None, &json!(true)),
        "{treatments:?}"
    );
    let recall = app.get("/v1/lot-recall?lotNumber=c3709c3", &practitioner).await;
    assert_eq!(recall.body["items"][0]["patientId"], json!(patient), "{recall:?}");
    // A retry with the same key writes nothing more and answers the same.
    let again = import(&app, &practitioner, &bundle, Some("import-1")).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, reply.body);
    let found = app.get("/fhir/R4/Patient?family=okafor", &practitioner).await;
    assert_eq!(resources(&found.body).len(), 1);
    // Entries for a patient the clinic has: named by id.
    let later = json!({ "resourceType": "Condition", "code": { "text": "Rosacea" },
                        "clinicalStatus": { "coding": [{ "code": "active" }] }, "subject": { "reference": format!("Patient/{patient}") } });
    let added = import(&app, &practitioner, &transaction(&[later]), None).await;
    assert_eq!(added.status, 200, "{added:?}");
    let conditions = app.get(&format!("/fhir/R4/Condition?patient={patient}"), &practitioner).await;
    assert_eq!(resources(&conditions.body).len(), 2);
    // The import is in the patient's access log.
    let log = app.audit(&clinic, &format!("&patientId={patient}")).await;
    assert!(log.iter().any(|e| e["eventName"] == "fhir.transaction"), "{log:?}");
}

async fn a_bad_bundle_is_refused_whole_naming_the_entry_and_path(app: TestApp) {
    let clinic = app.open_clinic("Import Refusals").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let (front_desk, front_desk_user) = app.member(&clinic, Role::FrontDesk).await;
    let count_patients =
        || async { resources(&app.get("/fhir/R4/Patient?family=okafor", &practitioner).await.body).len() };
    // One bad entry at the end: nothing of the bundle is written.
    let mut sent = synthea_record("Maria", "Okafor");
    sent[3]["code"] = json!({ "coding": [{ "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "NOT-A-CODE" }] });
    sent[7]["valueQuantity"]["code"] = json!("[ft_i]");
    sent[10]["code"] = json!({ "coding": [{ "system": "http://snomed.info/sct", "code": "404909007" }] });
    let reply = import(&app, &practitioner, &transaction(&sent), None).await;
    refused(&reply, 400);
    let named = expressions(&reply);
    assert!(named.contains(&"Bundle.entry[3].resource.code.coding".to_string()), "{named:?}");
    assert!(named.contains(&"Bundle.entry[7].resource.valueQuantity.code".to_string()), "{named:?}");
    assert!(named.contains(&"Bundle.entry[10].resource.code".to_string()), "{named:?}");
    // The treatment's other problems are found too: its product had expired when it was used.
    let mut sent = synthea_record("Maria", "Okafor");
    sent[10]["contained"][0]["batch"]["expirationDate"] = json!("2026-01-31");
    let reply = import(&app, &practitioner, &transaction(&sent), None).await;
    refused(&reply, 422);
    assert_eq!(expressions(&reply), ["Bundle.entry[10].resource.contained[0].batch.expirationDate"]);
    assert_eq!(count_patients().await, 0);
    // A member of the clinic who does not treat, named as its performer.
    let mut sent = synthea_record("Maria", "Okafor");
    let desk = json!({ "system": "urn:vellum:staff", "value": front_desk_user });
    sent[10]["performer"] = json!([{ "actor": { "identifier": desk } }]);
    let reply = import(&app, &practitioner, &transaction(&sent), None).await;
    refused(&reply, 409);
    assert_eq!(expressions(&reply), ["Bundle.entry[10].resource.performer[0].actor.identifier.value"]);
    assert_eq!(count_patients().await, 0);
    assert_eq!(count_patients().await, 0);
    // A BMI that the weight and height given with it do not give.
    let mut sent = synthea_record("Maria", "Okafor");
    sent[8]["valueQuantity"]["value"] = json!(31.0);
    let reply = import(&app, &practitioner, &transaction(&sent), None).await;
    refused(&reply, 422);
    assert_eq!(expressions(&reply), ["Bundle.entry[8].resource.valueQuantity.value"]);
    assert_eq!(count_patients().await, 0);
    // A chart rule of the JSON API: no known allergies beside an active allergy.
    let mut sent = synthea_record("Maria", "Okafor");
    let mut none_known = sent[1].clone();
    none_known["code"] = json!({ "coding": [{ "system": "http://snomed.info/sct", "code": "716186003" }] });
    for gone in ["reaction", "category", "criticality", "onsetDateTime"] {
        none_known.as_object_mut().unwrap().remove(gone);
    }
    sent.push(none_known);
    let reply = import(&app, &practitioner, &transaction(&sent), None).await;
    refused(&reply, 409);
    assert_eq!(expressions(&reply), [format!("Bundle.entry[{}]", sent.len() - 1)]);
    assert_eq!(count_patients().await, 0);
    // Another clinic's patient is not found, at the reference.
    let elsewhere = app.open_clinic("Elsewhere").await;
    let theirs = app.patient(&elsewhere, vellum_tests::patient_body("Other", "Person")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let condition = json!({ "resourceType": "Condition", "code": { "text": "Acne" }, "subject": { "reference": format!("Patient/{theirs}") } });
    let reply = import(&app, &practitioner, &transaction(std::slice::from_ref(&condition)), None).await;
    refused(&reply, 404);
    assert_eq!(expressions(&reply), ["Bundle.entry[0].resource.subject.reference"]);
    // A type an import does not write, a batch, an update: 400, each at its path.
    let mut bundle = transaction(&[json!({ "resourceType": "Encounter", "status": "finished" }), condition]);
    bundle["type"] = json!("batch");
    bundle["entry"][1]["request"]["method"] = json!("PUT");
    let reply = import(&app, &practitioner, &bundle, None).await;
    refused(&reply, 400);
    assert_eq!(
        expressions(&reply),
        ["Bundle.type", "Bundle.entry[0].resource.resourceType", "Bundle.entry[1].request"]
    );
    // What a resource lacks is named at the element it would come from.
    let reply = import(&app, &practitioner, &transaction(&[json!({ "resourceType": "Patient" })]), None).await;
    refused(&reply, 400);
    let named = expressions(&reply);
    assert!(named.contains(&"Bundle.entry[0].resource.name".to_string()), "{named:?}");
    assert!(named.contains(&"Bundle.entry[0].resource.birthDate".to_string()), "{named:?}");
    let said: Vec<&str> =
        reply.body["issue"].as_array().unwrap().iter().filter_map(|i| i["diagnostics"].as_str()).collect();
    assert!(said.iter().any(|d| d.contains("givenName")), "{said:?}");
    // Over the limit: 413, saying it.
    let many: Vec<Value> = (0..101).map(|_| json!({ "resourceType": "Patient" })).collect();
    let reply = import(&app, &practitioner, &transaction(&many), None).await;
    refused(&reply, 413);
    assert!(reply.body["issue"][0]["diagnostics"].as_str().unwrap().contains("at most 100"), "{reply:?}");
    let heavy: Vec<Value> = (0..60).map(|i| synthea_record(&format!("P{i}"), "Okafor")[0].clone()).collect();
    let reply = import(&app, &practitioner, &transaction(&heavy), None).await;
    refused(&reply, 413);
    assert!(
        reply.body["issue"][0]["diagnostics"].as_str().unwrap().contains("transaction takes at most 100"),
        "{reply:?}"
    );
    assert_eq!(count_patients().await, 0);
    // The front desk does not write charts, so does not import.
    refused(&import(&app, &front_desk, &transaction(&synthea_record("Maria", "Okafor")), None).await, 403);
    assert_eq!(count_patients().await, 0);
}

on_both_backends!(
    a_synthea_bundle_imports_all_at_once_and_reads_back_equal,
    a_bad_bundle_is_refused_whole_naming_the_entry_and_path,
);
