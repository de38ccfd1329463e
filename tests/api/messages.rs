//! Messages really leave, once: invitations and reminders go through the delivery port of each backend
//! (a folder locally, SES and SNS on moto), however often the dispatcher runs, and say nothing clinical.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::messages::dispatch::{self, Report};
use vellum::messages::{Accepted, Channel, Messenger, Outgoing, SendError};
use vellum::store::{Query, SkRange, Table};
use vellum_tests::messages::RecordingMessenger;
use vellum_tests::{Backend, Clinic, TestApp, every_day, patient_body};

async fn dispatch_at(app: &TestApp, messenger: &dyn Messenger, now: DateTime<Utc>) -> Report {
    dispatch::run(&app.app, messenger, now).await.expect("the dispatcher runs")
}

/// The clinic's outbox items, as stored.
async fn outbox(app: &TestApp, clinic: &Clinic) -> Vec<Value> {
    let query = Query::new(Table::Records, format!("CLINIC#{}", clinic.id)).sk(SkRange::Prefix("OUTBOX#".into()));
    let items = vellum::store::query_all(app.records.as_ref(), query).await.expect("outbox");
    items.into_iter().map(Value::Object).collect()
}

async fn an_invitation_leaves_once_by_its_channel_with_its_link_and_nothing_clinical(app: TestApp) {
    let clinic = app.open_clinic("Glow Clinic").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Quimby")).await;
    let patient_id = patient["id"].as_str().unwrap();
    app.templates(&clinic, &["medical-history"]).await;
    let mut links = Vec::new();
    for channel in ["email", "sms"] {
        let body = json!({"patientId": patient_id, "templateIds": ["medical-history"], "channel": channel});
        let invited = app.post("/v1/invitations", &clinic.admin, body).await;
        assert_eq!(invited.status, 201, "{invited:?}");
        assert_eq!(invited.body["delivery"]["status"], "queued");
        assert_eq!(invited.body["delivery"]["channel"], channel);
        links.push(invited.body["link"].as_str().unwrap().to_string());
    }
    // A third, revoked before it left: withdrawn, never sent.
    let body = json!({"patientId": patient_id, "templateIds": ["medical-history"], "channel": "email"});
    let withdrawn = app.post("/v1/invitations", &clinic.admin, body).await;
    let revoke = format!("/v1/patients/{patient_id}/invitations/{}/revoke", withdrawn.body["id"].as_str().unwrap());
    assert_eq!(app.post(&revoke, &clinic.admin, json!({})).await.status, 200);
    let messenger = RecordingMessenger::of(app.backend).await;
    let now = Utc::now() + Duration::seconds(1);
    // Two dispatchers at once, then a third: each message leaves exactly once.
    let (first, second) = tokio::join!(dispatch_at(&app, &messenger, now), dispatch_at(&app, &messenger, now));
    assert_eq!(first.sent + second.sent, 2, "{first:?} {second:?}");
    assert_eq!(dispatch_at(&app, &messenger, now + Duration::minutes(5)).await.sent, 0);
    let mut sent = messenger.accepted();
    sent.sort_by_key(|m| m.channel.as_str());
    assert_eq!(sent.len(), 2);
    let (email, text) = (&sent[0], &sent[1]);
    assert_eq!((email.channel, email.to.as_str()), (Channel::Email, "patient@mail.example"));
    assert_eq!((text.channel, text.to.as_str()), (Channel::Sms, "+14155550123"));
    assert!(email.text.contains(&links[0]) && email.subject.contains("Glow Clinic"), "{email:?}");
    assert!(text.text.contains(&links[1]) && text.text.starts_with("Hello Ada"), "{text:?}");
    for message in &sent {
        for clinical in ["Quimby", "1988", "medical", "history"] {
            assert!(!message.text.to_lowercase().contains(&clinical.to_lowercase()), "{clinical} in {message:?}");
        }
    }
    // The table keeps where each stands (sealed links only); the trail has each send.
    let items = outbox(&app, &clinic).await;
    let statuses: Vec<&str> = items.iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "sent", "cancelled"]);
    for item in &items {
        assert!(item.get("GSI1PK").is_none(), "a sent message left the index of due work");
        let stored = item.to_string();
        assert!(!links.iter().any(|l| stored.contains(l.rsplit('/').next().unwrap())), "a working link is stored");
    }
    let events = app.audit(&clinic, &format!("&patientId={patient_id}")).await;
    let sends: Vec<&Value> = events.iter().filter(|e| e["eventName"] == "messages.send").collect();
    assert_eq!(sends.len(), 2, "{events:?}");
    // The text's event names where its number is, for its price, and never the number.
    let text = sends.iter().find(|e| e.to_string().contains("\"sms\"")).expect("the text's event");
    assert!(text.to_string().contains("north-america"), "{text}");
    assert!(!text.to_string().contains("4155550123"), "{text}");
}

/// A clinic writing in Swedish with a practitioner working 09:00–17:00 every day and a 60-minute service
/// on 30-minute steps; a patient who gave no language of their own.
async fn reminder_setup(app: &TestApp) -> (Clinic, String, String) {
    let clinic = app.open_clinic("Glow").await;
    let changed =
        app.patch("/v1/clinic", &clinic.admin, "\"1\"", json!({"language": "sv", "reminderHours": [2, 24]})).await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["reminderHours"], json!([24, 2]));
    let (_, user) = app.member(&clinic, Role::Practitioner).await;
    let week = every_day(json!([{"start": "09:00", "end": "17:00"}]));
    let set = app.send("PUT", &format!("/v1/staff/{user}/working-hours"), Some(&clinic.admin), Some(week), &[]).await;
    assert_eq!(set.status, 200, "{set:?}");
    let service = json!({"name": "Lip filler", "durationMinutes": 60, "intervalMinutes": 30,
                         "performedBy": {"role": "practitioner"}});
    let service = app.post("/v1/services", &clinic.admin, service).await;
    assert_eq!(service.status, 201, "{service:?}");
    let mut body = patient_body("Bea", "Quimby");
    body.as_object_mut().unwrap().remove("preferredLanguage");
    let patient = app.patient(&clinic, body).await;
    (clinic, service.body["id"].as_str().unwrap().to_string(), patient["id"].as_str().unwrap().to_string())
}

async fn book(app: &TestApp, clinic: &Clinic, service: &str, patient: &str, start: &str) -> Value {
    let body = json!({"patientId": patient, "serviceId": service, "start": start});
    let booked = app.post("/v1/appointments", &clinic.admin, body).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    booked.body
}

fn start_of(appointment: &Value) -> DateTime<Utc> {
    appointment["start"].as_str().unwrap().parse().unwrap()
}

async fn reminders_go_once_before_each_live_appointment_at_its_current_time(app: TestApp) {
    let (clinic, service, patient) = reminder_setup(&app).await;
    let admin = clinic.admin.clone();
    let kept = book(&app, &clinic, &service, &patient, "2027-01-11T10:00:00-08:00").await;
    let cancelled = book(&app, &clinic, &service, &patient, "2027-01-11T12:00:00-08:00").await;
    let moved = book(&app, &clinic, &service, &patient, "2027-01-11T13:00:00-08:00").await;
    let path = |a: &Value| format!("/v1/appointments/{}", a["id"].as_str().unwrap());
    let reply = app
        .send(
            "POST",
            &format!("{}/cancel", path(&cancelled)),
            Some(&admin),
            Some(json!({"reason": "ill"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = app
        .send(
            "POST",
            &format!("{}/reschedule", path(&moved)),
            Some(&admin),
            Some(json!({"start": "2027-01-11T15:00:00-08:00"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Each booking still on was confirmed at once, in the clinic's language, without the service; the
    // cancelled one's confirmation was withdrawn before it left.
    let messenger = RecordingMessenger::of(app.backend).await;
    let confirmed = dispatch_at(&app, &messenger, Utc::now() + Duration::seconds(1)).await;
    assert_eq!(confirmed.sent, 2, "{confirmed:?}");
    let confirmation = messenger.accepted().pop().unwrap();
    assert!(confirmation.text.ends_with("är bokad.") && !confirmation.text.contains("filler"), "{confirmation:?}");
    let start = start_of(&kept);
    assert_eq!(dispatch_at(&app, &messenger, start - Duration::hours(25)).await, Report::default());
    // A day before the first: its reminder only (the cancelled one's time has no reminder; the moved one's
    // reminders follow its new time).
    let day_before = dispatch_at(&app, &messenger, start - Duration::hours(24) + Duration::minutes(2)).await;
    assert_eq!((day_before.reminders_queued, day_before.sent), (1, 1), "{day_before:?}");
    let again = dispatch_at(&app, &messenger, start - Duration::hours(24) + Duration::minutes(3)).await;
    assert_eq!(again.sent, 0, "{again:?}");
    let first = messenger.accepted().pop().unwrap();
    assert_eq!((first.channel, first.to.as_str()), (Channel::Sms, "+14155550123"));
    assert_eq!(first.text, "Hej Bea! En påminnelse om din tid hos Glow måndag 11 januari kl. 10:00.");
    assert!(!first.text.contains("filler") && !first.subject.contains("filler"));
    let moved_start: DateTime<Utc> = "2027-01-11T23:00:00Z".parse().unwrap();
    let report = dispatch_at(&app, &messenger, moved_start - Duration::hours(24)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert!(messenger.accepted().pop().unwrap().text.contains("kl. 15:00"));
    // Two hours before the first: its second reminder.
    let report = dispatch_at(&app, &messenger, start - Duration::hours(2)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    // The moved one's patient arrives early: nobody is reminded of it any more.
    let reply = app
        .send(
            "POST",
            &format!("{}/status", path(&moved)),
            Some(&admin),
            Some(json!({"status": "arrived"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(dispatch_at(&app, &messenger, moved_start - Duration::hours(1)).await.sent, 0);
    assert_eq!(messenger.accepted().len(), 2 + 3);
    let query = Query::new(Table::Records, format!("CLINIC#{}", clinic.id)).sk(SkRange::Prefix("REMIND#".into()));
    let left = vellum::store::query_all(app.records.as_ref(), query).await.unwrap();
    assert!(left.is_empty(), "reminders were left behind: {left:?}");
}

on_both_backends!(
    an_invitation_leaves_once_by_its_channel_with_its_link_and_nothing_clinical,
    reminders_go_once_before_each_live_appointment_at_its_current_time,
);

/// Reminders whose hours passed while nothing ran: only the latest due one goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_that_passed_unsent_give_one_reminder_not_a_burst() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let (clinic, service, patient) = reminder_setup(&app).await;
    let booked = book(&app, &clinic, &service, &patient, "2027-01-11T10:00:00-08:00").await;
    let messenger = RecordingMessenger::of(Backend::Embedded).await;
    assert_eq!(dispatch_at(&app, &messenger, Utc::now() + Duration::seconds(1)).await.sent, 1, "the confirmation");
    let report = dispatch_at(&app, &messenger, start_of(&booked) - Duration::hours(1)).await;
    assert_eq!((report.reminders_queued, report.sent), (1, 1), "{report:?}");
    let items = outbox(&app, &clinic).await;
    let reminders: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).filter(|id| id.ends_with('h')).collect();
    assert_eq!(reminders.len(), 1, "{items:?}");
    assert!(reminders[0].ends_with("-2h"), "{reminders:?}");
    assert_eq!(dispatch_at(&app, &messenger, start_of(&booked) - Duration::minutes(30)).await.sent, 0);
}

/// A port that answers from a script, counting what it was handed.
struct Scripted {
    answers: std::sync::Mutex<Vec<Result<Accepted, SendError>>>,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Messenger for Scripted {
    async fn send(&self, _message: &Outgoing) -> Result<Accepted, SendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.answers.lock().unwrap().remove(0)
    }
}

async fn invited_by_email(app: &TestApp) -> Clinic {
    let clinic = app.open_clinic("Glow").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Quimby")).await;
    app.templates(&clinic, &["medical-history"]).await;
    let body = json!({"patientId": patient["id"], "templateIds": ["medical-history"], "channel": "email"});
    assert_eq!(app.post("/v1/invitations", &clinic.admin, body).await.status, 201);
    clinic
}

/// A provider that is down is tried again later, four times in all, then the message is failed; a
/// provider's refusal is final at once. Neither is ever sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_provider_is_retried_with_backoff_and_a_refusal_is_final() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let clinic = invited_by_email(&app).await;
    let down = || Err(SendError::Unavailable("ThrottlingException: slow down".into()));
    let port =
        Scripted { answers: std::sync::Mutex::new(vec![down(), down(), down(), down()]), calls: AtomicUsize::new(0) };
    let mut now = Utc::now() + Duration::seconds(1);
    for (attempt, wait) in [(1, 1), (2, 5), (3, 15)] {
        let report = dispatch_at(&app, &port, now).await;
        assert_eq!(report.retrying, 1, "attempt {attempt}: {report:?}");
        // Not before its time.
        assert_eq!(dispatch_at(&app, &port, now + Duration::seconds(wait * 60 - 1)).await, Report::default());
        now += Duration::minutes(wait);
    }
    assert_eq!(dispatch_at(&app, &port, now).await.failed, 1);
    assert_eq!(dispatch_at(&app, &port, now + Duration::hours(1)).await, Report::default());
    assert_eq!(port.calls.load(Ordering::SeqCst), 4);
    let item = outbox(&app, &clinic).await.pop().unwrap();
    assert_eq!((item["status"].as_str(), item["attempts"].as_u64()), (Some("failed"), Some(4)), "{item}");

    let other = invited_by_email(&app).await;
    let refused = Scripted {
        answers: std::sync::Mutex::new(vec![Err(SendError::Refused("MessageRejected: bad address".into()))]),
        calls: AtomicUsize::new(0),
    };
    assert_eq!(dispatch_at(&app, &refused, Utc::now() + Duration::seconds(1)).await.failed, 1);
    assert_eq!(dispatch_at(&app, &refused, Utc::now() + Duration::hours(1)).await, Report::default());
    let item = outbox(&app, &other).await.pop().unwrap();
    assert_eq!(item["status"], "failed");
    assert!(item["error"].as_str().unwrap().contains("MessageRejected"), "{item}");
}

/// SES itself refuses a sender it has not verified: the adapter reports a refusal (final), not an outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_refuses_an_unverified_sender_and_the_adapter_says_so() {
    let config = vellum_tests::moto_config().await;
    let port = vellum::messages::aws::AwsMessenger::new(&config, "someone@unverified.test", None);
    let message = Outgoing {
        id: "m1".into(),
        channel: Channel::Email,
        to: "patient@mail.example".into(),
        subject: "s".into(),
        text: "t".into(),
    };
    let answer = port.send(&message).await;
    assert!(matches!(answer, Err(SendError::Refused(_))), "{answer:?}");
}
