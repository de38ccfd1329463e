//! Patients: registration with record numbers, search, reads with ETags, merge-patch updates guarded by If-Match.

use serde_json::json;
use vellum_tests::{TestApp, patient_body};

async fn a_registered_patient_reads_back_with_a_record_number_and_etag(app: TestApp) {
    let clinic = app.open_clinic("Register").await;
    let created = app.post("/v1/patients", &clinic.admin, patient_body("Ana", "García")).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["mrn"], "00000001");
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.header("location"), Some(format!("/v1/patients/{id}").as_str()));
    let read = app.get(&format!("/v1/patients/{id}"), &clinic.admin).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.body["insurance"]["memberId"], "M123");
    assert_eq!(read.body["address"]["postalCode"], "94105");
    let second = app.patient(&clinic, patient_body("Bo", "Li")).await;
    assert_eq!(second["mrn"], "00000002");
}

async fn the_record_number_is_set_by_vellum_only(app: TestApp) {
    let clinic = app.open_clinic("Numbers").await;
    let mut body = patient_body("Ana", "Mrn");
    body["mrn"] = json!("12345678");
    let reply = app.post("/v1/patients", &clinic.admin, body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_fields(), ["mrn"]);
}

async fn patients_are_found_by_name_prefix_birth_date_phone_and_record_number(app: TestApp) {
    let clinic = app.open_clinic("Search").await;
    let garcia = app.patient(&clinic, patient_body("Ana", "García")).await;
    let mut body = patient_body("Bruno", "Garrido");
    body["birthDate"] = json!("1970-01-01");
    body["phone"] = json!("+33612345678");
    let garrido = app.patient(&clinic, body).await;
    app.patient(&clinic, patient_body("Chen", "Wu")).await;

    let names = |reply: &vellum_tests::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|p| p["familyName"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&app.get("/v1/patients?familyName=gar", &clinic.admin).await), ["García", "Garrido"]);
    assert_eq!(
        names(&app.get("/v1/patients?familyName=GARC", &clinic.admin).await),
        ["García"],
        "accents and case fold"
    );
    assert_eq!(names(&app.get("/v1/patients?birthDate=1970-01-01", &clinic.admin).await), ["Garrido"]);
    assert_eq!(names(&app.get("/v1/patients?phone=%2B33612345678", &clinic.admin).await), ["Garrido"]);
    let mrn = garcia["mrn"].as_str().unwrap();
    assert_eq!(names(&app.get(&format!("/v1/patients?mrn={mrn}"), &clinic.admin).await), ["García"]);
    assert_eq!(names(&app.get("/v1/patients?familyName=gar&birthDate=1988-04-12", &clinic.admin).await), ["García"]);
    assert!(names(&app.get("/v1/patients?mrn=99999999", &clinic.admin).await).is_empty());
    let summary = &app.get("/v1/patients?familyName=garrido", &clinic.admin).await.body["items"][0];
    assert_eq!(summary["id"], garrido["id"]);
    assert!(summary.get("insurance").is_none(), "search results carry a summary only");
}

async fn every_patient_is_reached_through_the_pages(app: TestApp) {
    let clinic = app.open_clinic("Pages").await;
    for n in 0..7 {
        app.patient(&clinic, patient_body("P", &format!("Family{n}"))).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/patients?limit=3".to_string();
    loop {
        let reply = app.get(&path, &clinic.admin).await;
        assert_eq!(reply.status, 200);
        for p in reply.body["items"].as_array().unwrap() {
            seen.push(p["familyName"].as_str().unwrap().to_string());
        }
        match reply.body["nextCursor"].as_str() {
            Some(c) => path = format!("/v1/patients?limit=3&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|n| format!("Family{n}")).collect();
    assert_eq!(seen, expected);
}

async fn an_update_needs_the_current_etag_and_loses_nothing_when_stale(app: TestApp) {
    let clinic = app.open_clinic("Updates").await;
    let created = app.patient(&clinic, patient_body("Ana", "Update")).await;
    let path = format!("/v1/patients/{}", created["id"].as_str().unwrap());

    let missing = app.send("PATCH", &path, Some(&clinic.admin), Some(json!({"preferredName": "Annie"})), &[]).await;
    assert_eq!(missing.status, 428);
    let updated = app
        .send(
            "PATCH",
            &path,
            Some(&clinic.admin),
            Some(json!({"preferredName": "Annie", "insurance": null, "address": {"city": "Oakland"}})),
            &[("if-match", "\"1\""), ("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(updated.status, 200, "{updated:?}");
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert_eq!(updated.body["preferredName"], "Annie");
    assert!(updated.body.get("insurance").is_none());
    assert_eq!(updated.body["address"]["city"], "Oakland");
    assert_eq!(updated.body["address"]["lines"][0], "1 Main St", "a merge patch keeps what it does not name");
    assert_eq!(updated.body["mrn"], created["mrn"]);

    let stale = app.patch(&path, &clinic.admin, "\"1\"", json!({"preferredName": "Lost"})).await;
    assert_eq!(stale.status, 412);
    let current = app.get(&path, &clinic.admin).await;
    assert_eq!(current.body["preferredName"], "Annie");
    assert_eq!(current.header("etag"), Some("\"2\""));

    let invalid = app.patch(&path, &clinic.admin, "\"2\"", json!({"givenName": null, "email": "bad"})).await;
    assert_eq!(invalid.status, 400);
    let mut fields = invalid.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "givenName"]);
    assert_eq!(app.get(&path, &clinic.admin).await.body["version"], 2, "a refused patch writes nothing");
}

async fn a_name_change_moves_the_patient_in_search(app: TestApp) {
    let clinic = app.open_clinic("Rename").await;
    let created = app.patient(&clinic, patient_body("Ana", "Oldname")).await;
    let path = format!("/v1/patients/{}", created["id"].as_str().unwrap());
    let renamed = app.patch(&path, &clinic.admin, "\"1\"", json!({"familyName": "Newname", "phone": null})).await;
    assert_eq!(renamed.status, 200);
    assert!(app.get("/v1/patients?familyName=old", &clinic.admin).await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(app.get("/v1/patients?familyName=new", &clinic.admin).await.body["items"].as_array().unwrap().len(), 1);
    let by_old_phone = app.get("/v1/patients?phone=%2B14155550123", &clinic.admin).await;
    assert!(by_old_phone.body["items"].as_array().unwrap().is_empty());
}

on_both_backends!(
    a_registered_patient_reads_back_with_a_record_number_and_etag,
    the_record_number_is_set_by_vellum_only,
    patients_are_found_by_name_prefix_birth_date_phone_and_record_number,
    every_patient_is_reached_through_the_pages,
    an_update_needs_the_current_etag_and_loses_nothing_when_stale,
    a_name_change_moves_the_patient_in_search,
);
