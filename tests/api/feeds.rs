//! Calendar feeds: a staff member's secret iCalendar URL shows their live appointments with the service
//! and initials, never a name; each read is in the patients' access logs; a new URL replaces the old, a
//! revoke or a deactivation stops it, and nobody makes a feed for someone else.

use serde_json::json;
use vellum::domain::role::Role;
use vellum_tests::{TestApp, every_day, patient_body};

/// The feed at `url`, as a calendar app fetches it: no token.
async fn fetch(app: &TestApp, url: &str) -> (u16, String, String) {
    let response = app.client.get(url).send().await.expect("the server answers");
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, kind, response.text().await.unwrap_or_default())
}

async fn a_staff_feed_shows_their_live_appointments_by_initials_until_replaced_or_revoked(app: TestApp) {
    let clinic = app.open_clinic("Glow").await;
    let admin = clinic.admin.clone();
    let (practitioner, user) = app.member(&clinic, Role::Practitioner).await;
    let (nurse, nurse_user) = app.member(&clinic, Role::Nurse).await;
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    for who in [&user, &nurse_user] {
        let set =
            app.send("PUT", &format!("/v1/staff/{who}/working-hours"), Some(&admin), Some(week.clone()), &[]).await;
        assert_eq!(set.status, 200, "{set:?}");
    }
    let room = app.post("/v1/resources", &admin, json!({"name": "Laser room, east", "kind": "room"})).await;
    let service = json!({"name": "Lip filler", "durationMinutes": 60, "intervalMinutes": 30,
                         "performedBy": {"staff": [user]}, "resourceIds": [room.body["id"]]});
    let service = app.post("/v1/services", &admin, service).await;
    assert_eq!(service.status, 201, "{service:?}");
    let patient = app.patient(&clinic, patient_body("Bea", "Quimby")).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let mut booked = Vec::new();
    for time in ["10:00", "13:00"] {
        let body = json!({"patientId": patient["id"], "serviceId": service.body["id"],
                          "start": format!("{tomorrow}T{time}:00-08:00")});
        let reply = app.post("/v1/appointments", &admin, body).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        booked.push(reply.body["id"].as_str().unwrap().to_string());
    }
    let cancel = format!("/v1/appointments/{}/cancel", booked[1]);
    let reply = app.send("POST", &cancel, Some(&admin), Some(json!({"reason": "ill"})), &[("if-match", "\"1\"")]).await;
    assert_eq!(reply.status, 200, "{reply:?}");

    // Only the member makes their own feed.
    let path = format!("/v1/staff/{user}/calendar-feed");
    assert_eq!(app.post(&path, &admin, json!({})).await.status, 403);
    assert_eq!(app.post(&path, &nurse, json!({})).await.status, 403);
    let made = app.post(&path, &practitioner, json!({})).await;
    assert_eq!(made.status, 201, "{made:?}");
    let url = made.body["url"].as_str().unwrap().to_string();
    let (status, kind, text) = fetch(&app, &url).await;
    assert_eq!((status, kind.as_str()), (200, "text/calendar; charset=utf-8"), "{text}");
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 1, "the cancelled one is not shown: {text}");
    assert!(text.contains(&format!("UID:{}@vellum", booked[0])), "{text}");
    assert!(text.contains("SUMMARY:Lip filler – B.Q.\r\n"), "{text}");
    assert!(text.contains("LOCATION:Laser room\\, east\r\n"), "{text}");
    assert!(!text.contains("Quimby") && !text.contains("Bea"), "a name in the feed: {text}");
    let log = app.get(&format!("/v1/patients/{}/access-log?limit=100", patient["id"].as_str().unwrap()), &admin).await;
    let names: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert!(names.contains(&"calendar-feed.read"), "{names:?}");

    // A new URL replaces the old.
    let again = app.post(&path, &practitioner, json!({})).await;
    assert_eq!((again.status, again.body["replaced"].as_bool()), (201, Some(true)), "{again:?}");
    let newer = again.body["url"].as_str().unwrap().to_string();
    assert_eq!(fetch(&app, &url).await.0, 404);
    assert_eq!(fetch(&app, &newer).await.0, 200);
    // Guessed or malformed tokens look like feeds that never existed.
    let guessed = format!("{}/feeds/{}", app.base, "A".repeat(43));
    assert_eq!(fetch(&app, &guessed).await.0, 404);
    assert_eq!(fetch(&app, &format!("{}/feeds/short", app.base)).await.0, 404);
    // An administrator revokes it; a second revoke finds nothing.
    let revoke = format!("/v1/staff/{user}/calendar-feed/revoke");
    assert_eq!(app.post(&revoke, &nurse, json!({})).await.status, 403);
    assert_eq!(app.post(&revoke, &admin, json!({})).await.status, 200);
    assert_eq!(fetch(&app, &newer).await.0, 404);
    assert_eq!(app.post(&revoke, &admin, json!({})).await.status, 404);

    // A member who leaves takes their feed with them.
    let nurse_feed = app.post(&format!("/v1/staff/{nurse_user}/calendar-feed"), &nurse, json!({})).await;
    let nurse_url = nurse_feed.body["url"].as_str().unwrap().to_string();
    assert_eq!(fetch(&app, &nurse_url).await.0, 200);
    let member = app.get("/v1/staff?limit=100", &admin).await;
    let version = member.body["items"].as_array().unwrap().iter().find(|m| m["userId"] == nurse_user.as_str()).unwrap()
        ["version"]
        .clone();
    let gone = app
        .patch(&format!("/v1/staff/{nurse_user}"), &admin, &format!("\"{version}\""), json!({"status": "deactivated"}))
        .await;
    assert_eq!(gone.status, 200, "{gone:?}");
    assert_eq!(fetch(&app, &nurse_url).await.0, 404);
}

on_both_backends!(a_staff_feed_shows_their_live_appointments_by_initials_until_replaced_or_revoked);
