//! A clinic's work over stores that fail 10 % of calls (throttled, timed out, or a write whose answer is
//! lost after it was applied): every answer is a success or a 503 problem, a retry with the same
//! `Idempotency-Key` converges to one write, nothing is half-written, and no read is answered without its
//! audit event.

use std::collections::HashSet;

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::faults::Faults;
use vellum_tests::{Backend, Reply, TestApp, clinic_body, patient_body};

/// How many times a request is sent before the test gives up on it.
const ATTEMPTS: usize = 40;
/// Patients registered, each with an allergy, read back and charted.
const PATIENTS: usize = 12;

/// What the workload saw.
#[derive(Default)]
struct Tally {
    requests: usize,
    unavailable: usize,
    /// The request ids of reads answered with data: each must have its audit event.
    answered_reads: Vec<String>,
}

impl Tally {
    /// Sends a request until it is answered with anything but a 503 (always with the same headers, so the
    /// same `Idempotency-Key`); checks that every failure is a 503 problem and the answer a success.
    async fn until_answered(
        &mut self,
        app: &TestApp,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        for _ in 0..ATTEMPTS {
            let reply = app.send(method, path, token, body.clone(), headers).await;
            self.requests += 1;
            self.check(&reply);
            if reply.status == 503 {
                continue;
            }
            assert!((200..300).contains(&reply.status), "{method} {path}: {reply:?}");
            if method == "GET" {
                self.answered_reads.push(reply.header("x-request-id").expect("a request id").to_string());
            }
            return reply;
        }
        panic!("{method} {path} got no answer in {ATTEMPTS} attempts");
    }

    /// The only failure a client may see from a store fault: 503 with a problem body.
    fn check(&mut self, reply: &Reply) {
        if reply.status >= 500 {
            assert_eq!(reply.status, 503, "{reply:?}");
            assert_eq!(reply.header("content-type"), Some("application/problem+json"));
            assert_eq!(reply.body["status"], 503);
            assert!(reply.body["requestId"].is_string());
            self.unavailable += 1;
        }
    }

    async fn post(&mut self, app: &TestApp, path: &str, token: &str, body: Value, key: &str) -> Reply {
        self.until_answered(app, "POST", path, Some(token), Some(body), &[("idempotency-key", key)]).await
    }

    async fn get(&mut self, app: &TestApp, path: &str, token: &str) -> Reply {
        self.until_answered(app, "GET", path, Some(token), None, &[]).await
    }
}

/// A staff member joins with the code of an invitation, retried under one key.
async fn join(app: &TestApp, tally: &mut Tally, user: &str, code: &str) {
    let joiner = app.token(user, None, Role::Joiner);
    let key = format!("join-{user}");
    tally.post(app, "/v1/staff/join", &joiner, json!({"code": code}), &key).await;
}

/// The photo: asked for, uploaded, processed (retried as S3's event would be), and viewed.
async fn photo(app: &TestApp, tally: &mut Tally, nurse: &str, patient: &str) -> Value {
    let bytes = vellum_tests::images::jpeg(640, 480);
    let request = json!({"contentType": "image/jpeg", "byteSize": bytes.len(), "bodyArea": "face", "view": "front",
                         "capturedAt": "2026-11-20T15:00:00Z"});
    let created = tally.post(app, &format!("/v1/patients/{patient}/photos"), nurse, request, "photo-1").await;
    let upload = &created.body["upload"];
    let url = upload["url"].as_str().unwrap();
    for _ in 0..ATTEMPTS {
        let mut put = app.client.put(url).body(bytes.clone());
        for header in upload["headers"].as_array().unwrap() {
            let (name, value) = (header[0].as_str().unwrap(), header[1].as_str().unwrap());
            if !name.eq_ignore_ascii_case("content-length") {
                put = put.header(name, value);
            }
        }
        let status = put.send().await.unwrap().status().as_u16();
        tally.requests += 1;
        if app.backend == Backend::Embedded && status == 503 {
            tally.unavailable += 1;
            continue; // the local server processes on upload; the upload is sent again
        }
        assert_eq!(status, 200);
        break;
    }
    if app.backend == Backend::Aws {
        let key = format!("quarantine/{}", url.split('?').next().unwrap().split_once("/quarantine/").unwrap().1);
        let processed = async {
            for _ in 0..ATTEMPTS {
                if vellum::photos::process::process_upload(&app.app, &key, "faults").await.is_ok() {
                    return true;
                }
            }
            false
        };
        assert!(processed.await, "S3's retries of the event would get it processed");
    }
    let path = format!("/v1/patients/{patient}/photos/{}", created.body["id"].as_str().unwrap());
    tally.get(app, &format!("{path}?rendition=thumbnail"), nurse).await;
    created.body
}

async fn a_clinics_work_over_failing_stores_converges_without_half_writes(backend: Backend) {
    let faults = Faults::new(10, 0x5eed_cafe);
    let app = TestApp::spawn_faulty(backend, faults.clone()).await;
    let mut tally = Tally::default();

    let opened = tally.post(&app, "/v1/clinics", &app.operator(), clinic_body("Stormy"), "open").await;
    let clinic = opened.body["id"].as_str().unwrap().to_string();
    join(&app, &mut tally, "admin-f", opened.body["adminInvitationCode"].as_str().unwrap()).await;
    let admin = app.token("admin-f", Some(&clinic), Role::Admin);
    let invited =
        tally.post(&app, "/v1/staff", &admin, json!({"role": "nurse", "displayName": "Nurse F"}), "invite").await;
    join(&app, &mut tally, "nurse-f", invited.body["code"].as_str().unwrap()).await;
    let nurse = app.token("nurse-f", Some(&clinic), Role::Nurse);

    let mut patients = Vec::new();
    for i in 0..PATIENTS {
        let body = patient_body(&format!("P{i}"), "Storm");
        let created = tally.post(&app, "/v1/patients", &nurse, body, &format!("patient-{i}")).await;
        let id = created.body["id"].as_str().unwrap().to_string();
        tally.get(&app, &format!("/v1/patients/{id}"), &nurse).await;
        let allergy = json!({"substance": format!("Substance {i}"), "severity": "moderate"});
        tally.post(&app, &format!("/v1/patients/{id}/allergies"), &nurse, allergy, &format!("allergy-{i}")).await;
        tally.get(&app, &format!("/v1/patients/{id}/chart"), &nurse).await;
        patients.push(id);
    }
    let photo = photo(&app, &mut tally, &nurse, &patients[0]).await;
    tally.get(&app, "/v1/patients?familyName=storm", &nurse).await;

    let (calls, throttled, timed_out, lost) = faults.counts.snapshot();
    faults.stop();
    eprintln!(
        "{backend:?}: {} requests, {} answered 503 and retried; {calls} store, bucket and key calls, \
         {throttled} throttled, {timed_out} timed out, {lost} writes applied with their answer lost",
        tally.requests, tally.unavailable
    );
    assert!(throttled + timed_out + lost >= 10, "the faults happened: {calls} calls");
    assert!(lost >= 1 && tally.unavailable >= 5, "lost answers: {lost}, 503s: {}", tally.unavailable);

    // One write per retried request: one clinic member each, one patient per registration, one allergy each.
    let staff = app.get("/v1/staff", &admin).await;
    let mut members: Vec<&str> =
        staff.body["items"].as_array().unwrap().iter().map(|m| m["userId"].as_str().unwrap()).collect();
    members.sort();
    assert_eq!(members, ["admin-f", "nurse-f"]);
    let listed = app.get("/v1/patients?familyName=storm&limit=100", &nurse).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), PATIENTS, "{listed:?}");
    for id in &patients {
        let allergies = app.get(&format!("/v1/patients/{id}/allergies"), &nurse).await;
        assert_eq!(allergies.body["items"].as_array().unwrap().len(), 1, "{allergies:?}");
    }
    let photos = app.get(&format!("/v1/patients/{}/photos", patients[0]), &nurse).await;
    let items = photos.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["id"].clone(), items[0]["state"].clone()), (photo["id"].clone(), json!("ready")));

    // Every read answered with data has its audit event.
    let audited: HashSet<String> = app
        .audit(&vellum_tests::Clinic { id: clinic.clone(), admin: admin.clone(), admin_user: "admin-f".into() }, "")
        .await
        .iter()
        .filter(|e| e["outcome"] == "success")
        .map(|e| e["requestId"].as_str().unwrap().to_string())
        .collect();
    let unaudited: Vec<&String> = tally.answered_reads.iter().filter(|id| !audited.contains(*id)).collect();
    assert!(unaudited.is_empty(), "reads answered without their audit event: {unaudited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinics_work_over_failing_stores_converges_on_the_embedded_store() {
    a_clinics_work_over_failing_stores_converges_without_half_writes(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinics_work_over_failing_stores_converges_on_aws() {
    a_clinics_work_over_failing_stores_converges_without_half_writes(Backend::Aws).await;
}
