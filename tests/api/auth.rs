//! Identity: missing, forged and expired tokens are refused; a deactivated member is refused everywhere.

use serde_json::json;
use vellum::crypto::SecretKey;
use vellum::domain::fields::{Context, ParseStr};
use vellum::domain::role::Role;
use vellum::domain::values::{EntityId, UserId};
use vellum::host::token::TokenKeys;
use vellum::http::routes::ROUTES;
use vellum_tests::{TestApp, now_seconds};

async fn calls_without_a_valid_token_are_unauthorized(app: TestApp) {
    let clinic = app.open_clinic("Tokens").await;
    let user = UserId::parse_str(&clinic.admin_user, &Context::now()).unwrap();
    let clinic_id = EntityId::parse(&clinic.id);
    let forged = TokenKeys::new(SecretKey::generate()).issue(&user, clinic_id, Role::Admin, now_seconds(), 3600);
    let expired = app.tokens.issue(&user, clinic_id, Role::Admin, now_seconds() - 7200, 3600);
    let mut tampered = clinic.admin.clone();
    tampered.insert(tampered.len() / 2, 'x');
    for route in ROUTES.iter().filter(|r| !r.is_public()) {
        let path = route.path.replace("{patientId}", &ulid::Ulid::new().to_string()).replace("{userId}", "u1");
        let none = app.send(route.method, &path, None, None, &[]).await;
        assert_eq!(none.status, 401, "{route:?}");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        for bad in [&forged, &expired, &tampered, &"not-a-jwt".to_string()] {
            let reply = app.send(route.method, &path, Some(bad), None, &[]).await;
            assert_eq!(reply.status, 401, "{route:?}");
            if vellum::fhir::outcome::is_fhir_path(route.path) {
                assert_eq!(reply.body["issue"][0]["code"], "login", "{route:?}");
            } else {
                assert_eq!(reply.body["status"], 401);
            }
        }
    }
}

async fn a_deactivated_member_is_refused_on_every_route(app: TestApp) {
    let clinic = app.open_clinic("Leavers").await;
    let (token, user) = app.member(&clinic, Role::Admin).await;
    assert_eq!(app.get("/v1/patients", &token).await.status, 200);
    let off = app.patch(&format!("/v1/staff/{user}"), &clinic.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(off.status, 200, "{off:?}");
    for route in ROUTES.iter().filter(|r| r.allows(Role::Admin)) {
        let path = route.path.replace("{patientId}", &ulid::Ulid::new().to_string()).replace("{userId}", &user);
        let reply = app.send(route.method, &path, Some(&token), Some(json!({})), &[("if-match", "\"1\"")]).await;
        assert_eq!(reply.status, 403, "{route:?}: {reply:?}");
    }
    let again = app.patch(&format!("/v1/staff/{user}"), &clinic.admin, "\"2\"", json!({"status": "active"})).await;
    assert_eq!(again.status, 409, "a leaver comes back by invitation only");
    let invited = app.post("/v1/staff", &clinic.admin, json!({"role": "admin", "displayName": "Back"})).await;
    assert_eq!(app.join(&user, invited.body["code"].as_str().unwrap()).await.status, 200);
    assert_eq!(app.get("/v1/patients", &token).await.status, 200, "accepting a new invitation restores access");
}

async fn a_member_of_no_clinic_is_refused(app: TestApp) {
    let clinic = app.open_clinic("Strangers").await;
    let stranger = app.token("never-added", Some(&clinic.id), Role::Practitioner);
    let reply = app.get("/v1/patients", &stranger).await;
    assert_eq!(reply.status, 403);
}

async fn an_administrator_cannot_demote_or_deactivate_themselves(app: TestApp) {
    let clinic = app.open_clinic("Self").await;
    let path = format!("/v1/staff/{}", clinic.admin_user);
    let demote = app.patch(&path, &clinic.admin, "\"1\"", json!({"role": "nurse"})).await;
    assert_eq!(demote.status, 409);
    let leave = app.patch(&path, &clinic.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(leave.status, 409);
    assert_eq!(app.get("/v1/staff", &clinic.admin).await.status, 200);
}

async fn the_dev_token_route_checks_what_it_is_given(app: TestApp) {
    let clinic = app.open_clinic("Dev").await;
    let ok = app
        .send(
            "POST",
            "/v1/dev/token",
            None,
            Some(json!({"clinicId": clinic.id, "userId": clinic.admin_user, "role": "admin"})),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200);
    let token = ok.body["token"].as_str().unwrap();
    assert_eq!(app.get("/v1/clinic", token).await.status, 200);
    let bad = app.send("POST", "/v1/dev/token", None, Some(json!({"userId": "x y", "role": "king"})), &[]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["userId", "role"]);
    let missing_clinic =
        app.send("POST", "/v1/dev/token", None, Some(json!({"userId": "n1", "role": "nurse"})), &[]).await;
    assert_eq!(missing_clinic.error_fields(), ["clinicId"]);
}

async fn the_local_server_publishes_the_openapi_document(app: TestApp) {
    let doc = app.send("GET", "/v1/openapi.json", None, None, &[]).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    for route in ROUTES.iter() {
        assert!(doc.body["paths"][route.path][route.method.to_ascii_lowercase()].is_object(), "{route:?}");
    }
}

on_both_backends!(
    the_local_server_publishes_the_openapi_document,
    calls_without_a_valid_token_are_unauthorized,
    a_deactivated_member_is_refused_on_every_route,
    a_member_of_no_clinic_is_refused,
    an_administrator_cannot_demote_or_deactivate_themselves,
    the_dev_token_route_checks_what_it_is_given,
);
