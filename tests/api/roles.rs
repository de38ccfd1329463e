//! The role table: every route, every role; what is not granted is 403, and a denial is audited.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::http::routes::{ROUTES, Route, chart_route};
use vellum_tests::{Backend, Clinic, TestApp, chart_entry, clinic_body, every_day, patient_body};

/// A request each route accepts from a permitted role.
fn request_for(route: &str, patient: &str, user: &str) -> (String, Option<Value>) {
    match route {
        "clinics.create" => ("/v1/clinics".into(), Some(clinic_body("Another"))),
        "clinic.read" => ("/v1/clinic".into(), None),
        "clinic.update" => ("/v1/clinic".into(), Some(json!({"cancellationWindowHours": 24}))),
        "staff.create" => ("/v1/staff".into(), Some(json!({"role": "nurse", "displayName": "N"}))),
        "staff.list" => ("/v1/staff".into(), None),
        "staff.update" => (format!("/v1/staff/{user}"), Some(json!({"displayName": "Renamed"}))),
        "patients.create" => ("/v1/patients".into(), Some(patient_body("Role", "Tester"))),
        "patients.list" => ("/v1/patients".into(), None),
        "patients.read" => (format!("/v1/patients/{patient}"), None),
        "patients.update" => (format!("/v1/patients/{patient}"), Some(json!({"preferredName": "R"}))),
        "patients.access-log" => (format!("/v1/patients/{patient}/access-log"), None),
        "audit.list" => ("/v1/audit".into(), None),
        "usage.read" => ("/v1/usage".into(), None),
        "plan.read" => ("/v1/plan".into(), None),
        "usage.csv" => ("/v1/usage.csv".into(), None),
        "usage.operator" => ("/v1/operator/usage".into(), None),
        "break-glass.open" => {
            (format!("/v1/patients/{patient}/break-glass"), Some(json!({"reason": "Role test", "scope": "photos"})))
        }
        "break-glass.list" => ("/v1/break-glass".into(), None),
        "appointments.list" => ("/v1/appointments".into(), None),
        "patients.appointments" => (format!("/v1/patients/{patient}/appointments"), None),
        "resources.create" => ("/v1/resources".into(), Some(json!({"name": "Laser room", "kind": "room"}))),
        "resources.list" => ("/v1/resources".into(), None),
        "services.create" => (
            "/v1/services".into(),
            Some(json!({"name": "Peel", "durationMinutes": 30, "performedBy": {"role": "nurse"}})),
        ),
        "services.list" => ("/v1/services".into(), None),
        "clinic.hours.read" => ("/v1/clinic/working-hours".into(), None),
        "clinic.hours.save" => ("/v1/clinic/working-hours".into(), Some(always_open())),
        "staff.hours.read" => (format!("/v1/staff/{user}/working-hours"), None),
        "staff.hours.save" => (format!("/v1/staff/{user}/working-hours"), Some(json!({"weekly": {}}))),
        "audit.verify" => ("/v1/operator/audit-verification?clinicId=platform".into(), None),
        "chart.read" => (format!("/v1/patients/{patient}/chart"), None),
        "forms.templates.list" => ("/v1/form-templates".into(), None),
        "forms.templates.read" => ("/v1/form-templates/medical-history".into(), None),
        "forms.templates.save" => (
            format!("/v1/form-templates/t-{}", ulid::Ulid::new().to_string().to_lowercase()),
            Some(json!({"copyOf": "privacy-notice"})),
        ),
        "invitations.create" => {
            ("/v1/invitations".into(), Some(json!({"patientId": patient, "templateIds": ["medical-history"]})))
        }
        "invitations.list" => (format!("/v1/patients/{patient}/invitations"), None),
        "submissions.list" => (format!("/v1/patients/{patient}/submissions"), None),
        "lots.recall" => ("/v1/lot-recall?lotNumber=AB1234".into(), None),
        "safety.check" => (
            format!("/v1/patients/{patient}/safety-checks"),
            Some(json!({"treatment": {"type": "dermal-filler", "products": ["restylane-l"]}})),
        ),
        "safety.overrides" => ("/v1/overrides".into(), None),
        "safety-products.create" => (
            "/v1/safety-products".into(),
            Some(
                json!({"name": format!("House filler {user}"), "manufacturer": "House", "treatmentType": "dermal-filler",
                        "classes": ["hyaluronic-acid-filler"]}),
            ),
        ),
        "safety-products.list" => ("/v1/safety-products".into(), None),
        "fhir.metadata" => ("/fhir/R4/metadata".into(), None),
        "fhir.search" => (format!("/fhir/R4/Patient?_id={patient}"), None),
        "fhir.read" => (format!("/fhir/R4/Patient/{patient}"), None),
        "fhir.operation" => (format!("/fhir/R4/Patient/{patient}/$everything"), None),
        "exports.create" => (format!("/v1/patients/{patient}/exports"), Some(json!({}))),
        "erasure-requests.create" => {
            (format!("/v1/patients/{patient}/erasure-requests"), Some(json!({"kind": "erasure"})))
        }
        "erasure-requests.list" => (format!("/v1/patients/{patient}/erasure-requests"), None),
        "erasure-requests.awaiting" => ("/v1/erasure-requests".into(), None),
        "fhir.transaction" => (
            "/fhir/R4".into(),
            Some(json!({"resourceType": "Bundle", "type": "transaction", "meta": {"source": "Role test"}, "entry": [{
                "resource": {"resourceType": "Condition", "code": {"text": "Acne"}, "subject": {"reference": format!("Patient/{patient}")}},
                "request": {"method": "POST", "url": "Condition"}}]})),
        ),
        other => panic!("no request written for {other}: add one"),
    }
}

/// A request for a photo route, with the photo it needs recorded by a practitioner (ready for a view,
/// pending at version 1 for a change).
async fn photo_request(app: &TestApp, route: &str, patient: &str, practitioner: &str) -> (String, Option<Value>) {
    let base = format!("/v1/patients/{patient}/photos");
    let request = json!({"contentType": "image/jpeg", "byteSize": 1000, "bodyArea": "face", "view": "front",
                         "capturedAt": "2026-11-20T15:00:00Z"});
    let pending = || async {
        let created = app.post(&base, practitioner, request.clone()).await;
        format!("{base}/{}", created.body["id"].as_str().unwrap())
    };
    match route {
        "photos.create" => (base, Some(request.clone())),
        "photos.list" => (base, None),
        "photos.sets" => (format!("/v1/patients/{patient}/photo-sets"), None),
        "photos.view" => {
            let (created, _) =
                app.photo(practitioner, patient, "image/jpeg", vellum_tests::images::jpeg(32, 32), json!({})).await;
            (format!("{base}/{}", created["id"].as_str().unwrap()), None)
        }
        "photos.consent" => (format!("{}/consent", pending().await), Some(json!({"scope": "marketing"}))),
        "photos.erase" => (format!("{}/erase", pending().await), Some(json!({"reason": "asked"}))),
        "photos.erase-all" => (format!("{base}/erase"), Some(json!({"reason": "asked"}))),
        other => panic!("no photo request written for {other}: add one"),
    }
}

/// A request for a chart entry route: a fresh patient (a profile is one per patient) and, for routes about
/// one entry, an entry recorded by the caller when the caller may record it (notes change only by their
/// author), else by a practitioner.
async fn chart_request(
    app: &TestApp,
    clinic: &Clinic,
    route: &Route,
    caller: (&str, Role),
    practitioner: &str,
) -> (String, Option<Value>) {
    let kind = route.chart.expect("a chart route");
    let patient = app.patient(clinic, patient_body("Chart", "Roles")).await;
    let segment = route.path.split('/').nth(4).expect("the kind's segment");
    let base = format!("/v1/patients/{}/{segment}", patient["id"].as_str().unwrap());
    let (body, patch) = chart_entry(segment);
    let operation = route.name.rsplit('.').next().unwrap();
    if operation == "create" || operation == "list" {
        return (base, (operation == "create").then_some(body));
    }
    let may_create = chart_route(kind, "create").is_some_and(|r| r.allows(caller.1));
    let author = if may_create { caller.0 } else { practitioner };
    let created = app.post(&base, author, body).await;
    assert_eq!(created.status, 201, "{created:?}");
    let entry = format!("{base}/{}", created.body["id"].as_str().unwrap());
    match operation {
        "read" => (entry, None),
        "update" => (entry, Some(patch)),
        "history" => (format!("{entry}/history"), None),
        "entered-in-error" => (format!("{entry}/entered-in-error"), Some(json!({"reason": "wrong patient"}))),
        "sign" => (format!("{entry}/sign"), None),
        other => panic!("no chart request written for {other}: add one"),
    }
}

/// Opening hours of every hour of every day (so that they close nothing the bookings below need).
fn always_open() -> Value {
    every_day(json!([{"start": "00:00", "end": "24:00"}]))
}

/// A one-hour service the practitioner performs, who works every day from 09:00 to 17:00.
async fn bookable(app: &TestApp, clinic: &Clinic, practitioner: &str) -> String {
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let path = format!("/v1/staff/{practitioner}/working-hours");
    let hours = app.send("PUT", &path, Some(&clinic.admin), Some(week), &[]).await;
    assert_eq!(hours.status, 200, "{hours:?}");
    let service = json!({"name": "Laser", "durationMinutes": 60, "performedBy": {"staff": [practitioner]}});
    let created = app.post("/v1/services", &clinic.admin, service).await;
    assert_eq!(created.status, 201, "{created:?}");
    created.body["id"].as_str().unwrap().to_string()
}

/// Every role against every route on the embedded store; on DynamoDB, where the role check is the same
/// code over a slower store, a sample: a clinician (who writes the chart and photos through every store
/// port) and the front desk (refused most).
async fn every_role_gets_exactly_what_the_role_table_grants(app: TestApp) {
    let clinic = app.open_clinic("Roles").await;
    app.templates(&clinic, &["medical-history", "neurotoxin-consent"]).await;
    let roles: &[Role] = match app.backend {
        Backend::Embedded => &[
            Role::Admin,
            Role::Practitioner,
            Role::Nurse,
            Role::FrontDesk,
            Role::Billing,
            Role::Operator,
            Role::Joiner,
        ],
        Backend::Aws => &[Role::Nurse, Role::FrontDesk],
    };
    for role in roles.iter().copied() {
        let (token, user) = match role {
            Role::Operator => (app.operator(), "operator-1".to_string()),
            Role::Joiner => {
                let user = format!("joiner-{}", ulid::Ulid::new());
                (app.token(&user, None, Role::Joiner), user)
            }
            Role::Admin => (clinic.admin.clone(), clinic.admin_user.clone()),
            r => app.member(&clinic, r).await,
        };
        let (_, target) = app.member(&clinic, Role::Nurse).await;
        let (practitioner, practitioner_user) = app.member(&clinic, Role::Practitioner).await;
        let laser = bookable(&app, &clinic, &practitioner_user).await;
        let patient = app.patient(&clinic, patient_body("Role", "Target")).await;
        let patient_id = patient["id"].as_str().unwrap();
        for route in ROUTES.iter() {
            let (path, body) = if route.is_public() {
                // A link's routes take no staff token: the intake tests cover them.
                continue;
            } else if route.name == "staff.join" {
                let invited = app.post("/v1/staff", &clinic.admin, json!({"role": "nurse", "displayName": "N"})).await;
                ("/v1/staff/join".to_string(), Some(json!({"code": invited.body["code"]})))
            } else if matches!(route.name, "resources.hours.read" | "resources.hours.save" | "availability.read") {
                let (collection, body) = if route.name == "availability.read" {
                    ("/v1/services", json!({"name": "Peel", "durationMinutes": 30, "performedBy": {"role": "nurse"}}))
                } else {
                    ("/v1/resources", json!({"name": "Room", "kind": "room"}))
                };
                let created = app.post(collection, &clinic.admin, body).await;
                let id = created.body["id"].as_str().unwrap();
                match route.name {
                    "availability.read" => {
                        (format!("/v1/availability?serviceId={id}&from=2027-01-04&to=2027-01-10"), None)
                    }
                    "resources.hours.read" => (format!("/v1/resources/{id}/working-hours"), None),
                    _ => (format!("/v1/resources/{id}/working-hours"), Some(json!({"weekly": {}}))),
                }
            } else if matches!(
                route.name,
                "resources.update" | "services.read" | "services.update" | "safety-products.update"
            ) {
                let (collection, body) = match route.name {
                    "resources.update" => ("/v1/resources", json!({"name": "Room", "kind": "room"})),
                    "safety-products.update" => (
                        "/v1/safety-products",
                        json!({"name": format!("House numbing cream {}", ulid::Ulid::new()), "manufacturer": "House",
                               "treatmentType": "laser", "classes": ["amide-local-anesthetics"]}),
                    ),
                    _ => (
                        "/v1/services",
                        json!({"name": "Peel", "durationMinutes": 30, "performedBy": {"role": "nurse"}}),
                    ),
                };
                let created = app.post(collection, &clinic.admin, body).await;
                assert!(created.status < 300, "{created:?}");
                let path = format!("{collection}/{}", created.body["id"].as_str().unwrap());
                let patch = (route.method == "PATCH").then(|| json!({"manufacturer": "Renamed"}));
                let patch = if route.name == "safety-products.update" {
                    patch
                } else {
                    patch.map(|_| json!({"name": "Renamed"}))
                };
                (path, patch)
            } else if matches!(
                route.name,
                "appointments.book"
                    | "appointments.read"
                    | "appointments.cancel"
                    | "appointments.reschedule"
                    | "appointments.status"
            ) {
                let booking = |start: &str| json!({"patientId": patient_id, "serviceId": laser, "start": format!("2027-01-11T{start}:00-08:00")});
                match route.name {
                    "appointments.book" => ("/v1/appointments".to_string(), Some(booking("10:00"))),
                    operation => {
                        let start = match operation {
                            "appointments.read" => "11:00",
                            "appointments.cancel" => "12:00",
                            "appointments.reschedule" => "13:00",
                            _ => "15:00",
                        };
                        let booked = app.post("/v1/appointments", &clinic.admin, booking(start)).await;
                        assert_eq!(booked.status, 201, "{booked:?}");
                        let path = booked.header("location").unwrap().to_string();
                        match operation {
                            "appointments.read" => (path, None),
                            "appointments.cancel" => (format!("{path}/cancel"), Some(json!({"reason": "Role test"}))),
                            "appointments.reschedule" => {
                                (format!("{path}/reschedule"), Some(json!({"start": "2027-01-11T14:00:00-08:00"})))
                            }
                            _ => (format!("{path}/status"), Some(json!({"status": "confirmed"}))),
                        }
                    }
                }
            } else if route.name == "break-glass.review" {
                let opened = app
                    .post(
                        &format!("/v1/patients/{patient_id}/break-glass"),
                        &practitioner,
                        json!({"reason": "Role test", "scope": "photos"}),
                    )
                    .await;
                (format!("/v1/break-glass/{}/review", opened.body["id"].as_str().unwrap()), Some(json!({"note": "ok"})))
            } else if route.name == "plan.save" {
                (format!("/v1/operator/clinics/{}/plan", clinic.id), Some(json!({"name": "Role plan"})))
            } else if let Some(operation) = route.name.strip_prefix("calendar-feed.") {
                // The caller's own feed (made first, for the revoke).
                let own = format!("/v1/staff/{user}/calendar-feed");
                if operation == "revoke" {
                    app.post(&own, &token, json!({})).await;
                    (format!("{own}/revoke"), None)
                } else {
                    (own, None)
                }
            } else if let Some(operation) = route.name.strip_prefix("exports.").filter(|o| *o != "create") {
                // A ready export of the patient, made by the administrator.
                let made = app.post(&format!("/v1/patients/{patient_id}/exports"), &clinic.admin, json!({})).await;
                assert_eq!(made.status, 201, "{made:?}");
                vellum::exports::run(&app.app, app.app.clock.now()).await.expect("the export is built");
                let export = format!("/v1/patients/{patient_id}/exports/{}", made.body["id"].as_str().unwrap());
                match operation {
                    "read" => (export, None),
                    _ => (format!("{export}/download"), None),
                }
            } else if route.name == "invitations.revoke" {
                let (invitation, _) = app.invite(&clinic, patient_id, &["medical-history"]).await;
                (format!("/v1/patients/{patient_id}/invitations/{}/revoke", invitation["id"].as_str().unwrap()), None)
            } else if let Some(operation) = route.name.strip_prefix("submissions.").filter(|o| *o != "list") {
                let submission = app.submission(&clinic, patient_id).await;
                let base = format!("/v1/patients/{patient_id}/submissions/{submission}");
                match operation {
                    "read" => (base, None),
                    "consent" => (format!("{base}/consents/neurotoxin-consent"), None),
                    _ => (
                        format!("{base}/accept"),
                        Some(
                            json!({"items": [{"templateId": "medical-history", "questionId": "allergies", "index": 1}]}),
                        ),
                    ),
                }
            } else if let Some(operation) =
                route.name.strip_prefix("erasure-requests.").filter(|o| !matches!(*o, "create" | "list" | "awaiting"))
            {
                rights_request(&app, &clinic, operation).await
            } else if route.chart.is_some() {
                chart_request(&app, &clinic, route, (&token, role), &practitioner).await
            } else if route.name.starts_with("photos.") {
                photo_request(&app, route.name, patient_id, &practitioner).await
            } else {
                request_for(route.name, patient_id, &target)
            };
            // Changes name the version they read; creating a template names none.
            let headers: &[(&str, &str)] = if route.method == "PUT" { &[] } else { &[("if-match", "\"1\"")] };
            let reply = app.send(route.method, &path, Some(&token), body, headers).await;
            if route.allows(role) {
                assert!((200..300).contains(&reply.status), "{role} on {route:?}: {reply:?}");
            } else {
                assert_eq!(reply.status, 403, "{role} on {route:?}: {reply:?}");
                let fhir = vellum::fhir::outcome::is_fhir_path(route.path);
                let problem = if fhir { "application/fhir+json" } else { "application/problem+json" };
                assert_eq!(reply.header("content-type"), Some(problem), "{role} on {route:?}");
            }
        }
    }
}

async fn a_denied_call_leaves_a_denied_event(app: TestApp) {
    let clinic = app.open_clinic("Denials").await;
    let (billing, billing_user) = app.member(&clinic, Role::Billing).await;
    let reply = app.post("/v1/patients", &billing, patient_body("No", "Access")).await;
    assert_eq!(reply.status, 403);
    let events = app.audit(&clinic, &format!("&actor={billing_user}")).await;
    let denied = events.iter().find(|e| e["eventName"] == "patients.create").expect("the denial is audited");
    assert_eq!(denied["outcome"], "denied");
    assert_eq!(denied["errorCode"], "forbidden");
    assert_eq!(denied["userIdentity"]["role"], "billing");
}

async fn a_role_change_takes_effect_on_the_next_call(app: TestApp) {
    let clinic = app.open_clinic("Promotions").await;
    let (token, user) = app.member(&clinic, Role::FrontDesk).await;
    assert_eq!(app.get("/v1/staff", &token).await.status, 403);
    let promote = app.patch(&format!("/v1/staff/{user}"), &clinic.admin, "\"1\"", json!({"role": "admin"})).await;
    assert_eq!(promote.status, 200, "{promote:?}");
    assert_eq!(app.get("/v1/staff", &token).await.status, 200, "the stored role counts, not the token's");
}

on_both_backends!(
    every_role_gets_exactly_what_the_role_table_grants,
    a_denied_call_leaves_a_denied_event,
    a_role_change_takes_effect_on_the_next_call,
);

/// A request of a patient of its own (a decision or a lifting must not restrict the patient the other routes
/// use), readied for `operation` by the administrator.
async fn rights_request(app: &TestApp, clinic: &Clinic, operation: &str) -> (String, Option<Value>) {
    let own = app.patient(clinic, patient_body("Rights", "Target")).await;
    let own = own["id"].as_str().unwrap();
    let base = format!("/v1/patients/{own}/erasure-requests");
    let kind = if operation == "complete" { "erasure" } else { "restriction" };
    let made = app.post(&base, &clinic.admin, json!({"kind": kind})).await;
    assert_eq!(made.status, 201, "{made:?}");
    let id = made.body["id"].as_str().unwrap();
    let request = format!("{base}/{id}");
    let grant = || async {
        let body = json!({"outcome": "grant", "reason": "Role test"});
        let path = format!("{request}/decision");
        app.send("POST", &path, Some(&clinic.admin), Some(body), &[("if-match", "\"1\"")]).await
    };
    match operation {
        "read" => (request, None),
        "decide" => (format!("{request}/decision"), Some(json!({"outcome": "refuse", "reason": "Role test"}))),
        "lift" => {
            assert_eq!(grant().await.status, 200);
            (format!("{request}/lift"), Some(json!({"reason": "Role test"})))
        }
        _ => {
            // Granted with no retention period configured, the record is kept: stored as an erasure whose
            // call stopped midway, completing it is the administrator's to do.
            assert_eq!(grant().await.body["state"], "kept");
            let key = vellum::domain::rights::RightsRequest::key(
                vellum::domain::values::EntityId::parse(&clinic.id).unwrap(),
                vellum::domain::values::EntityId::parse(own).unwrap(),
                vellum::domain::values::EntityId::parse(id).unwrap(),
            );
            let mut item = app.records.get(vellum::store::Table::Records, &key).await.unwrap().unwrap();
            item.insert("state".into(), json!("erasing"));
            let put = vellum::store::Write::put(vellum::store::Table::Records, item, vellum::store::Cond::Always);
            app.records.transact(vec![put]).await.unwrap();
            (format!("{request}/complete"), None)
        }
    }
}
