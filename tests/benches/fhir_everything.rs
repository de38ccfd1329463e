//! `Patient/{id}/$everything` of a patient with a long chart and many photos, read to its last page: the
//! store's requests and the time, on the embedded store and on DynamoDB (moto). The baseline, in the same
//! run: the JSON API reading the same records (the patient, then each kind's list and the photos' list,
//! page by page at its largest page size).
//!
//!
//! Then the patient's export of the same record: the worker's build of the ZIP, its size and throughput
//! (MB of ZIP a second). Its baseline, in the same run: the JSON API's lists again and each photo opened
//! through its view, which is what the export reads.
//!
//! `cargo bench -p vellum-tests --bench fhir_everything -- [--entries N] [--photos N] [--smoke]`, with
//! `VELLUM_TEST_AWS_ENDPOINT` naming a running moto (`bash tests/bench-report.sh` starts one).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum_tests::{Backend, StoreCounts, TestApp, patient_body, treatment_body};

/// What reading the whole record cost: wall time, pages, resources or entries, and store requests.
struct Cost {
    time: Duration,
    pages: usize,
    items: usize,
    gets: usize,
    queries: usize,
}

/// The body of the `n`th entry of the chart: the kinds FHIR serves in turn.
fn entry(n: usize) -> (&'static str, Value) {
    match n % 5 {
        0 => ("conditions", json!({"code": "L70.0", "note": format!("entry {n}")})),
        1 => ("allergies", json!({"substance": format!("Substance {n}"), "reaction": "Hives", "severity": "mild"})),
        2 => ("medications", json!({"name": format!("Medication {n}"), "dose": "1 tablet", "status": "active"})),
        3 => (
            "vitals",
            json!({"measuredAt": "2026-11-20T10:00:00Z", "bloodPressure": {"systolic": 118, "diastolic": 76},
                   "heartRate": 64, "weight": {"value": 60, "unit": "kg"}, "height": {"value": 165, "unit": "cm"}}),
        ),
        _ => ("treatments", treatment_body(&format!("LOT-{n}"), "2099-01-31")),
    }
}

/// Follows `first` and its next links (`next` finds one in an answer) to the last page.
async fn read_all(
    app: &TestApp,
    counts: &StoreCounts,
    token: &str,
    first: &[String],
    next: impl Fn(&str, &Value) -> Option<String>,
    items: impl Fn(&Value) -> usize,
) -> Cost {
    let (gets, queries, ..) = counts.snapshot();
    let started = Instant::now();
    let (mut pages, mut total) = (0, 0);
    for start in first {
        let mut path = Some(start.clone());
        while let Some(p) = path {
            let reply = app.get(&p, token).await;
            assert_eq!(reply.status, 200, "{p}: {reply:?}");
            pages += 1;
            total += items(&reply.body);
            path = next(&p, &reply.body);
        }
    }
    let time = started.elapsed();
    let (gets_after, queries_after, ..) = counts.snapshot();
    Cost { time, pages, items: total, gets: gets_after - gets, queries: queries_after - queries }
}

async fn measure(backend: Backend, entries: usize, photos: usize) {
    let (app, counts) = TestApp::spawn_counting(backend).await;
    let clinic = app.open_clinic("Everything").await;
    let (practitioner, _) = app.member(&clinic, Role::Practitioner).await;
    let patient = app.patient(&clinic, patient_body("Long", "Chart")).await["id"].as_str().unwrap().to_string();
    for n in 0..entries {
        let (segment, body) = entry(n);
        let made = app.post(&format!("/v1/patients/{patient}/{segment}"), &practitioner, body).await;
        assert_eq!(made.status, 201, "{segment}: {made:?}");
    }
    let mut photo_ids = Vec::new();
    for n in 0..photos {
        let view = ["front", "left-oblique", "right-oblique", "left-profile", "right-profile"][n % 5];
        let jpeg = vellum_tests::images::jpeg(320, 240);
        let (made, uploaded) = app.photo(&practitioner, &patient, "image/jpeg", jpeg, json!({"view": view})).await;
        assert!(uploaded.status < 300, "{uploaded:?}");
        photo_ids.push(made["id"].as_str().unwrap().to_string());
    }
    let base = app.base.clone();
    let fhir = read_all(
        &app,
        &counts,
        &practitioner,
        &[format!("/fhir/R4/Patient/{patient}/$everything?_count=100")],
        |_, bundle| {
            let link = bundle["link"].as_array()?.iter().find(|l| l["relation"] == "next")?;
            link["url"].as_str().map(|u| u.trim_start_matches(base.as_str()).to_string())
        },
        |bundle| bundle["entry"].as_array().map_or(0, Vec::len),
    )
    .await;
    let mut lists = vec![format!("/v1/patients/{patient}")];
    lists.extend(
        ["conditions", "allergies", "medications", "vitals", "treatments", "photos"]
            .iter()
            .map(|segment| format!("/v1/patients/{patient}/{segment}?limit=100")),
    );
    let json_api = read_all(
        &app,
        &counts,
        &practitioner,
        &lists,
        |path, page| {
            let cursor = page["nextCursor"].as_str()?;
            Some(format!("{}&cursor={cursor}", path.split("&cursor=").next().unwrap_or(path)))
        },
        |page| page["items"].as_array().map_or(1, Vec::len),
    )
    .await;
    let name = match backend {
        Backend::Embedded => "embedded store",
        Backend::Aws => "DynamoDB (moto)",
    };
    let what = format!("{entries} entries and {photos} photos");
    println!("$everything of a patient with {what}, on the {name}:");
    for (what, cost) in
        [("FHIR $everything (_count=100)", &fhir), ("baseline: the JSON API's lists (limit=100)", &json_api)]
    {
        println!(
            "  {what}: {:.0} ms, {} pages, {} items, {} store queries and {} gets",
            cost.time.as_secs_f64() * 1000.0,
            cost.pages,
            cost.items,
            cost.queries,
            cost.gets
        );
    }
    let ratio = fhir.time.as_secs_f64() / json_api.time.as_secs_f64();
    println!("  time: {ratio:.2}× the baseline");
    println!("report: $everything of {what}, {name}\t{:.0}\tms", fhir.time.as_secs_f64() * 1000.0);
    println!("report: $everything of {what}, {name}, against the JSON API's lists\t{ratio:.2}\t×");
    println!("report: $everything of {what}, {name}, store requests\t{}\tqueries and gets", fhir.queries + fhir.gets);

    // The patient's export of the same record, built by the worker.
    let made = app.post(&format!("/v1/patients/{patient}/exports"), &practitioner, json!({})).await;
    assert_eq!(made.status, 201, "{made:?}");
    let started = Instant::now();
    let report = vellum::exports::run(&app.app, app.app.clock.now()).await.expect("the export is built");
    let built = started.elapsed();
    assert_eq!(report.built, 1, "{report:?}");
    let export =
        app.get(&format!("/v1/patients/{patient}/exports/{}", made.body["id"].as_str().unwrap()), &practitioner).await;
    let bytes = export.body["bytes"].as_u64().expect("a ready export's size");
    let started = Instant::now();
    for photo in &photo_ids {
        let viewed =
            app.client.get(format!("{}/v1/patients/{patient}/photos/{photo}", app.base)).bearer_auth(&practitioner);
        assert_eq!(viewed.send().await.unwrap().status().as_u16(), 200);
    }
    let opened = started.elapsed() + json_api.time;
    let mb = bytes as f64 / 1_000_000.0;
    let throughput = mb / built.as_secs_f64();
    let ratio = built.as_secs_f64() / opened.as_secs_f64();
    println!(
        "  export: {:.0} ms for a ZIP of {mb:.2} MB ({} resources), {throughput:.2} MB/s; baseline (the lists and each photo opened): {:.0} ms; {ratio:.2}× the baseline",
        built.as_secs_f64() * 1000.0,
        export.body["contents"]["resources"],
        opened.as_secs_f64() * 1000.0
    );
    println!("report: export of {what}, {name}\t{throughput:.2}\tMB/s");
    println!("report: export of {what}, {name}, against reading it through the JSON API\t{ratio:.2}\t×");
}

#[tokio::main]
async fn main() {
    let (mut entries, mut photos) = (500, 50);
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--entries" => entries = given.next().and_then(|n| n.parse().ok()).expect("--entries takes a number"),
            "--photos" => photos = given.next().and_then(|n| n.parse().ok()).expect("--photos takes a number"),
            "--smoke" => (entries, photos) = (10, 2),
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    measure(Backend::Embedded, entries, photos).await;
    measure(Backend::Aws, entries, photos).await;
}
