//! Bad input gets a clear problem+json answer, never a 5xx, and changes nothing.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::http::routes::ROUTES;
use vellum_tests::{Backend, TestApp, patient_body};

async fn malformed_json_is_a_bad_request(app: TestApp) {
    let clinic = app.open_clinic("Syntax").await;
    for body in ["{", "{\"givenName\": }", "", "\u{0}", "[1,2"] {
        let reply =
            app.send_raw("POST", "/v1/patients", &clinic.admin, "application/json", body.as_bytes().to_vec()).await;
        assert_eq!(reply.status, 400, "{body:?}");
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert!(reply.body["detail"].as_str().unwrap().contains("JSON"));
    }
    let not_object = app.post("/v1/patients", &clinic.admin, json!([1, 2])).await;
    assert_eq!(not_object.status, 400);
    let list = app.get("/v1/patients", &clinic.admin).await;
    assert!(list.body["items"].as_array().unwrap().is_empty(), "nothing was written");
}

async fn wrong_types_and_missing_fields_are_named(app: TestApp) {
    let clinic = app.open_clinic("Types").await;
    let reply = app
        .post(
            "/v1/patients",
            &clinic.admin,
            json!({"givenName": 7, "birthDate": true, "sexAtBirth": "female", "address": "street", "shoeSize": 42}),
        )
        .await;
    assert_eq!(reply.status, 400);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["address", "birthDate", "familyName", "givenName", "shoeSize"]);
}

async fn nonsense_values_are_refused_field_by_field(app: TestApp) {
    let clinic = app.open_clinic("Rules").await;
    let mut body = patient_body("Ana", "Rules");
    body["birthDate"] = json!("2999-01-01");
    body["email"] = json!("not-an-email");
    body["phone"] = json!("555-1234");
    body["sexAtBirth"] = json!("sometimes");
    body["address"]["country"] = json!("ZZ");
    body["emergencyContact"]["phone"] = json!("+0");
    let reply = app.post("/v1/patients", &clinic.admin, body).await;
    assert_eq!(reply.status, 422, "{reply:?}");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["address.country", "birthDate", "email", "emergencyContact.phone", "phone", "sexAtBirth"]);
    assert!(
        reply.body["errors"].as_array().unwrap().iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
    );
}

async fn an_oversize_body_is_refused(app: TestApp) {
    let clinic = app.open_clinic("Size").await;
    let mut body = patient_body("Big", "Body");
    body["pronouns"] = json!("x".repeat(70 * 1024));
    let reply = app.post("/v1/patients", &clinic.admin, body).await;
    assert_eq!(reply.status, 413);
    assert!(app.get("/v1/patients", &clinic.admin).await.body["items"].as_array().unwrap().is_empty());
}

async fn a_wrong_content_type_is_refused(app: TestApp) {
    let clinic = app.open_clinic("Media").await;
    let body = patient_body("A", "B").to_string().into_bytes();
    for media in ["text/plain", "application/xml", "multipart/form-data"] {
        let reply = app.send_raw("POST", "/v1/patients", &clinic.admin, media, body.clone()).await;
        assert_eq!(reply.status, 415, "{media}");
    }
}

async fn tampered_and_foreign_cursors_are_refused(app: TestApp) {
    let a = app.open_clinic("Cursor A").await;
    let b = app.open_clinic("Cursor B").await;
    for n in 0..3 {
        app.patient(&a, patient_body("P", &format!("Page{n}"))).await;
    }
    let first = app.get("/v1/patients?limit=1", &a.admin).await;
    let cursor = first.body["nextCursor"].as_str().expect("a next page").to_string();
    let next = app.get(&format!("/v1/patients?limit=1&cursor={cursor}"), &a.admin).await;
    assert_eq!(next.status, 200);
    assert_ne!(next.body["items"][0]["id"], first.body["items"][0]["id"]);

    let foreign = app.get(&format!("/v1/patients?limit=1&cursor={cursor}"), &b.admin).await;
    assert_eq!(foreign.status, 400);
    assert_eq!(foreign.error_fields(), ["cursor"]);
    let mut bytes = cursor.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(app.get(&format!("/v1/patients?limit=1&cursor={tampered}"), &a.admin).await.status, 400);
    assert_eq!(app.get("/v1/patients?cursor=%00%FF", &a.admin).await.status, 400);
    let other_query = app.get(&format!("/v1/patients?familyName=page&limit=1&cursor={cursor}"), &a.admin).await;
    assert_eq!(other_query.status, 400, "a cursor continues only the query that issued it");
    let audit_cursor = app.get(&format!("/v1/audit?cursor={cursor}"), &a.admin).await;
    assert_eq!(audit_cursor.status, 400);
}

async fn bad_query_parameters_are_named(app: TestApp) {
    let clinic = app.open_clinic("Params").await;
    let long_name = format!("familyName={}", "x".repeat(201));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("birthDate=yesterday", "birthDate"),
        ("phone=12", "phone"),
        ("mrn=abc", "mrn"),
        ("sort=name", "sort"),
        (long_name.as_str(), "familyName"),
    ] {
        let reply = app.get(&format!("/v1/patients?{query}"), &clinic.admin).await;
        assert!(matches!(reply.status, 400 | 422), "{query}: {reply:?}");
        assert_eq!(reply.error_fields(), [field], "{query}");
    }
    // A family name without a letter or digit names no one.
    let nameless = app.get("/v1/patients?familyName=%20%27", &clinic.admin).await;
    assert_eq!((nameless.status, &nameless.body["items"]), (200, &json!([])), "{nameless:?}");
    let audit = app.get("/v1/audit?from=last-week", &clinic.admin).await;
    assert_eq!(audit.error_fields(), ["from"]);
}

fn garbage() -> Vec<Value> {
    vec![
        json!(null),
        json!(0),
        json!("text"),
        json!({"": ""}),
        json!({"givenName": {"nested": [1, {"deep": null}]}}),
        json!({"userId": "\u{202e}evil", "role": ["admin"], "status": 1}),
        json!({"name": "x".repeat(5000)}),
        json!({"address": {"lines": [[], {}, null, 1e308]}}),
        json!({"birthDate": "0000-00-00", "phone": "+", "email": "@"}),
    ]
}

async fn no_input_produces_a_server_error(app: TestApp) {
    let clinic = app.open_clinic("Garbage").await;
    let patient = app.patient(&clinic, patient_body("G", "Arbage")).await;
    let id = patient["id"].as_str().unwrap();
    for route in ROUTES.iter() {
        let path = route.path.replace("{patientId}", id).replace("{userId}", &clinic.admin_user);
        let token = if route.name == "clinics.create" { app.operator() } else { clinic.admin.clone() };
        // A read takes no body and no precondition: one garbage request says what thirty would.
        let bodies = if route.method == "GET" { garbage().into_iter().take(1).collect() } else { garbage() };
        // The unparsable preconditions are refused before any store is reached: moto, slow, is asked only the one
        // that reaches it.
        let etags: &[&str] = match (route.method, app.backend) {
            ("GET", _) => &["garbage"],
            (_, Backend::Aws) => &["\"1\""],
            _ => &["\"1\"", "garbage", "\"-1\""],
        };
        for body in bodies {
            for etag in etags {
                let reply =
                    app.send(route.method, &path, Some(&token), Some(body.clone()), &[("if-match", *etag)]).await;
                assert!(reply.status < 500, "{route:?} {body}: {reply:?}");
            }
        }
        for odd in ["/%FF%FE", "/..%2F..%2Fetc", "/00000000000000000000000000"] {
            let reply = app
                .send(route.method, &format!("{}{odd}", route.path.replace("{patientId}", id)), Some(&token), None, &[])
                .await;
            assert!(reply.status < 500, "{route:?} {odd}: {reply:?}");
        }
    }
    let still = app.get(&format!("/v1/patients/{id}"), &clinic.admin).await;
    assert_eq!(still.body["givenName"], "G", "garbage changed nothing");
}

/// A request that could never succeed is told so first: a missing body is 415 and a body that is not a
/// JSON object 400, whatever its precondition or idempotency key (which would otherwise answer 412 or 428).
async fn a_malformed_body_is_refused_before_any_precondition(app: TestApp) {
    let clinic = app.open_clinic("Order").await;
    let patient = app.patient(&clinic, patient_body("Ana", "Order")).await;
    let id = patient["id"].as_str().unwrap();
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.body.is_some()) {
        let token = match () {
            _ if route.allows(Role::Admin) => clinic.admin.clone(),
            _ if route.allows(Role::Practitioner) => practitioner.clone(),
            _ if route.allows(Role::Operator) => app.operator(),
            _ if route.allows(Role::Joiner) => app.token("joiner-order", None, Role::Joiner),
            _ => continue,
        };
        let mut path = route.path.replace("{patientId}", id).replace("{userId}", &clinic.admin_user);
        // Any other id names nothing: it is never looked up.
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            path.replace_range(open..=close, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        }
        let stale = [("if-match", "\"999\""), ("idempotency-key", "order-1")];
        let missing = app.send(route.method, &path, Some(&token), None, &stale).await;
        assert_eq!(missing.status, 415, "{route:?}: {missing:?}");
        let not_object = app.send(route.method, &path, Some(&token), Some(json!([1])), &stale).await;
        assert_eq!(not_object.status, 400, "{route:?}: {not_object:?}");
        checked += 1;
    }
    let staff_routes = ROUTES.iter().filter(|r| r.body.is_some() && !r.is_public()).count();
    assert_eq!(checked, staff_routes, "every staff route with a body is checked");
}

/// A change reads its body before its version: what is wrong with the request is said before what
/// changed since; an `If-Match` that is not one of Vellum's ETags is named, an empty one is missing.
async fn a_change_reads_its_body_then_its_version(app: TestApp) {
    let clinic = app.open_clinic("Versions").await;
    let patient = app.patient(&clinic, patient_body("Ana", "Versions")).await;
    let path = format!("/v1/patients/{}", patient["id"].as_str().unwrap());
    let change = |body: Value, if_match: &'static str| {
        let (app, path, token) = (&app, path.clone(), clinic.admin.clone());
        async move { app.send("PATCH", &path, Some(&token), Some(body), &[("if-match", if_match)]).await }
    };
    let stale_and_malformed = change(json!({"birthDate": "yesterday"}), "\"999\"").await;
    assert_eq!((stale_and_malformed.status, stale_and_malformed.error_fields()), (422, vec!["birthDate".into()]));
    for not_an_etag in ["*", "\"abc\"", "3", "\"+3\""] {
        let refused = change(json!({"pronouns": "she/her"}), not_an_etag).await;
        assert_eq!((refused.status, refused.error_fields()), (400, vec!["If-Match".into()]), "{not_an_etag}");
    }
    assert_eq!(change(json!({"pronouns": "she/her"}), "").await.status, 428, "an empty If-Match names nothing");
    assert_eq!(change(json!({"pronouns": "she/her"}), "\"999\"").await.status, 412);
    assert_eq!(change(json!({"pronouns": "she/her"}), "W/\"1\"").await.status, 200);
}

/// A method a path does not serve is 405, and `Allow` names the ones it does.
async fn a_method_not_served_names_those_that_are(app: TestApp) {
    let clinic = app.open_clinic("Methods").await;
    for (method, path, allowed) in [
        ("DELETE", "/v1/patients", "GET, POST"),
        ("PUT", "/v1/staff/join", "POST"),
        ("POST", "/v1/patients/01ARZ3NDEKTSV4RRFFQ69G5FAV", "GET, PATCH"),
    ] {
        let reply = app.send(method, path, Some(&clinic.admin), None, &[]).await;
        assert_eq!((reply.status, reply.header("allow")), (405, Some(allowed)), "{method} {path}: {reply:?}");
        assert_eq!(reply.body["type"], "urn:vellum:problem:method-not-allowed");
    }
}

on_both_backends!(
    a_change_reads_its_body_then_its_version,
    a_method_not_served_names_those_that_are,
    a_malformed_body_is_refused_before_any_precondition,
    malformed_json_is_a_bad_request,
    wrong_types_and_missing_fields_are_named,
    nonsense_values_are_refused_field_by_field,
    an_oversize_body_is_refused,
    a_wrong_content_type_is_refused,
    tampered_and_foreign_cursors_are_refused,
    bad_query_parameters_are_named,
    no_input_produces_a_server_error,
);
