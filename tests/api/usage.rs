//! Usage: every billable call counted once from the audit stream, however often the stream delivers it
//! (again, three times, or after a delivery that stopped half-way), and read back as the clinic's ledger.

use chrono::Utc;
use serde_json::{Value, json};
use vellum::archive::{Change, StreamRecord};
use vellum::domain::role::Role;
use vellum::metering::meter::meter;
use vellum::store::{Query, SkRange, Table, query_all};
use vellum_tests::{Clinic, TestApp, chart_entry, patient_body};

/// The clinic's audit events as the table's stream would deliver them: one insert each, in order.
async fn stream_of(app: &TestApp, clinic: &Clinic) -> Vec<StreamRecord> {
    let query = Query::new(Table::Audit, format!("CLINIC#{}", clinic.id)).sk(SkRange::All);
    let items = query_all(app.records.as_ref(), query).await.expect("the trail");
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| StreamRecord { sequence: format!("{i:020}"), change: Change::Insert(item) })
        .collect()
}

fn line<'a>(ledger: &'a Value, unit: &str) -> Option<&'a Value> {
    ledger["lines"].as_array().unwrap().iter().find(|l| l["unit"] == unit)
}

async fn every_billable_call_is_counted_once_however_often_the_stream_delivers_it(app: TestApp) {
    let clinic = app.open_clinic("Metered").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Meter")).await;
    let path = format!("/v1/patients/{}", patient["id"].as_str().unwrap());
    for _ in 0..45 {
        assert_eq!(app.get(&path, &clinic.admin).await.status, 200);
    }
    assert_eq!(app.get("/v1/patients?limit=10", &clinic.admin).await.status, 200);
    let (billing, _) = app.member(&clinic, Role::Billing).await;
    assert_eq!(app.post("/v1/patients", &billing, patient_body("No", "Access")).await.status, 403);
    let stream = stream_of(&app, &clinic).await;
    let now = Utc::now();
    // A delivery that stopped half-way (its first transactions committed), then the whole one again, then
    // three more times: the totals are those of one delivery.
    let first = meter(app.records.as_ref(), &stream[..30], now).await.expect("metered");
    assert!(first.counted > 0, "{first:?}");
    let whole = meter(app.records.as_ref(), &stream, now).await.expect("metered");
    assert_eq!(whole.duplicates, first.counted, "{whole:?}");
    let ledger = || async { app.get("/v1/usage", &billing).await };
    let once = ledger().await;
    assert_eq!(once.status, 200, "{once:?}");
    for _ in 0..3 {
        let again = meter(app.records.as_ref(), &stream, now).await.expect("metered");
        assert_eq!(again.counted, 0, "{again:?}");
    }
    let after = ledger().await;
    assert_eq!(after.body["lines"], once.body["lines"]);
    let body = &after.body;
    assert_eq!(line(body, "record-read").unwrap()["count"], 45, "{body}");
    assert_eq!(line(body, "search-page").unwrap()["count"], 1, "{body}");
    // The patient's registration, the clinic's own set-up writes (the staff invitation) count as writes.
    assert!(line(body, "record-write").unwrap()["count"].as_u64().unwrap() >= 1, "{body}");
    let refused = line(body, "refused-call").unwrap();
    assert_eq!((refused["count"].as_u64(), refused["amountUsd"].as_str()), (Some(1), Some("0.000000")), "{body}");
    assert_eq!(line(body, "record-read").unwrap()["amountUsd"], "0.000900");
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(body["daily"][0]["date"], today.as_str());
}

async fn the_ledger_is_the_clinics_own_and_its_month_is_checked(app: TestApp) {
    let clinic = app.open_clinic("Ledger").await;
    let other = app.open_clinic("Other").await;
    let stream = stream_of(&app, &other).await;
    meter(app.records.as_ref(), &stream, Utc::now()).await.expect("metered");
    // Another clinic's use is not in this clinic's ledger.
    let mine = app.get("/v1/usage", &clinic.admin).await;
    assert_eq!((mine.status, mine.body["lines"].clone()), (200, json!([])), "{mine:?}");
    let (nurse, _) = app.member(&clinic, Role::Nurse).await;
    assert_eq!(app.get("/v1/usage", &nurse).await.status, 403);
    assert_eq!(app.get("/v1/usage?month=2026-13", &clinic.admin).await.status, 400);
    assert_eq!(app.get("/v1/usage?month=December", &clinic.admin).await.status, 400);
    assert_eq!(app.get("/v1/usage?month=2999-01", &clinic.admin).await.status, 422);
    let past = app.get("/v1/usage?month=2025-01", &clinic.admin).await;
    assert_eq!((past.status, past.body["month"].as_str()), (200, Some("2025-01")));
}

/// The stream's records with each event's time moved to `time` (as if it had been delayed that long).
fn dated(stream: &[StreamRecord], time: &str) -> Vec<StreamRecord> {
    stream
        .iter()
        .map(|record| {
            let Change::Insert(item) = &record.change else { return record.clone() };
            let mut item = item.clone();
            item.insert("eventTime".into(), json!(time));
            StreamRecord { sequence: record.sequence.clone(), change: Change::Insert(item) }
        })
        .collect()
}

async fn a_closed_month_never_changes_and_late_events_land_in_the_open_one(app: TestApp) {
    let clinic = app.open_clinic("Closing").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Late")).await;
    let path = format!("/v1/patients/{}", patient["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &clinic.admin).await.status, 200);
    let stream = stream_of(&app, &clinic).await;
    let reads = |ledger: &Value| line(ledger, "record-read").map(|l| l["count"].clone());
    let this_month = Utc::now().format("%Y-%m").to_string();
    // An event of a month long closed, delivered now: counted today, marked late; its month is untouched.
    let old = dated(&stream, "2025-03-31T23:59:00.000000Z");
    let report = meter(app.records.as_ref(), &old, Utc::now()).await.expect("metered");
    assert!(report.counted > 0, "{report:?}");
    let march = app.get("/v1/usage?month=2025-03", &clinic.admin).await;
    assert_eq!((march.body["closed"].as_bool(), march.body["lines"].clone()), (Some(true), json!([])), "{march:?}");
    let now = app.get(&format!("/v1/usage?month={this_month}"), &clinic.admin).await;
    assert_eq!(reads(&now.body), Some(json!(1)), "{now:?}");
    assert!(now.body["note"].as_str().unwrap().contains("after their own month had closed"), "{now:?}");
    assert_eq!(now.body["daily"][0]["late"].as_u64(), Some(report.counted as u64));
    // Within the grace day the month still takes its own events.
    let fresh = stream_of(&app, &clinic).await;
    let april_end = dated(&fresh[fresh.len() - 1..], "2025-04-30T23:00:00.000000Z");
    let grace = "2025-05-01T12:00:00Z".parse().unwrap();
    meter(app.records.as_ref(), &april_end, grace).await.expect("metered");
    let april = app.get("/v1/usage?month=2025-04", &clinic.admin).await;
    assert_eq!(april.body["lines"].as_array().unwrap().len(), 1, "{april:?}");
    // The same month as CSV, and every clinic's totals for the operator.
    let csv = app
        .client
        .get(format!("{}/v1/usage.csv?month={this_month}", app.base))
        .bearer_auth(&clinic.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("date,unit,count,late,weight,price_usd,amount_before_included_usd"));
    assert!(rows.any(|r| r.contains(",record-read,1,1,1,0.000020,0.000020")), "{text}");
    let all = app.get(&format!("/v1/operator/usage?month={this_month}"), &app.operator()).await;
    assert_eq!(all.status, 200, "{all:?}");
    let mine = all.body["items"].as_array().unwrap().iter().find(|c| c["clinicId"] == clinic.id.as_str()).cloned();
    assert!(mine.is_some_and(|c| c["lines"].as_array().unwrap().iter().any(|l| l["unit"] == "record-read")), "{all:?}");
    assert_eq!(app.get("/v1/operator/usage", &clinic.admin).await.status, 403);
}

async fn the_operator_sets_a_plan_and_its_burst_quota_holds_back_all_but_the_chart(app: TestApp) {
    let clinic = app.open_clinic("Planned").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Quota")).await;
    let id = patient["id"].as_str().unwrap().to_string();
    let operator = app.operator();
    let (billing, _) = app.member(&clinic, Role::Billing).await;
    let plan_path = format!("/v1/operator/clinics/{}/plan", clinic.id);
    // The list plan until the operator sets one; only the operator sets one, with If-Match once it exists.
    let listed = app.get("/v1/plan", &clinic.admin).await;
    assert_eq!((listed.status, listed.body["burstUnitsPerMinute"].as_u64()), (200, Some(20_000)), "{listed:?}");
    let plan = json!({"name": "Small clinic", "prices": {"record-read": 10}, "included": {"record-read": 5},
                      "monthlyCapUsd": 100, "atCap": "soft", "burstUnitsPerMinute": 40});
    assert_eq!(app.send("PUT", &plan_path, Some(&clinic.admin), Some(plan.clone()), &[]).await.status, 403);
    let bad = json!({"name": "Bad", "prices": {"record-read": -1, "nonsense": 1}});
    assert_eq!(app.send("PUT", &plan_path, Some(&operator), Some(bad), &[]).await.status, 400);
    let unknown = format!("/v1/operator/clinics/{}/plan", ulid::Ulid::new());
    assert_eq!(app.send("PUT", &unknown, Some(&operator), Some(plan.clone()), &[]).await.status, 404);
    let set = app.send("PUT", &plan_path, Some(&operator), Some(plan.clone()), &[]).await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(app.send("PUT", &plan_path, Some(&operator), Some(plan.clone()), &[]).await.status, 428);
    assert_eq!(
        app.send("PUT", &plan_path, Some(&operator), Some(plan.clone()), &[("if-match", "\"7\"")]).await.status,
        412
    );
    // 40 units a minute: reads (1 each) until the quota is used, then 429 with the quota's headers. (Up to
    // 90: reads that straddle a minute's end still put over 40 into one of the two minutes.)
    let read = format!("/v1/patients/{id}");
    let mut refused = None;
    for _ in 0..90 {
        let reply = app.get(&read, &clinic.admin).await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let refused = refused.expect("the quota held a read back");
    assert_eq!(refused.header("ratelimit-policy"), Some("\"burst\";q=40;w=60"));
    let wait: u32 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{refused:?}");
    assert_eq!(refused.header("ratelimit"), Some(format!("\"burst\";r=0;t={wait}").as_str()));
    assert_eq!(refused.body["type"], "urn:vellum:problem:over-quota");
    // The chart is never held back.
    assert_eq!(app.get(&format!("/v1/patients/{id}/chart"), &clinic.admin).await.status, 200);
    assert_eq!(app.get(&format!("/v1/patients/{id}/allergies"), &clinic.admin).await.status, 200);
    // The ledger prices on the plan: the included reads come off first.
    let stream = stream_of(&app, &clinic).await;
    meter(app.records.as_ref(), &stream, Utc::now()).await.expect("metered");
    // The operator raises the quota: it holds from the next call.
    let mut raised = plan.clone();
    raised["burstUnitsPerMinute"] = json!(10_000);
    let set = app.send("PUT", &plan_path, Some(&operator), Some(raised), &[("if-match", "\"1\"")]).await;
    assert_eq!(set.status, 200, "{set:?}");
    let ledger = app.get("/v1/usage", &billing).await;
    assert_eq!(ledger.status, 200, "{ledger:?}");
    let reads = line(&ledger.body, "record-read").unwrap();
    let count = reads["count"].as_u64().unwrap();
    assert_eq!((reads["included"].as_u64(), reads["priceUsd"].as_str()), (Some(5), Some("0.000010")), "{reads}");
    assert_eq!(reads["amountUsd"], vellum::metering::dollars((count - 5) * 10).as_str());
    assert_eq!(ledger.body["cap"]["capUsd"], 100);
}

/// The clinic's queued notices of `template`, as (address, status).
async fn notices(app: &TestApp, clinic: &Clinic, template: &str) -> Vec<(String, String)> {
    let query = Query::new(Table::Records, format!("CLINIC#{}", clinic.id)).sk(SkRange::Prefix("OUTBOX#".into()));
    let items = query_all(app.records.as_ref(), query).await.expect("the outbox");
    items
        .iter()
        .filter(|m| m["template"] == template)
        .map(|m| (m["to"].as_str().unwrap().to_string(), m["status"].as_str().unwrap().to_string()))
        .collect()
}

async fn a_spend_cap_warns_the_admins_and_a_hard_one_stops_changes_but_never_the_chart(app: TestApp) {
    let clinic = app.open_clinic("Capped").await;
    let patient = app.patient(&clinic, patient_body("Ada", "Cap")).await;
    let id = patient["id"].as_str().unwrap().to_string();
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let office = json!({"role": "admin", "displayName": "Office Manager", "email": "office@clinic.example"});
    let invited = app.post("/v1/staff", &clinic.admin, office).await;
    let code = invited.body["code"].as_str().expect("a code").to_string();
    assert_eq!(app.join(&format!("office-{}", ulid::Ulid::new()), &code).await.status, 200);
    let operator = app.operator();
    let plan_path = format!("/v1/operator/clinics/{}/plan", clinic.id);
    // A dollar a change and nothing else, capped at $10, hard.
    let free: serde_json::Map<String, Value> =
        vellum::metering::Unit::ALL.iter().map(|u| (u.to_string(), json!(0))).collect();
    let mut prices = Value::Object(free);
    prices["record-write"] = json!(1_000_000);
    let plan = json!({"name": "Capped", "prices": prices, "monthlyCapUsd": 10, "atCap": "hard"});
    assert_eq!(app.send("PUT", &plan_path, Some(&operator), Some(plan.clone()), &[]).await.status, 200);
    let metered_spend = || async {
        meter(app.records.as_ref(), &stream_of(&app, &clinic).await, Utc::now()).await.expect("metered");
        let ledger = app.get("/v1/usage", &clinic.admin).await;
        assert_eq!(ledger.status, 200, "{ledger:?}");
        ledger.body
    };
    let spent = |ledger: &Value| ledger["totalUsd"].as_str().unwrap().parse::<f64>().unwrap() as u32;
    let register = |n: u32| {
        let app = &app;
        let admin = clinic.admin.clone();
        async move { app.post("/v1/patients", &admin, patient_body("Reg", &format!("Number{n}"))).await }
    };
    // Changes up to $8: 80 % of the cap, a notice to the administrator who has an address, nothing stopped.
    let mut ledger = metered_spend().await;
    for n in spent(&ledger)..8 {
        assert_eq!(register(n).await.status, 201);
    }
    ledger = metered_spend().await;
    assert_eq!((spent(&ledger), ledger["cap"]["reachedPercent"].as_u64()), (8, Some(80)), "{ledger}");
    assert_eq!(ledger["cap"]["changesStopped"], false);
    let near = notices(&app, &clinic, "spend-near-cap").await;
    assert_eq!(near, [("office@clinic.example".to_string(), "queued".to_string())], "{near:?}");
    // Metering the same trail again raises nothing again.
    metered_spend().await;
    assert_eq!(notices(&app, &clinic, "spend-near-cap").await.len(), 1);
    for n in 8..10 {
        assert_eq!(register(n).await.status, 201);
    }
    ledger = metered_spend().await;
    assert_eq!((spent(&ledger), ledger["cap"]["reachedPercent"].as_u64()), (10, Some(100)), "{ledger}");
    assert_eq!(ledger["cap"]["changesStopped"], true);
    assert_eq!(notices(&app, &clinic, "spend-at-hard-cap").await.len(), 1);
    // At the hard cap: a change is 402; the chart is still read and written; reads go on.
    let refused = register(99).await;
    assert_eq!(refused.status, 402, "{refused:?}");
    assert_eq!(refused.body["type"], "urn:vellum:problem:spend-cap-reached");
    assert!(refused.body["detail"].as_str().unwrap().contains("$10"), "{refused:?}");
    let allergy = chart_entry("allergies").0;
    assert_eq!(app.post(&format!("/v1/patients/{id}/allergies"), &practitioner, allergy).await.status, 201);
    assert_eq!(app.get(&format!("/v1/patients/{id}/chart"), &practitioner).await.status, 200);
    assert_eq!(app.get(&format!("/v1/patients/{id}"), &clinic.admin).await.status, 200);
    // The operator raises the cap: changes go through again at once.
    let mut raised = plan.clone();
    raised["monthlyCapUsd"] = json!(100);
    let set = app.send("PUT", &plan_path, Some(&operator), Some(raised), &[("if-match", "\"1\"")]).await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(register(100).await.status, 201);
    ledger = metered_spend().await;
    assert_eq!(
        (ledger["cap"]["reachedPercent"].clone(), ledger["cap"]["changesStopped"].clone()),
        (json!(null), json!(false))
    );
}

async fn a_soft_cap_flags_and_keeps_serving_and_a_patient_is_active_once_a_month(app: TestApp) {
    let clinic = app.open_clinic("Soft").await;
    let operator = app.operator();
    let plan = json!({"name": "Soft", "prices": {"record-write": 1_000_000}, "monthlyCapUsd": 1, "atCap": "soft"});
    let plan_path = format!("/v1/operator/clinics/{}/plan", clinic.id);
    assert_eq!(app.send("PUT", &plan_path, Some(&operator), Some(plan), &[]).await.status, 200);
    let patient = app.patient(&clinic, patient_body("Ada", "Active")).await;
    let path = format!("/v1/patients/{}", patient["id"].as_str().unwrap());
    for _ in 0..3 {
        assert_eq!(app.get(&path, &clinic.admin).await.status, 200);
    }
    let report = meter(app.records.as_ref(), &stream_of(&app, &clinic).await, Utc::now()).await.expect("metered");
    assert!(report.counted > 0);
    let ledger = app.get("/v1/usage", &clinic.admin).await;
    // Four calls about one patient: one active patient. No administrator has an address: the clinic gets it.
    assert_eq!(line(&ledger.body, "active-patient").unwrap()["count"], 1, "{ledger:?}");
    assert_eq!(ledger.body["cap"]["reachedPercent"], 100, "{ledger:?}");
    assert_eq!(ledger.body["cap"]["changesStopped"], false);
    assert_eq!(notices(&app, &clinic, "spend-at-cap").await.len(), 1);
    assert_eq!(notices(&app, &clinic, "spend-at-cap").await[0].0, "front@clinic.example");
    assert_eq!(app.post("/v1/patients", &clinic.admin, patient_body("Still", "Served")).await.status, 201);
}

async fn a_closed_month_is_exported_once_as_the_payment_provider_s_meter_events(app: TestApp) {
    use vellum::metering::export::{ExportError, export, keys};
    let billed = app.open_clinic("Billed").await;
    let unbilled = app.open_clinic("Unbilled").await;
    let operator = app.operator();
    let plan = |customer: Option<&str>| {
        let mut plan = json!({"name": "Billed", "included": {"record-read": 2}});
        if let Some(customer) = customer {
            plan["stripeCustomerId"] = json!(customer);
        }
        plan
    };
    let set = |clinic: &Clinic, plan: Value| {
        let path = format!("/v1/operator/clinics/{}/plan", clinic.id);
        let (app, operator) = (&app, operator.clone());
        async move { app.send("PUT", &path, Some(&operator), Some(plan), &[]).await }
    };
    let refused = set(&billed, plan(Some("not-a-customer"))).await;
    assert_eq!((refused.status, refused.error_fields()), (422, vec!["stripeCustomerId".to_string()]), "{refused:?}");
    assert_eq!(set(&billed, plan(Some("cus_NffrFeUfNV2Hib"))).await.status, 200);
    assert_eq!(set(&unbilled, plan(None)).await.status, 200);
    let patient = app.patient(&billed, patient_body("Ada", "Export")).await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/v1/patients/{}", patient["id"].as_str().unwrap()), &billed.admin).await.status,
            200
        );
    }
    app.patient(&unbilled, patient_body("Bo", "Export")).await;
    // Their trails, as if they had happened in June 2025 and been metered then.
    let june = "2025-06-01".parse().unwrap();
    let in_june = "2025-06-20T12:00:00Z".parse().unwrap();
    for clinic in [&billed, &unbilled] {
        let stream = dated(&stream_of(&app, clinic).await, "2025-06-20T10:00:00.000000Z");
        meter(app.records.as_ref(), &stream, in_june).await.expect("metered");
    }
    let blobs = app.app.archive.clone().expect("the archive's store");
    let open = export(app.records.as_ref(), blobs.as_ref(), june, in_june).await;
    assert!(matches!(open, Err(ExportError::Open(_))), "{open:?}");
    let in_july = "2025-07-05T00:00:00Z".parse().unwrap();
    let first = export(app.records.as_ref(), blobs.as_ref(), june, in_july).await.expect("exported");
    assert!(first.written && first.without_customer.iter().any(|c| c.to_string() == unbilled.id), "{first:?}");
    let (events_key, manifest_key) = keys("2025-06");
    let file = String::from_utf8(blobs.get(&events_key).await.unwrap().expect("the file")).unwrap();
    let mine: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["identifier"].as_str().unwrap().contains(&billed.id))
        .collect();
    let event = |name: &str| mine.iter().find(|e| e["event_name"] == name).cloned();
    let reads = event("vellum_record_read").expect("the billable reads");
    // Three reads and the ledger's, less the two included; stamped with June's last second.
    assert_eq!(reads["payload"]["stripe_customer_id"], "cus_NffrFeUfNV2Hib");
    assert_eq!(reads["identifier"], format!("vellum-2025-06-{}-record-read", billed.id).as_str());
    assert_eq!(reads["timestamp"], 1751327999, "{reads}");
    assert_eq!(event("vellum_active_patient").unwrap()["payload"]["value"], "1");
    assert!(event("vellum_refused_call").is_none() && !file.contains(&unbilled.id), "{file}");
    let manifest: Value = serde_json::from_slice(&blobs.get(&manifest_key).await.unwrap().unwrap()).unwrap();
    assert_eq!(manifest["events"].as_u64(), Some(first.events as u64));
    // Exporting again writes nothing and changes nothing.
    let again = export(app.records.as_ref(), blobs.as_ref(), june, in_july).await.expect("exported");
    assert_eq!((again.written, again.events), (false, first.events));
    assert_eq!(String::from_utf8(blobs.get(&events_key).await.unwrap().unwrap()).unwrap(), file);
}

on_both_backends!(
    a_closed_month_is_exported_once_as_the_payment_provider_s_meter_events,
    a_spend_cap_warns_the_admins_and_a_hard_one_stops_changes_but_never_the_chart,
    a_soft_cap_flags_and_keeps_serving_and_a_patient_is_active_once_a_month,
    the_operator_sets_a_plan_and_its_burst_quota_holds_back_all_but_the_chart,
    every_billable_call_is_counted_once_however_often_the_stream_delivers_it,
    the_ledger_is_the_clinics_own_and_its_month_is_checked,
    a_closed_month_never_changes_and_late_events_land_in_the_open_one,
);
