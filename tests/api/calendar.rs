//! The calendar's catalogue: rooms and devices, and services, written by administrators with `If-Match`,
//! read by all staff, checked against the rest of the clinic, and never seen by another clinic.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Clinic, TestApp};

async fn resource(app: &TestApp, clinic: &Clinic, name: &str, kind: &str) -> Value {
    let created = app.post("/v1/resources", &clinic.admin, json!({"name": name, "kind": kind})).await;
    assert_eq!(created.status, 201, "{created:?}");
    created.body
}

fn service_body(resources: &[&Value]) -> Value {
    json!({
        "name": "CO2 laser resurfacing",
        "durationMinutes": 60,
        "bufferBeforeMinutes": 10,
        "bufferAfterMinutes": 15,
        "intervalMinutes": 30,
        "performedBy": {"role": "practitioner"},
        "resourceIds": resources.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        "formTemplateIds": ["medical-history"],
        "bookableOnline": true,
        "price": {"amount": "450.00", "currency": "USD"},
    })
}

async fn administrators_keep_rooms_devices_and_services_and_staff_read_them(app: TestApp) {
    let clinic = app.open_clinic("Calendar").await;
    app.templates(&clinic, &["medical-history"]).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let room = resource(&app, &clinic, "Laser room", "room").await;
    let laser = resource(&app, &clinic, "CO2 laser", "device").await;
    assert_eq!((room["status"].clone(), room["version"].clone()), (json!("active"), json!(1)));
    let listed = app.get("/v1/resources", &nurse).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2, "{listed:?}");
    assert_eq!(app.post("/v1/resources", &nurse, json!({"name": "Room 2", "kind": "room"})).await.status, 403);

    let created = app.post("/v1/services", &clinic.admin, service_body(&[&room, &laser])).await;
    assert_eq!(created.status, 201, "{created:?}");
    let path = created.header("location").unwrap().to_string();
    assert_eq!(created.body["bufferAfterMinutes"], 15);
    let read = app.get(&path, &nurse).await;
    assert_eq!((read.status, read.header("etag")), (200, Some("\"1\"")), "{read:?}");
    assert_eq!(read.body["resourceIds"], json!([room["id"], laser["id"]]));
    assert_eq!(read.body["price"], json!({"amount": "450.00", "currency": "USD"}));

    let renamed = app.patch(&path, &clinic.admin, "\"1\"", json!({"name": "CO2 resurfacing", "price": null})).await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    assert_eq!((renamed.body["version"].clone(), renamed.body.get("price")), (json!(2), None));
    assert_eq!(app.patch(&path, &clinic.admin, "\"1\"", json!({"name": "Stale"})).await.status, 412);
    let missing = app.send("PATCH", &path, Some(&clinic.admin), Some(json!({"name": "No tag"})), &[]).await;
    assert_eq!(missing.status, 428);

    // A room that is retired can no longer be named by an active service; a retired service leaves the
    // active list but stays readable.
    let room_path = format!("/v1/resources/{}", room["id"].as_str().unwrap());
    let retired = app.patch(&room_path, &clinic.admin, "\"1\"", json!({"status": "retired"})).await;
    assert_eq!(retired.status, 200, "{retired:?}");
    let again = app.post("/v1/services", &clinic.admin, service_body(&[&room])).await;
    assert_eq!(again.status, 422, "{again:?}");
    assert_eq!(again.error_fields(), ["resourceIds"]);
    let off = app.patch(&path, &clinic.admin, "\"2\"", json!({"status": "retired"})).await;
    assert_eq!(off.status, 200, "{off:?}");
    let active = app.get("/v1/services?status=active", &nurse).await;
    assert_eq!(active.body["items"], json!([]));
    assert_eq!(app.get(&path, &nurse).await.body["status"], "retired");

    // Another clinic sees none of it.
    let other = app.open_clinic("Elsewhere").await;
    assert_eq!(app.get(&path, &other.admin).await.status, 404);
    assert_eq!(app.patch(&room_path, &other.admin, "\"2\"", json!({"name": "Mine"})).await.status, 404);
    assert_eq!(app.get("/v1/services", &other.admin).await.body["items"], json!([]));
    let theirs = app.post("/v1/services", &other.admin, service_body(&[&laser])).await;
    assert_eq!(theirs.status, 422, "another clinic's device is not theirs: {theirs:?}");
}

async fn a_service_that_breaks_a_rule_is_refused_field_by_field(app: TestApp) {
    let clinic = app.open_clinic("Rules").await;
    app.templates(&clinic, &["medical-history"]).await;
    let (_, front_desk) = app.member(&clinic, Role::FrontDesk).await;
    let (_, practitioner) = app.member(&clinic, Role::Practitioner).await;
    let room = resource(&app, &clinic, "Room 1", "room").await;
    let with = |field: &str, value: Value| {
        let mut body = service_body(&[&room]);
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("durationMinutes", json!(7)), "durationMinutes"),
        (with("durationMinutes", json!(0)), "durationMinutes"),
        (with("durationMinutes", json!(470)), "durationMinutes"),
        (with("intervalMinutes", json!(90)), "intervalMinutes"),
        (with("bufferBeforeMinutes", json!(-5)), "bufferBeforeMinutes"),
        (with("performedBy", json!({"role": "front_desk"})), "performedBy.role"),
        (with("performedBy", json!({"role": "nurse", "staff": [practitioner]})), "performedBy.role"),
        (with("performedBy", json!({"staff": [front_desk]})), "performedBy.staff"),
        (with("performedBy", json!({"staff": ["nobody-here"]})), "performedBy.staff"),
        (with("resourceIds", json!([room["id"], room["id"]])), "resourceIds"),
        (with("resourceIds", json!(["01JD0000000000000000000000"])), "resourceIds"),
        (with("formTemplateIds", json!(["no-such-form"])), "formTemplateIds"),
        (with("price", json!({"amount": "1.234", "currency": "USD"})), "price.amount"),
        (with("price", json!({"amount": "12", "currency": "usd"})), "price.currency"),
    ] {
        let reply = app.post("/v1/services", &clinic.admin, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {reply:?}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let named = app.post("/v1/services", &clinic.admin, with("performedBy", json!({"staff": [practitioner]}))).await;
    assert_eq!(named.status, 201, "{named:?}");
    for (body, status) in [(json!({"name": "No duration"}), 400), (json!({"kind": "room"}), 400)] {
        let path = if body.get("kind").is_some() { "/v1/resources" } else { "/v1/services" };
        assert_eq!(app.post(path, &clinic.admin, body).await.status, status);
    }
    assert_eq!(app.get("/v1/services?status=paused", &clinic.admin).await.status, 400);
}

on_both_backends!(
    administrators_keep_rooms_devices_and_services_and_staff_read_them,
    a_service_that_breaks_a_rule_is_refused_field_by_field,
);
