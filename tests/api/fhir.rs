//! The FHIR R4 face: resources mapped from the chart and checked by the `fhir.resources` models, searches
//! paged through their links (by fhirpy, a FHIR client), roles, tenancy and audit as in the JSON API, and
//! OperationOutcome for what it refuses.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Clinic, Reply, TestApp, chart_entry, every_day, patient_body, treatment_body};

/// The Python of the virtualenv with `fhir.resources` and `fhirpy` (the test command installs it).
fn fhir_python() -> String {
    std::env::var("VELLUM_FHIR_PYTHON").unwrap_or_else(|_| {
        panic!("VELLUM_FHIR_PYTHON is not set: run the suite with `bash tests/run.sh`, which installs fhir.resources")
    })
}

/// Runs one of `tests/fhir/*.py` with `args`; its standard output, or a panic with what it said.
fn python(script: &str, args: &[&str]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fhir").join(script);
    let out = std::process::Command::new(fhir_python()).arg(path).args(args).output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{script}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Validates every resource with the R4B models.
pub(crate) fn validate(resources: &[Value]) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(resources).unwrap()).unwrap();
    python("validate.py", &[file.path().to_str().unwrap()]);
}

fn is_fhir(reply: &Reply) -> bool {
    reply.header("content-type") == Some("application/fhir+json")
}

/// A searchset's resources.
pub(crate) fn resources(bundle: &Value) -> Vec<Value> {
    assert_eq!(bundle["resourceType"], "Bundle", "{bundle}");
    assert_eq!(bundle["type"], "searchset");
    bundle["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect()
}

/// A refusal as an OperationOutcome with `status`.
pub(crate) fn refused(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert!(is_fhir(reply), "{reply:?}");
    assert_eq!(reply.body["resourceType"], "OperationOutcome", "{reply:?}");
    assert!(reply.body["issue"][0]["diagnostics"].as_str().is_some_and(|d| !d.is_empty()), "{reply:?}");
}

/// A clinic with a practitioner and a patient whose chart holds one entry of each kind FHIR serves.
pub(crate) async fn charted(app: &TestApp) -> (Clinic, String, String) {
    let clinic = app.open_clinic("FHIR Clinic").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Ada", "Lovelace")).await["id"].as_str().unwrap().to_string();
    let mut allergy = chart_entry("allergies").0;
    allergy["code"] = json!({"system": "rxnorm", "code": "7980"});
    let vitals = json!({"measuredAt": "2026-11-20T10:00:00Z", "bloodPressure": {"systolic": 118, "diastolic": 76},
                        "heartRate": 64, "temperature": {"value": 36.8, "unit": "C"},
                        "weight": {"value": 60, "unit": "kg"}, "height": {"value": 165, "unit": "cm"}});
    let medication = json!({"name": "Valacyclovir", "strength": "500 mg", "dose": "1 tablet", "route": "oral",
                            "frequency": "as needed", "startDate": "2026-01-10", "status": "active"});
    let mut treatment = treatment_body("AB-1234", "2099-01-31");
    treatment["performedAt"] = json!("2026-11-20T11:00:00Z");
    for (segment, body) in [
        ("treatments", treatment),
        ("allergies", allergy),
        ("medications", medication),
        ("conditions", json!({"code": "L70.0", "onset": "2020-05-01"})),
        ("vitals", vitals),
    ] {
        let made = app.post(&format!("/v1/patients/{patient}/{segment}"), &practitioner, body).await;
        assert_eq!(made.status, 201, "{segment}: {made:?}");
    }
    (clinic, practitioner, patient)
}

async fn each_kind_reads_as_its_fhir_resource_and_validates(app: TestApp) {
    let (clinic, practitioner, patient) = charted(&app).await;
    let mut emitted = Vec::new();

    let metadata = app.get("/fhir/R4/metadata", &practitioner).await;
    assert!(is_fhir(&metadata) && metadata.status == 200, "{metadata:?}");
    let served: Vec<&str> =
        metadata.body["rest"][0]["resource"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        served,
        [
            "Patient",
            "AllergyIntolerance",
            "MedicationStatement",
            "Condition",
            "Observation",
            "Procedure",
            "Media",
            "QuestionnaireResponse",
            "Consent",
            "Provenance",
            "Appointment",
            "AuditEvent"
        ]
    );
    emitted.push(metadata.body.clone());

    let read = app.get(&format!("/fhir/R4/Patient/{patient}"), &practitioner).await;
    assert!(is_fhir(&read) && read.status == 200, "{read:?}");
    assert_eq!(read.body["name"][0]["family"], "Lovelace");
    assert_eq!(read.body["identifier"][0]["system"], format!("urn:vellum:clinic:{}:mrn", clinic.id));
    emitted.push(read.body.clone());

    let mut found = std::collections::BTreeMap::new();
    for kind in ["AllergyIntolerance", "MedicationStatement", "Condition", "Observation", "Procedure"] {
        let search = app.get(&format!("/fhir/R4/{kind}?patient=Patient/{patient}"), &practitioner).await;
        assert!(is_fhir(&search) && search.status == 200, "{kind}: {search:?}");
        let page = resources(&search.body);
        for resource in &page {
            assert_eq!(resource["resourceType"], kind);
            let reference = if kind == "AllergyIntolerance" { &resource["patient"] } else { &resource["subject"] };
            assert_eq!(reference["reference"], format!("Patient/{patient}"));
            // A read by the id the search gave returns the same resource.
            let id = resource["id"].as_str().unwrap();
            let one = app.get(&format!("/fhir/R4/{kind}/{id}"), &practitioner).await;
            assert_eq!((one.status, &one.body), (200, resource), "{kind}/{id}");
        }
        emitted.push(search.body.clone());
        found.insert(kind, page);
    }
    let allergy = &found["AllergyIntolerance"][0];
    assert_eq!(allergy["code"]["coding"][0]["system"], "http://www.nlm.nih.gov/research/umls/rxnorm");
    assert_eq!(allergy["clinicalStatus"]["coding"][0]["code"], "active");
    assert_eq!(
        (allergy["criticality"].as_str(), allergy["reaction"][0]["severity"].as_str()),
        (Some("high"), Some("severe"))
    );
    let condition = &found["Condition"][0];
    assert_eq!(
        condition["code"]["coding"][0],
        json!({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "L70.0", "display": condition["code"]["coding"][0]["display"]})
    );
    assert_eq!(found["MedicationStatement"][0]["status"], "active");
    let loinc: Vec<&str> =
        found["Observation"].iter().map(|o| o["code"]["coding"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(
        loinc,
        ["85354-9", "8867-4", "8310-5", "29463-7", "8302-2", "39156-5"],
        "BP, HR, temperature, weight, height, BMI"
    );
    let bp = &found["Observation"][0];
    assert_eq!(bp["component"][0]["valueQuantity"]["code"], "mm[Hg]");
    assert_eq!(bp["category"][0]["coding"][0]["code"], "vital-signs");
    let procedure = &found["Procedure"][0];
    assert_eq!(procedure["contained"][0]["batch"]["lotNumber"], "AB-1234");
    assert_eq!(procedure["usedReference"][0]["reference"], "#product-0");
    assert_eq!(procedure["usedReference"][0]["extension"][0]["valueQuantity"]["code"], "[U]");

    // "No known allergies" is SNOMED CT's code, on a patient of its own (it excludes active allergies).
    let other = app.patient(&clinic, patient_body("Grace", "Hopper")).await["id"].as_str().unwrap().to_string();
    let none =
        app.post(&format!("/v1/patients/{other}/allergies"), &practitioner, json!({"noKnownAllergies": true})).await;
    assert_eq!(none.status, 201, "{none:?}");
    let search = app.get(&format!("/fhir/R4/AllergyIntolerance?patient={other}"), &practitioner).await;
    let nka = &resources(&search.body)[0];
    assert_eq!(nka["code"]["coding"][0]["code"], "716186003");
    emitted.push(search.body.clone());

    // $everything: the patient first, then every chart resource; the front desk's leaves out, and says
    // which, the types its role does not read.
    let everything = app.get(&format!("/fhir/R4/Patient/{patient}/$everything"), &practitioner).await;
    assert!(is_fhir(&everything) && everything.status == 200, "{everything:?}");
    let all = resources(&everything.body);
    assert_eq!(all[0]["resourceType"], "Patient");
    let (log, chart): (Vec<&Value>, Vec<&Value>) = all.iter().partition(|r| r["resourceType"] == "AuditEvent");
    assert_eq!(chart.len(), 1 + found.values().map(Vec::len).sum::<usize>(), "{all:?}");
    // The access log comes last, newest first: the reads above are in it.
    assert!(!log.is_empty() && all.last().unwrap()["resourceType"] == "AuditEvent", "{all:?}");
    assert!(log.iter().any(|e| e["subtype"][0]["code"] == "fhir.read" && e["action"] == "R"), "{log:?}");
    emitted.push(everything.body.clone());
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let limited = app.get(&format!("/fhir/R4/Patient/{patient}/$everything"), &front_desk).await;
    let kinds: Vec<&str> = limited.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Patient", "AllergyIntolerance", "OperationOutcome"], "{limited:?}");
    assert!(
        limited.body["entry"][2]["resource"]["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("MedicationStatement")
    );
    emitted.push(limited.body.clone());
    refused(&app.get(&format!("/fhir/R4/Patient/{patient}/$export"), &practitioner).await, 400);
    refused(&app.get(&format!("/fhir/R4/Patient/{patient}/$everything?_type=Condition"), &practitioner).await, 400);

    validate(&emitted);

    // Every read is in the patient's access log, as the JSON API's are.
    let log = app.get(&format!("/v1/patients/{patient}/access-log?limit=100"), &clinic.admin).await;
    assert_eq!(log.status, 200, "{log:?}");
    let routes: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert!(routes.contains(&"fhir.read") && routes.contains(&"fhir.search"), "{routes:?}");
}

async fn a_search_pages_through_its_next_links(app: TestApp) {
    let clinic = app.open_clinic("Paging Clinic").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Page", "Turner")).await["id"].as_str().unwrap().to_string();
    for code in ["L70.0", "L71.9", "L81.4", "L90.5", "L57.0"] {
        let made = app.post(&format!("/v1/patients/{patient}/conditions"), &practitioner, json!({"code": code})).await;
        assert_eq!(made.status, 201, "{made:?}");
    }
    // fhirpy follows the next links to the end.
    let read = python("client.py", &[&app.base, &practitioner, &patient, "Condition", "2"]);
    let read: Value = serde_json::from_str(&read).unwrap();
    assert_eq!(read["fhirVersion"], "4.0.1");
    assert_eq!(read["patient"]["id"], patient);
    assert_eq!(read["firstPage"].as_array().unwrap().len(), 2);
    let all: std::collections::BTreeSet<&str> =
        read["all"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(all.len(), 5, "{read}");
    // $everything, two at a time through its next links: the patient and the five conditions, once each.
    let listed: Vec<&str> = read["everything"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let (log, listed): (Vec<&str>, Vec<&str>) = listed.into_iter().partition(|r| r.starts_with("AuditEvent/"));
    let everything: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(everything.len(), 6, "{read}");
    assert_eq!(listed.len(), 6, "{read}");
    // Then the patient's access log, each event once.
    assert_eq!(log.iter().collect::<std::collections::BTreeSet<_>>().len(), log.len(), "{read}");
    assert!(!log.is_empty(), "{read}");
    assert!(everything.contains(format!("Patient/{patient}").as_str()));

    let first = app.get(&format!("/fhir/R4/Condition?patient={patient}&_count=2"), &practitioner).await;
    let next = first.body["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let cursor = next.split("_cursor=").nth(1).unwrap().to_string();
    // A cursor is sealed to its clinic and its search: altered, or used for another search, it is refused.
    let mut tampered = cursor.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    refused(
        &app.get(&format!("/fhir/R4/Condition?patient={patient}&_count=2&_cursor={tampered}"), &practitioner).await,
        400,
    );
    refused(&app.get(&format!("/fhir/R4/Procedure?patient={patient}&_cursor={cursor}"), &practitioner).await, 400);

    // _lastUpdated keeps what changed in the range given.
    let later = app.get(&format!("/fhir/R4/Condition?patient={patient}&_lastUpdated=gt2099"), &practitioner).await;
    assert_eq!(resources(&later.body).len(), 0);
    let since =
        app.get(&format!("/fhir/R4/Condition?patient={patient}&_lastUpdated=ge2000-01-01"), &practitioner).await;
    assert_eq!(resources(&since.body).len(), 5);
}

async fn the_fhir_face_keeps_the_roles_tenancy_and_refusals_of_the_api(app: TestApp) {
    let (clinic, practitioner, patient) = charted(&app).await;
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let (billing, _) = app.member(&clinic, Role::Billing).await;
    // A role reads the types whose chart section it reads.
    refused(&app.get(&format!("/fhir/R4/MedicationStatement?patient={patient}"), &front_desk).await, 403);
    assert_eq!(app.get(&format!("/fhir/R4/AllergyIntolerance?patient={patient}"), &front_desk).await.status, 200);
    assert_eq!(app.get(&format!("/fhir/R4/Condition?patient={patient}"), &billing).await.status, 200);
    refused(&app.get(&format!("/fhir/R4/Observation?patient={patient}"), &billing).await, 403);
    // Another clinic's staff find nothing of this one.
    let elsewhere = app.open_clinic("Elsewhere").await;
    let (stranger, _) = app.member(&elsewhere, Role::Practitioner).await;
    refused(&app.get(&format!("/fhir/R4/Patient/{patient}"), &stranger).await, 404);
    refused(&app.get(&format!("/fhir/R4/Condition?patient={patient}"), &stranger).await, 404);
    let search = app.get(&format!("/fhir/R4/Patient?_id={patient}"), &stranger).await;
    assert_eq!(resources(&search.body).len(), 0);
    let condition = &resources(&app.get(&format!("/fhir/R4/Condition?patient={patient}"), &practitioner).await.body)[0];
    let id = condition["id"].as_str().unwrap();
    refused(&app.get(&format!("/fhir/R4/Condition/{id}"), &stranger).await, 404);
    // An id read as another type, or an observation's without its measure, names nothing.
    refused(&app.get(&format!("/fhir/R4/Procedure/{id}"), &practitioner).await, 404);
    let observation =
        &resources(&app.get(&format!("/fhir/R4/Observation?patient={patient}"), &practitioner).await.body)[0];
    let entry = observation["id"].as_str().unwrap().rsplit_once('-').unwrap().0.to_string();
    refused(&app.get(&format!("/fhir/R4/Observation/{entry}"), &practitioner).await, 404);
    // What the server does not serve or know is refused, never ignored.
    refused(&app.get(&format!("/fhir/R4/Encounter?patient={patient}"), &practitioner).await, 400);
    refused(&app.get(&format!("/fhir/R4/Condition?patient={patient}&code=L70.0"), &practitioner).await, 400);
    refused(&app.get("/fhir/R4/Condition", &practitioner).await, 400);
    refused(&app.get(&format!("/fhir/R4/Condition?patient={patient}&_count=500"), &practitioner).await, 400);
    refused(&app.get("/fhir/R4/Patient?birthdate=1815-12-40", &practitioner).await, 400);
    refused(&app.get(&format!("/fhir/R4/Patient/{patient}?_format=xml"), &practitioner).await, 400);
    let missing = app.get("/fhir/R4/Patient/01JD0000000000000000000099", &practitioner).await;
    refused(&missing, 404);
    // A forged token never reaches a record; the answer is still FHIR.
    refused(&app.get(&format!("/fhir/R4/Patient/{patient}"), "not-a-token").await, 401);
    // The patient's search finds them by record number and family name.
    let mrn =
        app.get(&format!("/v1/patients/{patient}"), &practitioner).await.body["mrn"].as_str().unwrap().to_string();
    let by_mrn = app.get(&format!("/fhir/R4/Patient?identifier={mrn}"), &front_desk).await;
    assert_eq!(resources(&by_mrn.body)[0]["id"], patient);
    let by_name = app.get("/fhir/R4/Patient?family=love", &front_desk).await;
    assert_eq!(resources(&by_name.body).len(), 1);
    // The access log as AuditEvents: read by those who read it in the JSON API, each read back by its id;
    // another clinic's staff find none of them.
    let mut emitted = Vec::new();
    let events = searched(&app, &practitioner, "AuditEvent", &patient, &mut emitted).await;
    let own =
        events.iter().find(|e| e["subtype"][0]["code"] == "patients.read" || e["subtype"][0]["code"] == "fhir.read");
    let own = own.unwrap_or_else(|| panic!("a read in {events:?}"));
    assert_eq!(own["entity"][0]["what"]["reference"], format!("Patient/{patient}"));
    assert_eq!(own["outcome"], "0");
    let whole = app.get(&format!("/fhir/R4/AuditEvent?patient={patient}&_count=100"), &practitioner).await;
    let whole = resources(&whole.body);
    let denied = whole
        .iter()
        .find(|e| e["outcome"] == "4" && e["agent"][0]["role"][0]["text"] == "front_desk")
        .expect("the front desk's refused search");
    assert_eq!(denied["outcomeDesc"], "denied: forbidden");
    assert_eq!(denied["subtype"][0]["code"], "fhir.search");
    validate(&emitted);
    refused(&app.get(&format!("/fhir/R4/AuditEvent?patient={patient}"), &front_desk).await, 403);
    let id = own["id"].as_str().unwrap();
    refused(&app.get(&format!("/fhir/R4/AuditEvent/{id}"), &stranger).await, 404);
    refused(&app.get(&format!("/fhir/R4/AuditEvent/{patient}"), &practitioner).await, 404);
}

/// A search of `kind` for the patient, each resource read back by its id as the same resource; the bundle
/// goes to `emitted`.
async fn searched(app: &TestApp, token: &str, kind: &str, patient: &str, emitted: &mut Vec<Value>) -> Vec<Value> {
    let search = app.get(&format!("/fhir/R4/{kind}?patient=Patient/{patient}"), token).await;
    assert!(is_fhir(&search) && search.status == 200, "{kind}: {search:?}");
    let page = resources(&search.body);
    for resource in &page {
        assert_eq!(resource["resourceType"], kind);
        let id = resource["id"].as_str().unwrap();
        assert!(id.len() <= 64, "{id}");
        let one = app.get(&format!("/fhir/R4/{kind}/{id}"), token).await;
        assert_eq!((one.status, &one.body), (200, resource), "{kind}/{id}");
    }
    emitted.push(search.body);
    page
}

/// Every page of `path` (a search or `$everything`), through its next links: the resources' references.
async fn every_page(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let (mut path, mut found) = (path.to_string(), Vec::new());
    loop {
        let page = app.get(&path, token).await;
        assert_eq!(page.status, 200, "{page:?}");
        for resource in resources(&page.body) {
            if resource["resourceType"] != "OperationOutcome" {
                found.push(format!(
                    "{}/{}",
                    resource["resourceType"].as_str().unwrap(),
                    resource["id"].as_str().unwrap()
                ));
            }
        }
        let links = page.body["link"].as_array().unwrap().clone();
        match links.iter().find(|l| l["relation"] == "next") {
            Some(next) => path = format!("/fhir/{}", next["url"].as_str().unwrap().split_once("/fhir/").unwrap().1),
            None => return found,
        }
    }
}

async fn photos_forms_sources_and_appointments_read_as_fhir(app: TestApp) {
    let clinic = app.open_clinic("FHIR Records").await;
    let (practitioner, practitioner_user) = app.member(&clinic, Role::Practitioner).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let patient = app.patient(&clinic, patient_body("Ana", "García")).await["id"].as_str().unwrap().to_string();
    // A treatment, and a photo after it.
    let treated = app
        .post(&format!("/v1/patients/{patient}/treatments"), &practitioner, treatment_body("AB-1", "2099-01-31"))
        .await;
    assert_eq!(treated.status, 201, "{treated:?}");
    let treatment = treated.body["id"].as_str().unwrap().to_string();
    let extra = json!({"treatmentId": treatment, "phase": "after", "bodyArea": "forehead"});
    let (photo, _) = app.photo(&nurse, &patient, "image/jpeg", vellum_tests::images::jpeg(64, 48), extra).await;
    let photo = photo["id"].as_str().unwrap().to_string();
    // The patient's forms, one allergy of them accepted into the chart, and a condition from another system.
    let submission = app.submission(&clinic, &patient).await;
    let accept = json!({"items": [{"templateId": "medical-history", "questionId": "allergies", "index": 0}]});
    let accepted = app.post(&format!("/v1/patients/{patient}/submissions/{submission}/accept"), &nurse, accept).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    let mut imported = chart_entry("conditions").0;
    imported["source"] = json!({"type": "imported", "system": "PreviousEMR"});
    let imported = app.post(&format!("/v1/patients/{patient}/conditions"), &practitioner, imported).await;
    assert_eq!(imported.status, 201, "{imported:?}");
    // An appointment.
    let hours = app
        .send(
            "PUT",
            &format!("/v1/staff/{practitioner_user}/working-hours"),
            Some(&clinic.admin),
            Some(every_day(json!([{"start": "09:00", "end": "17:00"}]))),
            &[],
        )
        .await;
    assert_eq!(hours.status, 200, "{hours:?}");
    let service = json!({"name": "Laser", "durationMinutes": 60, "performedBy": {"staff": [practitioner_user]}});
    let service = app.post("/v1/services", &clinic.admin, service).await.body["id"].as_str().unwrap().to_string();
    let booking = json!({"patientId": patient, "serviceId": service, "start": "2027-01-11T10:00:00-08:00"});
    let booked = app.post("/v1/appointments", &clinic.admin, booking).await;
    assert_eq!(booked.status, 201, "{booked:?}");

    let mut emitted = Vec::new();
    let media = searched(&app, &practitioner, "Media", &patient, &mut emitted).await;
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["identifier"][0]["value"], photo.as_str());
    assert_eq!(media[0]["status"], "completed");
    assert_eq!(media[0]["partOf"][0]["reference"], format!("Procedure/{patient}-{treatment}"));
    assert_eq!((media[0]["width"].as_u64(), media[0]["height"].as_u64()), (Some(64), Some(48)));
    assert_eq!(media[0]["bodySite"]["text"], "forehead");
    assert!(media[0]["content"].get("data").is_none() && media[0]["content"].get("url").is_none(), "metadata only");
    let extensions = media[0]["extension"].as_array().unwrap();
    assert!(
        extensions.iter().any(|e| e["valueCode"] == "after")
            && extensions.iter().any(|e| e["valueCode"] == "clinical-record")
    );

    let responses = searched(&app, &practitioner, "QuestionnaireResponse", &patient, &mut emitted).await;
    assert_eq!(responses.len(), 2, "the medical history and the consent form: {responses:?}");
    let history =
        responses.iter().find(|r| r["questionnaire"].as_str().unwrap().contains(":medical-history|")).unwrap();
    let allergies: Vec<&Value> =
        history["item"].as_array().unwrap().iter().filter(|i| i["linkId"] == "allergies").collect();
    assert_eq!(allergies.len(), 2, "one group per allergy listed: {history}");
    assert_eq!(
        allergies[0]["item"].as_array().unwrap().iter().find(|i| i["linkId"] == "substance").unwrap()["answer"][0]["valueString"],
        "Penicillin"
    );
    let pregnant = history["item"].as_array().unwrap().iter().find(|i| i["linkId"] == "pregnant").unwrap();
    assert_eq!(pregnant["answer"][0]["valueBoolean"], false);

    let consents = searched(&app, &practitioner, "Consent", &patient, &mut emitted).await;
    assert_eq!(consents.len(), 1, "{consents:?}");
    let pdf = consents[0]["sourceAttachment"]["url"].as_str().unwrap();
    assert!(pdf.ends_with(&format!("/submissions/{submission}/consents/neurotoxin-consent")), "{pdf}");
    let pdf = app.get(&format!("/v1/{}", pdf.split_once("/v1/").unwrap().1), &nurse).await;
    assert_eq!((pdf.status, pdf.header("content-type")), (200, Some("application/pdf")), "the link is the signed PDF");

    let provenance = searched(&app, &practitioner, "Provenance", &patient, &mut emitted).await;
    assert_eq!(provenance.len(), 2, "the accepted allergy and the imported condition; staff-typed entries have none");
    let from_patient = provenance.iter().find(|p| p["entity"].is_array()).unwrap();
    assert_eq!(from_patient["agent"][0]["who"]["reference"], format!("Patient/{patient}"));
    assert_eq!(from_patient["entity"][0]["what"]["identifier"]["value"], submission.as_str());
    assert!(from_patient["target"][0]["reference"].as_str().unwrap().starts_with("AllergyIntolerance/"));
    let from_system = provenance.iter().find(|p| p["entity"].is_null()).unwrap();
    assert_eq!(from_system["agent"][0]["who"]["display"], "PreviousEMR");
    assert!(from_system["target"][0]["reference"].as_str().unwrap().starts_with("Condition/"));

    let appointments = searched(&app, &practitioner, "Appointment", &patient, &mut emitted).await;
    assert_eq!(appointments.len(), 1, "{appointments:?}");
    assert_eq!(
        (appointments[0]["status"].as_str(), appointments[0]["start"].as_str()),
        (Some("booked"), Some("2027-01-11T18:00:00Z"))
    );
    assert_eq!(appointments[0]["participant"][0]["actor"]["reference"], format!("Patient/{patient}"));
    assert_eq!(appointments[0]["serviceType"][0]["coding"][0]["code"], service.as_str());

    // $everything holds every type, and paged three at a time it holds the same, each once, across the
    // chart partition and the appointments.
    let whole = app.get(&format!("/fhir/R4/Patient/{patient}/$everything?_count=100"), &practitioner).await;
    let all: Vec<String> = resources(&whole.body)
        .iter()
        .map(|r| format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap()))
        .collect();
    emitted.push(whole.body.clone());
    for kind in [
        "Patient",
        "AllergyIntolerance",
        "Condition",
        "Procedure",
        "Media",
        "QuestionnaireResponse",
        "Consent",
        "Provenance",
        "Appointment",
    ] {
        assert!(all.iter().any(|r| r.starts_with(&format!("{kind}/"))), "{kind} in {all:?}");
    }
    // The access log comes last; it grows with every read, so the pages are compared up to it.
    let is_log = |r: &String| r.starts_with("AuditEvent/");
    let records: Vec<String> = all.iter().filter(|r| !is_log(r)).cloned().collect();
    assert!(all.iter().skip(records.len()).all(is_log), "the access log comes last: {all:?}");
    assert_eq!(records.last().map(|r| r.starts_with("Appointment/")), Some(true), "then appointments: {all:?}");
    for count in [1, 3] {
        let paged =
            every_page(&app, &practitioner, &format!("/fhir/R4/Patient/{patient}/$everything?_count={count}")).await;
        let (log, mut paged): (Vec<String>, Vec<String>) = paged.into_iter().partition(is_log);
        assert_eq!(paged, records, "paged {count} at a time");
        paged.sort();
        paged.dedup();
        assert_eq!(paged.len(), records.len());
        let events: std::collections::BTreeSet<&String> = log.iter().collect();
        assert_eq!(events.len(), log.len(), "each event once, paged {count} at a time");
    }
    // The front desk reads the patient, allergies (and where they came from) and appointments: nothing
    // else, and it is told so.
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    let limited = app.get(&format!("/fhir/R4/Patient/{patient}/$everything"), &front_desk).await;
    let kinds: std::collections::BTreeSet<&str> = limited.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["AllergyIntolerance", "Appointment", "OperationOutcome", "Patient", "Provenance"].into_iter().collect(),
        "{limited:?}"
    );
    refused(&app.get(&format!("/fhir/R4/Media?patient={patient}"), &front_desk).await, 403);
    refused(&app.get(&format!("/fhir/R4/Consent?patient={patient}"), &front_desk).await, 403);
    let provenance_of_allergy = &from_patient["id"];
    let read = app.get(&format!("/fhir/R4/Provenance/{}", provenance_of_allergy.as_str().unwrap()), &front_desk).await;
    assert_eq!(read.status, 200, "the front desk reads allergies, and so where one came from: {read:?}");
    let of_condition = from_system["id"].as_str().unwrap();
    refused(&app.get(&format!("/fhir/R4/Provenance/{of_condition}"), &front_desk).await, 404);
    // Another clinic's staff find none of it.
    let elsewhere = app.open_clinic("Elsewhere").await;
    let (stranger, _) = app.member(&elsewhere, Role::Practitioner).await;
    refused(&app.get(&format!("/fhir/R4/Media/{}", media[0]["id"].as_str().unwrap()), &stranger).await, 404);
    refused(
        &app.get(&format!("/fhir/R4/Appointment/{}", appointments[0]["id"].as_str().unwrap()), &stranger).await,
        404,
    );

    validate(&emitted);
}

async fn break_glass_opens_a_type_and_refusals_reach_the_access_log(app: TestApp) {
    let (clinic, practitioner, patient) = charted(&app).await;
    let search = format!("/fhir/R4/MedicationStatement?patient=Patient/{patient}");
    // An administrator does not read medications; the refusal says how break-glass would open them, and is
    // in the patient's access log as the JSON API's refusals are.
    let refusal = app.get(&search, &clinic.admin).await;
    refused(&refusal, 403);
    assert!(refusal.body["issue"][0]["diagnostics"].as_str().unwrap().contains("break glass"), "{refusal:?}");
    let medication =
        &resources(&app.get(&format!("/fhir/R4/MedicationStatement?patient={patient}"), &practitioner).await.body)[0];
    let id = medication["id"].as_str().unwrap().to_string();
    refused(&app.get(&format!("/fhir/R4/MedicationStatement/{id}"), &clinic.admin).await, 403);
    let everything = app.get(&format!("/fhir/R4/Patient/{patient}/$everything"), &clinic.admin).await;
    assert!(!resources(&everything.body).iter().any(|r| r["resourceType"] == "MedicationStatement"));

    let reason = "Patient unresponsive after treatment; checking current medications";
    let opened = app
        .post(
            &format!("/v1/patients/{patient}/break-glass"),
            &clinic.admin,
            json!({"reason": reason, "scope": "medication"}),
        )
        .await;
    assert_eq!(opened.status, 201, "{opened:?}");
    let found = app.get(&search, &clinic.admin).await;
    assert_eq!(found.status, 200, "{found:?}");
    assert_eq!(resources(&found.body).len(), 1);
    assert_eq!(app.get(&format!("/fhir/R4/MedicationStatement/{id}"), &clinic.admin).await.status, 200);
    let everything = app.get(&format!("/fhir/R4/Patient/{patient}/$everything"), &clinic.admin).await;
    assert!(resources(&everything.body).iter().any(|r| r["resourceType"] == "MedicationStatement"));
    // It opens that type only.
    refused(&app.get(&format!("/fhir/R4/Observation?patient={patient}"), &clinic.admin).await, 403);

    let log = app.get(&format!("/v1/patients/{patient}/access-log?limit=100"), &clinic.admin).await;
    let events = log.body["items"].as_array().unwrap();
    let named = |name: &str, outcome: &str| {
        events.iter().filter(|e| e["eventName"] == name && e["outcome"] == outcome).cloned().collect::<Vec<_>>()
    };
    assert!(named("fhir.search", "denied").len() >= 2, "the refused searches: {events:?}");
    assert!(!named("fhir.read", "denied").is_empty(), "the refused read, named by its id");
    let under = |e: &Value| e["breakGlass"][0]["reason"] == reason;
    assert!(named("fhir.search", "success").iter().any(under), "the search under break-glass");
    assert!(named("fhir.read", "success").iter().any(under), "the read under break-glass");
    assert!(named("fhir.operation", "success").iter().any(under), "$everything under break-glass");
    // As AuditEvents, a call under break-glass has it as its purpose.
    let audit = app.get(&format!("/fhir/R4/AuditEvent?patient={patient}&_count=100"), &clinic.admin).await;
    let broke = resources(&audit.body)
        .into_iter()
        .find(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "BTG")
        .expect("an event under break-glass");
    assert!(broke["purposeOfEvent"][0]["text"].as_str().unwrap().contains(reason), "{broke}");
}

on_both_backends!(
    break_glass_opens_a_type_and_refusals_reach_the_access_log,
    photos_forms_sources_and_appointments_read_as_fhir,
    each_kind_reads_as_its_fhir_resource_and_validates,
    a_search_pages_through_its_next_links,
    the_fhir_face_keeps_the_roles_tenancy_and_refusals_of_the_api,
);
