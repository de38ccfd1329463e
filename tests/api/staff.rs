//! Staff: opening a clinic names its first administrator; administrators add, list and change members.

use serde_json::json;
use vellum_tests::{TestApp, clinic_body};

async fn an_operator_opens_a_clinic_and_its_administrator_can_work(app: TestApp) {
    let reply = app.post("/v1/clinics", &app.operator(), clinic_body("Glow Aesthetics", "owner-1")).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.body["clinic"]["timeZone"], "America/Los_Angeles");
    assert_eq!(reply.body["admin"]["role"], "admin");
    let id = reply.body["id"].as_str().unwrap();
    let admin = app.token("owner-1", Some(id), vellum::domain::role::Role::Admin);
    let clinic = app.get("/v1/clinic", &admin).await;
    assert_eq!(clinic.status, 200);
    assert_eq!(clinic.body["name"], "Glow Aesthetics");
    assert_eq!(clinic.header("etag"), Some("\"1\""));
}

async fn a_clinic_needs_a_valid_zone_country_and_contact(app: TestApp) {
    let mut body = clinic_body("Bad", "owner-2");
    body["timeZone"] = json!("Moon/Base");
    body["country"] = json!("USA");
    body["contact"] = json!({"email": "nope"});
    let reply = app.post("/v1/clinics", &app.operator(), body).await;
    assert_eq!(reply.status, 422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["contact.email", "country", "timeZone"]);
}

async fn a_user_belongs_to_one_clinic_only(app: TestApp) {
    let a = app.open_clinic("First").await;
    let b = app.open_clinic("Second").await;
    let body = json!({"userId": a.admin_user, "role": "nurse", "displayName": "Moonlighter"});
    let reply = app.post("/v1/staff", &b.admin, body).await;
    assert_eq!(reply.status, 409);
    assert!(!reply.body["detail"].as_str().unwrap().contains(&a.id), "the other clinic is not named");
    let staff = app.get("/v1/staff", &b.admin).await;
    assert_eq!(staff.body["items"].as_array().unwrap().len(), 1, "nothing half-written");
}

async fn a_member_is_added_listed_and_changed(app: TestApp) {
    let clinic = app.open_clinic("Team").await;
    let added = app
        .post(
            "/v1/staff",
            &clinic.admin,
            json!({"userId": "np-1", "role": "practitioner", "displayName": "Dr. P", "email": "p@clinic.example"}),
        )
        .await;
    assert_eq!(added.status, 201);
    assert_eq!(added.body["status"], "active");
    let bad_role =
        app.post("/v1/staff", &clinic.admin, json!({"userId": "x", "role": "operator", "displayName": "X"})).await;
    assert_eq!(bad_role.status, 422);
    assert_eq!(bad_role.error_fields(), ["role"]);
    let changed = app.patch("/v1/staff/np-1", &clinic.admin, "\"1\"", json!({"role": "nurse"})).await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["role"], "nurse");
    let stale = app.patch("/v1/staff/np-1", &clinic.admin, "\"1\"", json!({"role": "billing"})).await;
    assert_eq!(stale.status, 412);
    let empty = app.patch("/v1/staff/np-1", &clinic.admin, "\"2\"", json!({})).await;
    assert_eq!(empty.status, 400);
    let list = app.get("/v1/staff?limit=1", &clinic.admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(list.body["nextCursor"].is_string());
    assert_eq!(app.patch("/v1/staff/nobody", &clinic.admin, "\"1\"", json!({"role": "nurse"})).await.status, 404);
}

on_both_backends!(
    an_operator_opens_a_clinic_and_its_administrator_can_work,
    a_clinic_needs_a_valid_zone_country_and_contact,
    a_user_belongs_to_one_clinic_only,
    a_member_is_added_listed_and_changed,
);
