//! The calendar's catalogue: rooms and devices, and services, written by administrators with `If-Match`,
//! read by all staff, checked against the rest of the clinic, and never seen by another clinic.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Clinic, TestApp, every_day};

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
    assert_eq!(again.status, 409, "a state of the clinic, not a rule of the body: {again:?}");
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
    assert_eq!(theirs.status, 404, "another clinic's device is not theirs: {theirs:?}");
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
    for (body, field, status) in [
        (with("durationMinutes", json!(7)), "durationMinutes", 422),
        (with("durationMinutes", json!(0)), "durationMinutes", 422),
        (with("durationMinutes", json!(470)), "durationMinutes", 422),
        (with("intervalMinutes", json!(90)), "intervalMinutes", 422),
        (with("bufferBeforeMinutes", json!(-5)), "bufferBeforeMinutes", 422),
        (with("performedBy", json!({"role": "front_desk"})), "performedBy.role", 422),
        (with("performedBy", json!({"role": "nurse", "staff": [practitioner]})), "performedBy.role", 422),
        (with("performedBy", json!({"staff": [front_desk]})), "performedBy.staff", 409),
        (with("performedBy", json!({"staff": ["nobody-here"]})), "performedBy.staff", 409),
        (with("resourceIds", json!([room["id"], room["id"]])), "resourceIds", 422),
        (with("resourceIds", json!(["01JD0000000000000000000000"])), "resourceIds", 404),
        (with("formTemplateIds", json!(["no-such-form"])), "formTemplateIds", 404),
        (with("price", json!({"amount": "1.234", "currency": "USD"})), "price.amount", 422),
        (with("price", json!({"amount": "150.", "currency": "USD"})), "price.amount", 422),
        (with("price", json!({"amount": "12", "currency": "usd"})), "price.currency", 422),
    ] {
        let reply = app.post("/v1/services", &clinic.admin, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {reply:?}");
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

async fn working_hours_are_set_whole_on_their_version_and_checked(app: TestApp) {
    let clinic = app.open_clinic("Hours").await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let open = every_day(json!([{"start": "08:00", "end": "18:00"}]));
    let path = "/v1/clinic/working-hours";
    let unset = app.get(path, &nurse).await;
    assert_eq!((unset.status, unset.body["version"].clone(), unset.body["weekly"].clone()), (200, json!(0), json!({})));
    let first = app.send("PUT", path, Some(&clinic.admin), Some(open.clone()), &[]).await;
    assert_eq!((first.status, first.header("etag")), (200, Some("\"1\"")), "{first:?}");
    assert_eq!(app.send("PUT", path, Some(&clinic.admin), Some(open.clone()), &[]).await.status, 428);
    let stale = app.send("PUT", path, Some(&clinic.admin), Some(open.clone()), &[("if-match", "\"7\"")]).await;
    assert_eq!(stale.status, 412);
    let mut closed = open.clone();
    closed["overrides"] = json!([{"date": "2027-12-25", "hours": [], "note": "Closed for the holiday"}]);
    let second = app.send("PUT", path, Some(&clinic.admin), Some(closed), &[("if-match", "\"1\"")]).await;
    assert_eq!((second.status, second.body["version"].clone()), (200, json!(2)), "{second:?}");
    assert_eq!(app.get(path, &nurse).await.body["overrides"][0]["note"], "Closed for the holiday");
    assert_eq!(app.send("PUT", path, Some(&nurse), Some(open.clone()), &[]).await.status, 403);

    let staff_path = format!("/v1/staff/{nurse_user}/working-hours");
    let lunch = every_day(json!([{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]));
    assert_eq!(app.send("PUT", &staff_path, Some(&clinic.admin), Some(lunch), &[]).await.status, 200);
    let other = app.open_clinic("Other hours").await;
    let foreign = app.send("PUT", &staff_path, Some(&other.admin), Some(open.clone()), &[]).await;
    assert_eq!(foreign.status, 404, "another clinic's staff member is not found");
    let nobody =
        app.send("PUT", "/v1/resources/01JD0000000000000000000000/working-hours", Some(&clinic.admin), Some(open), &[]);
    assert_eq!(nobody.await.status, 404);
    for (body, status, field) in [
        (json!({"weekly": {"monday": json!([{"start": "09:07", "end": "12:00"}])}}), 422, "weekly.monday[0].start"),
        (json!({"weekly": {"monday": json!([{"start": "12:00", "end": "09:00"}])}}), 422, "weekly.monday[0].end"),
        (
            json!({"weekly": {"monday": json!([{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}])}}),
            422,
            "weekly.monday",
        ),
        (json!({"weekly": {"funday": []}}), 400, "weekly.funday"),
        (
            json!({"weekly": {}, "overrides": [{"date": "2027-01-01", "hours": []}, {"date": "2027-01-01", "hours": []}]}),
            422,
            "overrides",
        ),
    ] {
        let reply =
            app.send("PUT", &staff_path, Some(&clinic.admin), Some(body.clone()), &[("if-match", "\"1\"")]).await;
        assert_eq!(reply.status, status, "{body}: {reply:?}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
}

async fn availability_is_where_performer_room_and_clinic_are_all_free(app: TestApp) {
    let clinic = app.open_clinic("Availability").await;
    let (_, practitioner) = app.member(&clinic, Role::Practitioner).await;
    let (_, nurse) = app.member(&clinic, Role::Nurse).await;
    let room = resource(&app, &clinic, "Laser room", "room").await;
    let put = |path: String, body: Value| {
        let admin = clinic.admin.clone();
        let app = &app;
        async move { app.send("PUT", &path, Some(&admin), Some(body), &[]).await.status }
    };
    assert_eq!(
        put(format!("/v1/staff/{practitioner}/working-hours"), every_day(json!([{"start": "09:00", "end": "12:00"}])))
            .await,
        200
    );
    assert_eq!(
        put(format!("/v1/staff/{nurse}/working-hours"), every_day(json!([{"start": "09:00", "end": "12:00"}]))).await,
        200
    );
    let room_hours = format!("/v1/resources/{}/working-hours", room["id"].as_str().unwrap());
    assert_eq!(put(room_hours, every_day(json!([{"start": "10:00", "end": "18:00"}]))).await, 200);
    let mut clinic_hours = every_day(json!([{"start": "08:00", "end": "18:00"}]));
    clinic_hours["overrides"] = json!([{"date": "2027-03-15", "hours": []}]);
    assert_eq!(put("/v1/clinic/working-hours".into(), clinic_hours).await, 200);
    let service = json!({"name": "Laser", "durationMinutes": 60, "intervalMinutes": 30,
                         "performedBy": {"role": "practitioner"}, "resourceIds": [room["id"]]});
    let created = app.post("/v1/services", &clinic.admin, service).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_string();
    let ask = |query: String| {
        let admin = clinic.admin.clone();
        let app = &app;
        async move { app.get(&format!("/v1/availability?serviceId={query}"), &admin).await }
    };
    // The Sunday the clocks spring forward in Los Angeles: 10:00 is still 10:00 local, now at -07:00.
    let sunday = ask(format!("{id}&from=2027-03-14&to=2027-03-14")).await;
    assert_eq!(sunday.status, 200, "{sunday:?}");
    let starts: Vec<&str> =
        sunday.body["items"].as_array().unwrap().iter().map(|i| i["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["2027-03-14T10:00:00-07:00", "2027-03-14T10:30:00-07:00", "2027-03-14T11:00:00-07:00"]);
    assert_eq!(sunday.body["items"][0]["staff"], json!([practitioner]), "the nurse does not perform it");
    let week_before = ask(format!("{id}&from=2027-03-07&to=2027-03-07")).await;
    assert_eq!(week_before.body["items"][0]["start"], "2027-03-07T10:00:00-08:00");
    let closed = ask(format!("{id}&from=2027-03-15&to=2027-03-15")).await;
    assert_eq!(closed.body["items"], json!([]), "the clinic is closed that day");
    let span = ask(format!("{id}&from=2027-03-01&to=2027-03-31")).await;
    assert_eq!(span.body["items"].as_array().unwrap().len(), 30 * 3, "31 days but the closed one");

    for (query, status) in [
        (format!("{id}&from=2027-03-01&to=2027-04-01"), 422),
        (format!("{id}&from=2027-03-02&to=2027-03-01"), 422),
        (format!("{id}&from=2027-03-01&to=2027-03-01&staffId={nurse}"), 409),
        (format!("{id}&from=2027-02-30&to=2027-03-01"), 400),
        ("01JD0000000000000000000000&from=2027-03-01&to=2027-03-01".to_string(), 404),
        (format!("{id}&to=2027-03-01"), 400),
    ] {
        let reply = ask(query.clone()).await;
        assert_eq!(reply.status, status, "{query}: {reply:?}");
    }
    let retired = app.patch(&format!("/v1/services/{id}"), &clinic.admin, "\"1\"", json!({"status": "retired"})).await;
    assert_eq!(retired.status, 200);
    assert_eq!(ask(format!("{id}&from=2027-03-14&to=2027-03-14")).await.status, 409);
}

on_both_backends!(
    administrators_keep_rooms_devices_and_services_and_staff_read_them,
    a_service_that_breaks_a_rule_is_refused_field_by_field,
    working_hours_are_set_whole_on_their_version_and_checked,
    availability_is_where_performer_room_and_clinic_are_all_free,
);
