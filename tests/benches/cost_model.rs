//! What a clinic costs us: a reference clinic-month taken through the local server (release build,
//! embedded stores that tally every request), turned into AWS list-price dollars per service.
//!
//! The month: `VISITS` visits (100 by default, `VELLUM_COST_VISITS` to change), scaled to 1,000. Per
//! visit: a registration (every other visit; the others find the patient by family name), a booking,
//! one invitation to two forms (medical history, consent) and their submission, the chart summary and
//! the allergies read, vitals, a treatment, a note written and signed, two photos (request, upload,
//! processing, one view), two staff searches (a whole family name; three letters of one, a page of 20),
//! two reminders (text messages: the patients give a phone), and every tenth visit the patient's access
//! log. Then the month's audit trail goes through the meter and the archive in the
//! stream's deliveries of 100.
//!
//! From the tally: DynamoDB on-demand request units from item sizes (a write 1 unit a KB, twice in a
//! transaction, plus 1 a KB of each index the item lands in; a strongly consistent read 1 unit per 4 KB,
//! an index's 0.5), storage from the items' last sizes; S3 and KMS requests; Lambda GB-seconds at each
//! function's memory in the template from the measured time plus a modelled round trip per AWS request
//! (the local stores answer in microseconds; DynamoDB ~6 ms, S3 ~15 ms, KMS ~8 ms in-region); API
//! Gateway HTTP API requests. The baseline, measured in the same run, is a hello-world request (a path no
//! route serves: no store, no audit), and each step's time is printed as a multiple of it.
//! Run with `cargo bench -p vellum-tests --bench cost_model`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use vellum::archive::{Archive, Change, StreamRecord};
use vellum::domain::role::Role;
use vellum::http::routes::{ROUTES, TRIGGERS};
use vellum::store::schema::Table;
use vellum::store::{Query, SkRange, query_all};
use vellum_tests::tally::{Requests, Tally};
use vellum_tests::{
    Backend, Reply, TestApp, chart_entry, complete_answers, every_day, images, patient_body, treatment_body,
};

/// AWS list prices, us-east-1, December 2026.
mod price {
    pub const WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const READ_UNIT: f64 = 0.125 / 1e6;
    pub const DYNAMO_GB_MONTH: f64 = 0.25;
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    pub const S3_PUT: f64 = 0.005 / 1e3;
    pub const S3_GET: f64 = 0.0004 / 1e3;
    pub const S3_GB_MONTH: f64 = 0.023;
    pub const KMS_REQUEST: f64 = 0.03 / 1e4;
    pub const KMS_KEY_MONTH: f64 = 1.0;
    pub const SES_EMAIL: f64 = 0.10 / 1e3;
    /// A US text message through SNS, carrier fees included (an estimate: they vary by carrier).
    pub const SNS_US_TEXT: f64 = 0.0088;
    pub const ALARM_MONTH: f64 = 0.10;
}

/// Modelled round trips in milliseconds (in-region, warm).
const DYNAMO_MS: f64 = 6.0;
const S3_MS: f64 = 15.0;
const KMS_MS: f64 = 8.0;

/// Whether the audit table's indexes project keys only, as deployed (the figures say why).
const KEYS_ONLY: bool = true;

/// Overhead DynamoDB adds to each stored item (and each index copy) for storage.
const ITEM_OVERHEAD: usize = 100;

/// A step of the month: its label (a route's name or a function's), its calls, their measured time, and
/// (once the month is over) what the stores received under its label.
#[derive(Default)]
struct Step {
    calls: usize,
    millis: f64,
    requests: Requests,
}

struct Month {
    tally: Arc<Tally>,
    steps: BTreeMap<String, Step>,
}

impl Month {
    /// Runs `call` under `label`, timing it.
    async fn step<T>(&mut self, label: &str, call: impl std::future::Future<Output = T>) -> T {
        self.tally.label(label);
        let began = Instant::now();
        let out = call.await;
        let step = self.steps.entry(label.to_string()).or_default();
        step.calls += 1;
        step.millis += began.elapsed().as_secs_f64() * 1e3;
        out
    }

    /// Gives each step what the stores received under its label, all month.
    fn close(&mut self) {
        for (label, step) in &mut self.steps {
            step.requests = self.tally.take(label);
        }
    }
}

impl Month {
    async fn get(&mut self, app: &TestApp, label: &str, path: &str, token: &str) -> Reply {
        self.step(label, app.get(path, token)).await
    }

    async fn post(&mut self, app: &TestApp, label: &str, path: &str, token: &str, body: Value) -> Reply {
        self.step(label, app.post(path, token, body)).await
    }
}

fn units(bytes: usize, per: usize) -> f64 {
    bytes.div_ceil(per).max(1) as f64
}

/// Request units of `requests`: (write units, read units), with audit indexes projected `keys_only` or
/// whole.
fn request_units(requests: &Requests, audit_keys_only: bool) -> (f64, f64) {
    let mut write = 0.0;
    for w in &requests.writes {
        write += units(w.bytes, 1024) * if w.transactional { 2.0 } else { 1.0 };
        for (_, keys) in &w.indexes {
            let projected = if audit_keys_only && w.table == Table::Audit { *keys } else { w.bytes };
            write += units(projected, 1024);
        }
    }
    let read = requests.reads.iter().map(|r| units(r.bytes, 4096) * if r.index { 0.5 } else { 1.0 }).sum();
    (write, read)
}

/// Bytes stored at the month's end: each item's last size and its index copies, per table.
fn stored_bytes(steps: &BTreeMap<String, Step>, audit_keys_only: bool) -> (usize, usize) {
    let mut last: BTreeMap<(bool, String, String), (usize, usize)> = BTreeMap::new();
    for step in steps.values() {
        for w in &step.requests.writes {
            let copies: usize = w
                .indexes
                .iter()
                .map(|(_, keys)| {
                    ITEM_OVERHEAD + if audit_keys_only && w.table == Table::Audit { *keys } else { w.bytes }
                })
                .sum();
            last.insert((w.table == Table::Audit, w.key.0.clone(), w.key.1.clone()), (w.bytes + ITEM_OVERHEAD, copies));
        }
    }
    let (mut records, mut audit) = (0, 0);
    for ((is_audit, ..), (item, copies)) in last {
        if is_audit { audit += item + copies } else { records += item + copies }
    }
    (records, audit)
}

/// The function that serves a label, and its memory in the committed template.
fn memory_mb(template: &Value, label: &str) -> (String, f64) {
    let function = ROUTES
        .iter()
        .find(|r| r.name == label)
        .map(|r| r.function)
        .or_else(|| TRIGGERS.iter().find(|t| t.function == label).map(|t| t.function))
        .unwrap_or_else(|| panic!("{label} is neither a route nor a function"));
    let name = vellum::deploy::logical_name(function);
    let memory = template["Resources"][&name]["Properties"]["MemorySize"].as_f64();
    let memory = memory.or_else(|| template["Globals"]["Function"]["MemorySize"].as_f64()).unwrap_or(128.0);
    (function.to_string(), memory)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let visits: usize = std::env::var("VELLUM_COST_VISITS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let scale = 1000.0 / visits as f64;
    let tally = Arc::new(Tally::default());
    let app = TestApp::spawn_tallied(Backend::Embedded, tally.clone()).await;
    let mut month = Month { tally: tally.clone(), steps: BTreeMap::new() };

    // The baseline: a hello-world request through the same server (a path no route serves: no store, no
    // audit), timed like the others.
    tally.label("baseline");
    let mut baseline_ms = Vec::new();
    for _ in 0..50 {
        let began = Instant::now();
        let status = app.client.get(format!("{}/hello", app.base)).send().await.unwrap().status();
        assert!(status.is_client_error(), "{status}");
        baseline_ms.push(began.elapsed().as_secs_f64() * 1e3);
    }
    assert_eq!(tally.take("baseline").store_calls, 0, "the baseline touches no store");
    baseline_ms.sort_by(f64::total_cmp);
    let baseline = baseline_ms[baseline_ms.len() / 2];

    // Set-up (once, not in the month): the clinic, its staff, its forms and its calendar.
    tally.label("set-up");
    let clinic = app.open_clinic("Reference").await;
    let (practitioner, practitioner_id) = app.member(&clinic, Role::Practitioner).await;
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    let (front_desk, _) = app.member(&clinic, Role::FrontDesk).await;
    app.templates(&clinic, &["medical-history", "neurotoxin-consent"]).await;
    let week = every_day(json!([{"start": "08:00", "end": "20:00"}]));
    let hours_path = format!("/v1/staff/{practitioner_id}/working-hours");
    assert_eq!(app.send("PUT", &hours_path, Some(&clinic.admin), Some(week), &[]).await.status, 200);
    let service = json!({"name": "Consultation", "durationMinutes": 30, "intervalMinutes": 30,
                         "performedBy": {"staff": [practitioner_id]}});
    let service = app.post("/v1/services", &clinic.admin, service).await.body["id"].as_str().unwrap().to_string();
    tally.take("set-up");

    let photo = images::jpeg(1200, 900);
    let mut starts = Vec::new();
    let mut patients: Vec<String> = Vec::new();
    for visit in 0..visits {
        let family = format!("Visitor{}", visit / 2);
        let patient = if visit % 2 == 0 {
            let created =
                month.post(&app, "patients.create", "/v1/patients", &front_desk, patient_body("Ada", &family)).await;
            assert_eq!(created.status, 201, "{created:?}");
            created.body["id"].as_str().unwrap().to_string()
        } else {
            let found =
                month.get(&app, "patients.list", &format!("/v1/patients?familyName={family}"), &front_desk).await;
            assert_eq!(found.status, 200, "{found:?}");
            found.body["items"][0]["id"].as_str().unwrap().to_string()
        };
        patients.push(patient.clone());
        let date = (Utc::now() + Duration::days(2 + (visit / 24) as i64)).format("%Y-%m-%d").to_string();
        let start = format!("{date}T{:02}:{:02}:00-08:00", 8 + (visit % 24) / 2, (visit % 2) * 30);
        let booking = json!({"patientId": patient, "serviceId": service, "start": start});
        let booked = month.post(&app, "appointments.book", "/v1/appointments", &front_desk, booking).await;
        assert_eq!(booked.status, 201, "{booked:?}");
        starts.push(booked.body["start"].as_str().unwrap().to_string());
        let invitation = json!({"patientId": patient, "templateIds": ["medical-history", "neurotoxin-consent"]});
        let invited = month.post(&app, "invitations.create", "/v1/invitations", &front_desk, invitation).await;
        assert_eq!(invited.status, 201, "{invited:?}");
        let token = invited.body["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let form = format!("/v1/intake/{token}");
        let page = month.step("intake.read", app.send("GET", &form, None, None, &[])).await;
        assert_eq!(page.status, 200, "{page:?}");
        let submit = format!("{form}/submit");
        let submitted =
            month.step("intake.submit", app.send("POST", &submit, None, Some(complete_answers()), &[])).await;
        assert_eq!(submitted.status, 201, "{submitted:?}");
        let path = |segment: &str| format!("/v1/patients/{patient}/{segment}");
        assert_eq!(month.get(&app, "chart.read", &path("chart"), &practitioner).await.status, 200);
        assert_eq!(month.get(&app, "allergies.list", &path("allergies"), &nurse).await.status, 200);
        let vitals = chart_entry("vitals").0;
        assert_eq!(month.post(&app, "vitals.create", &path("vitals"), &nurse, vitals).await.status, 201);
        let treatment = treatment_body("LOT-1", "2027-12-31");
        assert_eq!(
            month.post(&app, "treatments.create", &path("treatments"), &practitioner, treatment).await.status,
            201
        );
        let note = month.post(&app, "notes.create", &path("notes"), &practitioner, chart_entry("notes").0).await;
        assert_eq!(note.status, 201, "{note:?}");
        let sign = path(&format!("notes/{}/sign", note.body["id"].as_str().unwrap()));
        let signed =
            month.step("notes.sign", app.send("POST", &sign, Some(&practitioner), None, &[("if-match", "\"1\"")]));
        assert_eq!(signed.await.status, 200);
        for _ in 0..2 {
            let body = json!({"contentType": "image/jpeg", "byteSize": photo.len(), "bodyArea": "face",
                              "view": "front", "capturedAt": "2026-11-20T15:00:00Z"});
            let created = month.post(&app, "photos.create", &path("photos"), &nurse, body).await;
            assert_eq!(created.status, 201, "{created:?}");
            let uploaded = month.step("photos-process", app.upload(&created.body, photo.clone())).await;
            assert!(uploaded.status < 300, "{uploaded:?}");
            let view = path(&format!("photos/{}?rendition=display", created.body["id"].as_str().unwrap()));
            let seen =
                month.step("photos.view", app.client.get(format!("{}{view}", app.base)).bearer_auth(&nurse).send());
            assert_eq!(seen.await.unwrap().status(), 200);
        }
        // Two staff searches: a family name typed whole, and three letters of one (a page of 20 patients,
        // each of whom gets the search in their access log).
        for typed in [family.as_str(), &family[..3]] {
            let search = format!("/v1/patients?familyName={typed}&limit=20");
            assert_eq!(month.get(&app, "patients.list", &search, &front_desk).await.status, 200);
        }
        if visit % 10 == 0 {
            let log = month.get(&app, "patients.access-log", &path("access-log"), &clinic.admin).await;
            assert_eq!(log.status, 200, "{log:?}");
        }
    }

    // Two reminders a visit: the dispatcher run at each reminder's hour (a day and two hours before).
    let outbox = tempfile::tempdir().unwrap();
    let messenger = vellum::messages::local::LocalOutbox::new(outbox.path().to_path_buf()).unwrap();
    for start in &starts {
        let start: chrono::DateTime<Utc> = start.parse().unwrap();
        for hours in [24, 2] {
            let at = start - Duration::hours(hours) + Duration::minutes(1);
            let run = vellum::messages::dispatch::run(&app.app, &messenger, at);
            month.step("messages-dispatch", run).await.unwrap();
        }
    }
    let sent = messenger.messages().unwrap();
    let texts = sent.iter().filter(|m| m.channel == vellum::messages::Channel::Sms).count();
    let messages = (sent.len() - texts, texts);
    // The dispatcher's run when nothing is due: what its schedule costs every minute of every month.
    tally.label("idle");
    let began = Instant::now();
    let far = Utc::now() + Duration::days(365);
    let idle_report = vellum::messages::dispatch::run(&app.app, &messenger, far).await.unwrap();
    assert_eq!(idle_report, vellum::messages::dispatch::Report::default());
    let idle = (began.elapsed().as_secs_f64() * 1e3, tally.take("idle"));

    // The month's trail through the stream's two readers, in deliveries of 100.
    tally.label("unlabelled");
    let trail = Query::new(Table::Audit, format!("CLINIC#{}", clinic.id)).sk(SkRange::All);
    let mut items = query_all(app.records.as_ref(), trail).await.unwrap();
    for patient in &patients {
        let patient = vellum::domain::values::EntityId::parse(patient).unwrap();
        let clinic_id = vellum::domain::values::EntityId::parse(&clinic.id).unwrap();
        let copies =
            Query::new(Table::Audit, vellum::domain::keys::audit_listed_pk(clinic_id, patient)).sk(SkRange::All);
        items.extend(query_all(app.records.as_ref(), copies).await.unwrap_or_default());
    }
    tally.take("unlabelled");
    let stream: Vec<StreamRecord> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| StreamRecord { sequence: format!("{i:020}"), change: Change::Insert(item) })
        .collect();
    let archive = Archive { records: app.records.clone(), blobs: app.app.archive.clone().unwrap() };
    for delivery in stream.chunks(100) {
        let now = Utc::now();
        month.step("usage-meter", vellum::metering::meter::meter(app.records.as_ref(), delivery, now)).await.unwrap();
        month.step("audit-archive", archive.handle(delivery.to_vec(), now)).await.unwrap();
    }

    month.close();
    assert_eq!(KEYS_ONLY, Table::Audit.keys_only_indexes(), "the model prices the indexes as deployed");
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.json")).unwrap(),
    )
    .unwrap();
    let figures = Figures { scale, baseline, visits, messages, events: stream.len(), idle };
    report(&month, &template, &figures);
}

/// What the report needs besides the steps.
struct Figures {
    scale: f64,
    baseline: f64,
    visits: usize,
    /// (e-mails, text messages) sent in the measured visits.
    messages: (usize, usize),
    events: usize,
    /// The dispatcher's run with nothing due: its time and requests.
    idle: (f64, Requests),
}

/// What some calls of one function cost on AWS, by service, in dollars.
fn cost(function_memory_mb: f64, calls: usize, millis: f64, r: &Requests, http: bool) -> BTreeMap<&'static str, f64> {
    let (write, read) = request_units(r, KEYS_ONLY);
    let (dynamo, blobs, kms) = r.round_trips();
    let modelled = millis + dynamo as f64 * DYNAMO_MS + blobs as f64 * S3_MS + kms as f64 * KMS_MS;
    // One invocation a call (a stream's delivery is one).
    let lambda =
        modelled / 1e3 * function_memory_mb / 1024.0 * price::LAMBDA_GB_SECOND + calls as f64 * price::LAMBDA_REQUEST;
    BTreeMap::from([
        ("Lambda", lambda),
        ("API Gateway", if http { calls as f64 * price::HTTP_API_REQUEST } else { 0.0 }),
        ("DynamoDB requests", write * price::WRITE_UNIT + read * price::READ_UNIT),
        ("S3 requests", (r.blob_puts + r.blob_lists) as f64 * price::S3_PUT + r.blob_gets as f64 * price::S3_GET),
        ("KMS requests", r.kms as f64 * price::KMS_REQUEST),
    ])
}

fn report(month: &Month, template: &Value, figures: &Figures) {
    let Figures { scale, baseline, visits, messages, events, .. } = *figures;
    println!(
        "cost model: {visits} visits measured, scaled x{scale} to 1,000 visits a clinic-month (embedded stores, release build)"
    );
    println!("baseline: a hello-world request (a path no route serves) took {baseline:.3} ms (median of 50)\n");
    println!(
        "| step | function | calls a month | ms each (x baseline) | write units each | read units each | store calls each | S3 each | KMS each | $ a month |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut total = BTreeMap::<&str, f64>::new();
    let (mut audit_writes_all, mut audit_writes_keys, mut audited_calls) = (0.0, 0.0, 0usize);
    for (label, step) in &month.steps {
        let r = &step.requests;
        let (function, memory) = memory_mb(template, label);
        let route = ROUTES.iter().any(|r| r.name == label);
        let costs = cost(memory, step.calls, step.millis, r, route);
        for (service, usd) in &costs {
            *total.entry(service).or_default() += usd * scale;
        }
        if route {
            audited_calls += step.calls;
            let audit_only = Requests {
                writes: r.writes.iter().filter(|w| w.table == Table::Audit).cloned().collect(),
                ..Default::default()
            };
            audit_writes_all += request_units(&audit_only, false).0;
            audit_writes_keys += request_units(&audit_only, true).0;
        }
        let n = step.calls as f64;
        let (write, read) = request_units(r, KEYS_ONLY);
        let (dynamo, blobs, kms) = r.round_trips();
        println!(
            "| `{label}` | `{function}` | {} | {:.2} ({:.1}x) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.4} |",
            (n * scale).round(),
            step.millis / n,
            step.millis / n / baseline,
            write / n,
            read / n,
            dynamo as f64 / n,
            blobs as f64 / n,
            kms as f64 / n,
            costs.values().sum::<f64>() * scale
        );
    }
    let (records_bytes, audit_bytes) = stored_bytes(&month.steps, KEYS_ONLY);
    let (_, audit_bytes_all) = stored_bytes(&month.steps, false);
    let (_, audit_bytes_keys) = stored_bytes(&month.steps, true);
    let gb = |b: usize| b as f64 * scale / 1e9;
    *total.entry("DynamoDB storage").or_default() += gb(records_bytes + audit_bytes) * price::DYNAMO_GB_MONTH;
    let kept: usize = ["photos-process", "audit-archive"]
        .iter()
        .filter_map(|l| month.steps.get(*l))
        .map(|s| s.requests.blob_put_bytes)
        .sum();
    *total.entry("S3 storage").or_default() += gb(kept) * price::S3_GB_MONTH;
    *total.entry("SES (e-mail)").or_default() += messages.0 as f64 * scale * price::SES_EMAIL;
    println!("\n| service | $ per clinic-month (1,000 visits) |\n| --- | --- |");
    for (service, usd) in &total {
        println!("| {service} | {usd:.4} |");
    }
    println!("| **total** | **{:.4}** |", total.values().sum::<f64>());
    let texts = messages.1 as f64 * scale;
    println!(
        "\ntext messages: {texts:.0} a month through SNS, about ${:.2} at US rates with carrier fees: passed on to the clinic (`text-sent`), not in the total",
        texts * price::SNS_US_TEXT
    );
    println!(
        "storage added in the month (it accumulates: month n holds n times this): records {:.1} MB, audit {:.1} MB (indexes included), S3 {:.1} MB",
        gb(records_bytes) * 1e3,
        gb(audit_bytes) * 1e3,
        gb(kept) * 1e3
    );
    println!(
        "audit trail: {events} events for {audited_calls} audited calls ({:.2} a call: a list also writes a copy into each listed patient's log)",
        events as f64 / audited_calls as f64
    );
    println!(
        "audit writes per call: {:.2} write units with the indexes projecting ALL, {:.2} projecting KEYS_ONLY; audit storage {:.1} MB vs {:.1} MB a month",
        audit_writes_all / audited_calls as f64,
        audit_writes_keys / audited_calls as f64,
        gb(audit_bytes_all) * 1e3,
        gb(audit_bytes_keys) * 1e3
    );
    // Idle: a clinic without calls costs nothing; the deployment's fixed parts are shared by all clinics.
    let (idle_ms, idle_requests) = &figures.idle;
    let (_, dispatcher_memory) = memory_mb(template, "messages-dispatch");
    let runs = 43_200;
    let dispatcher: f64 =
        cost(dispatcher_memory, 1, *idle_ms, idle_requests, false).values().sum::<f64>() * runs as f64;
    let alarms =
        template["Resources"].as_object().unwrap().values().filter(|r| r["Type"] == "AWS::CloudWatch::Alarm").count();
    println!(
        "idle: a clinic with no calls costs $0 (its set-up items are a few KB); the deployment, whatever its clinics: KMS key ${:.2}, {alarms} alarms ${:.2}, the dispatcher's {runs} empty runs ${dispatcher:.4} a month",
        price::KMS_KEY_MONTH,
        alarms as f64 * price::ALARM_MONTH
    );
}
