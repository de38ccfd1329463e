//! The audit archive: the stream's events chained in hashed batches exactly once, tampering seen, and a
//! verifier that names every break (a changed byte, a deleted line, a dropped or moved batch).

use std::sync::Arc;

use serde_json::{Value, json};
use vellum::archive::batch::Batch;
use vellum::archive::verify::{Depth, Window, verify};
use vellum::archive::{Archive, Change, StreamRecord};
use vellum::blobs::Blobs;
use vellum::store::{Cond, Item, Query, SkRange, Table, Write};
use vellum_tests::{Clinic, TestApp, patient_body};

/// The archive of a test's server (its bucket on moto, a folder locally).
fn archive_of(app: &TestApp) -> Archive {
    Archive { records: app.records.clone(), blobs: app.app.archive.clone().expect("the test server has an archive") }
}

/// What the audit table's stream would deliver for the clinic's events so far: an insert of each, in the
/// order they were written, and of the copies a search put in the listed patients' logs (which the
/// archive leaves out: the original names them).
async fn inserts(app: &TestApp, clinic: &Clinic) -> Vec<StreamRecord> {
    let pk = format!("CLINIC#{}", clinic.id);
    let mut items = app.records.query(Query::new(Table::Audit, pk).sk(SkRange::All).limit(1000)).await.unwrap().items;
    let mut copies = Vec::new();
    for event in items.iter().filter(|e| e.contains_key("listedPatients")) {
        for patient in event["listedPatients"].as_array().unwrap() {
            let mut copy = event.clone();
            copy.insert("PK".into(), json!(format!("CLINIC#{}#LISTED#{}", clinic.id, patient.as_str().unwrap())));
            copies.push(copy);
        }
    }
    items.extend(copies);
    items.sort_by(|a, b| a["SK"].as_str().cmp(&b["SK"].as_str()));
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| StreamRecord { sequence: format!("{i:020}"), change: Change::Insert(item) })
        .collect()
}

fn originals(records: &[StreamRecord]) -> usize {
    records
        .iter()
        .filter(|r| matches!(&r.change, Change::Insert(i) if !i["PK"].as_str().unwrap().contains("#LISTED")))
        .count()
}

/// The keys of a chain's batch objects, in order of their place.
async fn batch_keys(archive: &Archive, chain: &str) -> Vec<String> {
    let page = archive.blobs.list(&Batch::chain_prefix(chain), None).await.unwrap();
    page.objects.into_iter().map(|o| o.key).collect()
}

async fn some_work(app: &TestApp, clinic: &Clinic, family: &str) {
    let patient = app.patient(clinic, patient_body("Ana", family)).await;
    app.get(&format!("/v1/patients/{}", patient["id"].as_str().unwrap()), &clinic.admin).await;
    app.get(&format!("/v1/patients?familyName={}", family.to_lowercase()), &clinic.admin).await;
}

async fn the_archive_chains_every_event_once_and_the_verifier_passes(app: TestApp) {
    let archive = archive_of(&app);
    let clinic = app.open_clinic("Archived").await;
    some_work(&app, &clinic, "First").await;
    let delivered = inserts(&app, &clinic).await;
    let now = app.app.clock.now();
    let first = archive.handle(delivered.clone(), now).await.unwrap();
    assert_eq!((first.archived, first.batches, first.duplicates), (originals(&delivered), 1, 0), "{first:?}");
    let again = archive.handle(delivered.clone(), now).await.unwrap();
    assert_eq!((again.archived, again.batches, again.duplicates), (0, 0, originals(&delivered)), "redelivered");

    some_work(&app, &clinic, "Second").await;
    let all = inserts(&app, &clinic).await;
    let second = archive.handle(all.clone(), now).await.unwrap();
    assert_eq!(second.archived, originals(&all) - originals(&delivered), "{second:?}");
    assert_eq!(second.batches, 1);
    let checked = verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, Window::default(), Depth::Whole)
        .await
        .unwrap();
    assert!(checked.passed(), "{checked:?}");
    assert_eq!((checked.batches, checked.archived_events, checked.table_events), (2, originals(&all), originals(&all)));
    let empty = verify(
        archive.records.as_ref(),
        archive.blobs.as_ref(),
        &clinic.id,
        Window { from: Some("2999"), ..Window::default() },
        Depth::Whole,
    )
    .await
    .unwrap();
    assert!(
        empty.passed() && empty.archived_events == 0 && empty.table_events == 0,
        "an empty window passes: {empty:?}"
    );
}

async fn an_overwritten_event_is_archived_as_tampering_and_recorded(app: TestApp) {
    let archive = archive_of(&app);
    let clinic = app.open_clinic("Tampered").await;
    some_work(&app, &clinic, "Tamper").await;
    archive.handle(inserts(&app, &clinic).await, app.app.clock.now()).await.unwrap();
    let Change::Insert(old) = inserts(&app, &clinic).await.remove(1).change else { unreachable!() };
    let mut new: Item = old.clone();
    new.insert("outcome".into(), json!("denied"));
    app.records.transact(vec![Write::put(Table::Audit, new.clone(), Cond::Always)]).await.unwrap();
    let overwrite = StreamRecord { sequence: "9".repeat(20), change: Change::Modify { old: old.clone(), new } };
    let report = archive.handle(vec![overwrite.clone()], app.app.clock.now()).await.unwrap();
    assert_eq!((report.tampered, report.batches), (1, 1), "{report:?}");
    assert!(vellum::archive::tamper_metric_line(1).contains("\"AuditTampering\":1"));
    let events = app.audit(&clinic, "").await;
    let tamper = events.iter().find(|e| e["eventName"] == "audit.tamper").expect("a tamper event");
    assert_eq!(tamper["resources"][0], json!({"type": "audit-event", "id": old["eventId"]}));
    assert_eq!(tamper["userIdentity"]["role"], "system");
    let second = batch_keys(&archive, &clinic.id).await[1].clone();
    let batch = Batch::parse(&archive.blobs.get(&second).await.unwrap().unwrap()).unwrap();
    let line: Value = serde_json::from_str(&batch.lines[0]).unwrap();
    assert_eq!(
        (line["tamper"].clone(), line["oldImage"]["outcome"].clone()),
        (json!("modify"), old["outcome"].clone())
    );
    let checked = verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, Window::default(), Depth::Whole)
        .await
        .unwrap();
    let differs = format!("event {} differs between the table and the archive", old["eventId"].as_str().unwrap());
    assert!(checked.findings.contains(&differs), "{checked:?}");
    // The stream's redelivery of the overwrite is not a second tampering line, nor a second tamper event.
    let again = archive.handle(vec![overwrite], app.app.clock.now()).await.unwrap();
    assert_eq!((again.batches, again.tampered), (0, 0));
    let tampers = app.audit(&clinic, "").await.iter().filter(|e| e["eventName"] == "audit.tamper").count();
    assert_eq!(tampers, 1);
}

async fn the_verifier_names_every_break(app: TestApp) {
    let archive = archive_of(&app);
    let clinic = app.open_clinic("Verified").await;
    for family in ["One", "Two", "Three"] {
        some_work(&app, &clinic, family).await;
        archive.handle(inserts(&app, &clinic).await, app.app.clock.now()).await.unwrap();
    }
    let check = || async {
        verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, Window::default(), Depth::Whole)
            .await
            .unwrap()
    };
    assert!(check().await.passed(), "{:?}", check().await);
    let keys = batch_keys(&archive, &clinic.id).await;
    assert_eq!(keys.len(), 3);
    let key = |seq: u64| keys[seq as usize - 1].clone();
    let read = |seq| {
        let (blobs, key) = (archive.blobs.clone(), key(seq));
        async move { blobs.get(&key).await.unwrap().unwrap() }
    };
    let put = |seq: u64, bytes: Vec<u8>| {
        let (blobs, key) = (archive.blobs.clone(), key(seq));
        async move { blobs.put(&key, bytes, "application/x-ndjson").await.unwrap() }
    };
    let originals = [read(1).await, read(2).await, read(3).await];
    let restore = || async {
        for (i, bytes) in originals.iter().enumerate() {
            put(i as u64 + 1, bytes.clone()).await;
        }
    };
    let found = |v: &vellum::archive::verify::Verification, text: &str| v.findings.iter().any(|f| f.contains(text));

    // A changed byte.
    let text = String::from_utf8(originals[1].clone()).unwrap();
    let second_line_at = text.find('\n').unwrap() + 1;
    let mut changed = originals[1].clone();
    changed[second_line_at + 10] ^= 0x01;
    put(2, changed).await;
    let v = check().await;
    assert!(found(&v, "batch 2: line 1 does not match its hash"), "{v:?}");
    restore().await;

    // A deleted line.
    let mut lines: Vec<&str> = text.lines().collect();
    let gone: Value = serde_json::from_str(lines.remove(2)).unwrap();
    put(2, format!("{}\n", lines.join("\n")).into_bytes()).await;
    let v = check().await;
    assert!(found(&v, "batch 2: holds"), "{v:?}");
    assert!(
        found(&v, &format!("event {} is in the table but not in the archive", gone["eventId"].as_str().unwrap())),
        "{v:?}"
    );
    restore().await;

    // A dropped batch.
    archive.blobs.delete(&key(2)).await.unwrap();
    let v = check().await;
    assert!(found(&v, "batch 2 is missing"), "{v:?}");
    restore().await;

    // Two batches swapped.
    put(1, originals[2].clone()).await;
    put(3, originals[0].clone()).await;
    let v = check().await;
    assert!(found(&v, "batch 1 holds batch 3") && found(&v, "batch 3 holds batch 1"), "{v:?}");
    assert!(found(&v, "batch 3's content does not match its name"), "{v:?}");
    restore().await;
    assert!(check().await.passed());
}

async fn operators_verify_a_chain_through_the_api(app: TestApp) {
    let archive = archive_of(&app);
    let clinic = app.open_clinic("Checked").await;
    some_work(&app, &clinic, "Route").await;
    let delivered = inserts(&app, &clinic).await;
    archive.handle(delivered.clone(), app.app.clock.now()).await.unwrap();
    let operator = app.operator();
    let path = format!("/v1/operator/audit-verification?clinicId={}", clinic.id);
    let checked = app.get(&path, &operator).await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!(checked.body["passed"], true, "{}", checked.body);
    assert_eq!(checked.body["batches"], 1);
    assert_eq!(checked.body["archivedEvents"], originals(&delivered));
    assert_eq!(checked.body["tableEvents"], originals(&delivered));
    // The check is in the clinic's own trail. Until the stream brings them to the archive, it and the
    // administrator's read of the trail are pending, not breaks.
    let events = app.audit(&clinic, "").await;
    let check = events.iter().find(|e| e["eventName"] == "audit.verify").expect("the check is audited");
    assert_eq!(check["userIdentity"]["role"], "operator");
    let again = app.get(&path, &operator).await;
    assert_eq!((again.body["passed"].clone(), again.body["pendingEvents"].clone()), (json!(true), json!(2)));
    // A changed batch is named.
    let key = batch_keys(&archive, &clinic.id).await.remove(0);
    let mut bytes = archive.blobs.get(&key).await.unwrap().unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    archive.blobs.put(&key, bytes, "application/x-ndjson").await.unwrap();
    let broken = app.get(&path, &operator).await;
    assert_eq!(broken.body["passed"], false, "{}", broken.body);
    assert!(broken.body["findings"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains("batch 1")));
    // A window without events passes with zero counts.
    let empty = app.get(&format!("{path}&from=2999-01-01T00:00:00Z"), &operator).await;
    assert_eq!(
        (empty.status, empty.body["archivedEvents"].clone(), empty.body["tableEvents"].clone()),
        (200, json!(0), json!(0)),
        "{}",
        empty.body
    );
    // Bad input, an unknown clinic, and a caller who is not an operator.
    let platform = app.get("/v1/operator/audit-verification?clinicId=platform", &operator).await;
    assert_eq!(platform.status, 200, "{}", platform.body);
    for (query, status) in [
        ("", 400),
        ("?clinicId=nope", 400),
        (&format!("?clinicId={}&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", clinic.id)[..], 422),
        (&format!("?clinicId={}&from=yesterday", clinic.id)[..], 400),
        ("?clinicId=01JD00000000000000000000ZZ", 404),
    ] {
        let answer = app.get(&format!("/v1/operator/audit-verification{query}"), &operator).await;
        assert_eq!(answer.status, status, "{query}: {}", answer.body);
    }
    let admin = app.get(&path, &clinic.admin).await;
    assert_eq!(admin.status, 403, "{}", admin.body);
}

/// One audit event of `chain` at `time`, as the table holds it.
fn event_at(chain: &str, time: &str) -> Item {
    let mut item = Item::new();
    for (name, value) in [
        ("PK", format!("CLINIC#{chain}")),
        ("SK", format!("{time}#{}", ulid::Ulid::new())),
        ("clinicId", chain.to_string()),
        ("eventName", "patients.read".into()),
    ] {
        item.insert(name.into(), json!(value));
    }
    item
}

async fn a_windowed_check_walks_down_only_to_the_batches_written_before_the_window(app: TestApp) {
    let archive = archive_of(&app);
    let chain = ulid::Ulid::new().to_string();
    let now = chrono::Utc::now();
    for (n, days_ago) in [5, 3, 0].into_iter().enumerate() {
        let written = now - chrono::Duration::days(days_ago);
        let item = event_at(&chain, &vellum::ids::sortable_time(written));
        app.records.transact(vec![Write::put(Table::Audit, item.clone(), Cond::NotExists)]).await.unwrap();
        let record = StreamRecord { sequence: format!("{n:020}"), change: Change::Insert(item) };
        archive.handle(vec![record], written).await.unwrap();
    }
    let from = vellum::ids::sortable_time(now - chrono::Duration::days(1));
    let since = vellum::ids::sortable_time(now - chrono::Duration::days(1) - chrono::Duration::hours(25));
    let window = Window { from: Some(&from), ..Window::default() };
    let records = archive.records.as_ref();
    let walked = verify(records, archive.blobs.as_ref(), &chain, window, Depth::WrittenSince(&since)).await.unwrap();
    assert!(walked.passed(), "{walked:?}");
    assert_eq!((walked.batches, walked.archived_events, walked.table_events, walked.unreferenced), (2, 1, 1, 0));
    // The first batch is outside the windowed walk, not outside the whole one.
    let first = batch_keys(&archive, &chain).await.remove(0);
    archive.blobs.put(&first, b"changed".to_vec(), "application/x-ndjson").await.unwrap();
    let walked = verify(records, archive.blobs.as_ref(), &chain, window, Depth::WrittenSince(&since)).await.unwrap();
    assert!(walked.passed(), "{walked:?}");
    let whole = verify(records, archive.blobs.as_ref(), &chain, Window::default(), Depth::Whole).await.unwrap();
    assert!(!whole.passed(), "{whole:?}");
}

on_both_backends!(
    the_archive_chains_every_event_once_and_the_verifier_passes,
    an_overwritten_event_is_archived_as_tampering_and_recorded,
    the_verifier_names_every_break,
    operators_verify_a_chain_through_the_api,
    a_windowed_check_walks_down_only_to_the_batches_written_before_the_window,
    old_events_leave_the_table_only_verified_and_the_trail_reads_on_from_the_archive,
);

/// The embedded store plays the stream: committed audit events reach the archive in the data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_archives_what_it_commits_embedded_only() {
    let (inner, _dir) = vellum_tests::embedded_records();
    let folder = tempfile::tempdir().unwrap();
    let blobs: Arc<dyn Blobs> = Arc::new(vellum::blobs::local::LocalBlobs::new(
        folder.path(),
        vellum::crypto::SecretKey::generate(),
        "http://127.0.0.1:9",
    ));
    let archive = Archive { records: inner.clone(), blobs: blobs.clone() };
    let records = vellum::archive::local_stream::ArchivingRecords::new(inner.clone(), archive);
    let clinic = ulid::Ulid::new().to_string();
    let item = event_at(&clinic, "2026-12-01T10:00:00.000000Z");
    use vellum::store::Records;
    records.transact(vec![Write::put(Table::Audit, item, Cond::NotExists)]).await.unwrap();
    let mut waited = 0;
    while vellum::archive::read_head(inner.as_ref(), &clinic).await.unwrap().is_none() {
        assert!(waited < 100, "the archive never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
    let checked = verify(inner.as_ref(), blobs.as_ref(), &clinic, Window::default(), Depth::Whole).await.unwrap();
    assert!(checked.passed() && checked.archived_events == 1, "{checked:?}");
}

/// The clinic's events in the audit table, by sort key.
async fn table_events(app: &TestApp, clinic: &Clinic) -> Vec<Item> {
    let query = Query::new(Table::Audit, format!("CLINIC#{}", clinic.id)).sk(SkRange::All).limit(1000);
    vellum::store::query_all(app.records.as_ref(), query).await.unwrap()
}

/// Every event id a listing answers, following its cursors.
async fn listed_ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_string(),
        };
        let reply = app.get(&page, token).await;
        assert_eq!(reply.status, 200, "{page}: {}", reply.body);
        ids.extend(reply.body["items"].as_array().unwrap().iter().map(|e| e["eventId"].as_str().unwrap().to_string()));
        match reply.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

async fn old_events_leave_the_table_only_verified_and_the_trail_reads_on_from_the_archive(app: TestApp) {
    use vellum::archive::retire::retire;
    let archive = archive_of(&app);
    let clinic = app.open_clinic("Retention").await;
    let (practitioner, practitioner_user) = app.member(&clinic, vellum::domain::role::Role::Practitioner).await;
    let first = app.patient(&clinic, patient_body("Rita", "Retained")).await;
    let second = app.patient(&clinic, patient_body("Remy", "Retained")).await;
    let (first, second) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    assert_eq!(app.get(&format!("/v1/patients/{first}"), &practitioner).await.status, 200);
    let search = app.get("/v1/patients?familyName=retained", &practitioner).await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 2);
    let old: Vec<Item> = table_events(&app, &clinic).await;
    let old_ids: Vec<String> = old.iter().map(|e| e["eventId"].as_str().unwrap().to_string()).collect();
    archive.handle(inserts(&app, &clinic).await, app.app.clock.now()).await.unwrap();
    let later = app.app.clock.now() + chrono::Duration::days(400);

    // A changed batch: the archive does not verify, and nothing leaves the table.
    let key = batch_keys(&archive, &clinic.id).await.remove(0);
    let original = archive.blobs.get(&key).await.unwrap().unwrap();
    let mut changed = original.clone();
    let at = changed.len() - 3;
    changed[at] ^= 0x01;
    archive.blobs.put(&key, changed, "application/x-ndjson").await.unwrap();
    let refused = retire(&archive, later, 365).await.unwrap();
    assert_eq!((refused.retired, refused.refused.clone()), (0, vec![clinic.id.clone()]), "{refused:?}");
    assert_eq!(table_events(&app, &clinic).await.len(), old.len());
    archive.blobs.put(&key, original, "application/x-ndjson").await.unwrap();

    let report = retire(&archive, later, 365).await.unwrap();
    assert_eq!(report.retired, old.len(), "{report:?}");
    let left = table_events(&app, &clinic).await;
    let names: Vec<&str> = left.iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["audit.retire"], "only the retirement's own event is left");
    assert_eq!(retire(&archive, later, 365).await.unwrap().retired, 0, "a second run finds nothing");

    // The trail, a patient's log (with a search that listed them) and an actor's events read on from the
    // archive, each event once.
    let trail = listed_ids(&app, "/v1/audit?limit=4", &clinic.admin).await;
    for id in &old_ids {
        assert_eq!(trail.iter().filter(|t| *t == id).count(), 1, "{id} in {trail:?}");
    }
    let log = app.get(&format!("/v1/patients/{second}/access-log?limit=100"), &clinic.admin).await;
    assert!(log.body["nextCursor"].as_str().is_some(), "the table's part ends, the archive's follows");
    let log = listed_ids(&app, &format!("/v1/patients/{second}/access-log?limit=100"), &clinic.admin).await;
    let search_event = old.iter().find(|e| e["eventName"] == "patients.list").unwrap()["eventId"].as_str().unwrap();
    assert!(log.iter().any(|id| id == search_event), "{log:?}");
    let read = old.iter().find(|e| e["eventName"] == "patients.read").unwrap()["eventId"].as_str().unwrap();
    let first_log = listed_ids(&app, &format!("/v1/patients/{first}/access-log?limit=100"), &clinic.admin).await;
    assert!(first_log.iter().any(|id| id == read) && first_log.iter().any(|id| id == search_event), "{first_log:?}");
    let by_actor = listed_ids(&app, &format!("/v1/audit?actor={practitioner_user}&limit=10"), &clinic.admin).await;
    assert!(by_actor.iter().any(|id| id == read) && by_actor.iter().any(|id| id == search_event), "{by_actor:?}");
    let windowed = listed_ids(&app, "/v1/audit?limit=10&to=2000-01-01T00:00:00Z", &clinic.admin).await;
    assert!(windowed.is_empty(), "{windowed:?}");
    // On the FHIR face, a retired event is read by its id from the archive, and the patient's AuditEvents
    // go on from the table into the archive.
    let retired = old.iter().find(|e| e["eventName"] == "patients.read").unwrap();
    let digits: String =
        retired["eventTime"].as_str().unwrap().chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
    let fhir_id = format!("{read}-{digits}");
    let one = app.get(&format!("/fhir/R4/AuditEvent/{fhir_id}"), &clinic.admin).await;
    assert_eq!((one.status, &one.body["subtype"][0]["code"]), (200, &json!("patients.read")), "{one:?}");
    let mut path = format!("/fhir/R4/AuditEvent?patient={first}&_count=2");
    let mut fhir_ids = Vec::new();
    loop {
        let page = app.get(&path, &clinic.admin).await;
        assert_eq!(page.status, 200, "{page:?}");
        fhir_ids.extend(
            page.body["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap().to_string()),
        );
        match page.body["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next") {
            Some(next) => path = format!("/fhir/{}", next["url"].as_str().unwrap().split_once("/fhir/").unwrap().1),
            None => break,
        }
    }
    assert!(fhir_ids.contains(&fhir_id), "{fhir_ids:?}");

    // The stream's removals below the watermark are retirement; any other removal is tampering.
    let removals: Vec<StreamRecord> = old
        .iter()
        .enumerate()
        .map(|(i, e)| StreamRecord { sequence: format!("{i:020}"), change: Change::Remove(e.clone()) })
        .collect();
    let taken = archive.handle(removals, app.app.clock.now()).await.unwrap();
    assert_eq!((taken.retired, taken.tampered), (old.len(), 0), "{taken:?}");
    let recent = StreamRecord { sequence: "9".repeat(20), change: Change::Remove(left[0].clone()) };
    assert_eq!(archive.handle(vec![recent], app.app.clock.now()).await.unwrap().tampered, 1);

    // The verifier counts the retired events, not as breaks (the reads above are still on their way).
    let cutoff = vellum::ids::sortable_time(later - chrono::Duration::days(365));
    let settled = vellum::archive::verify::settled_before(app.app.clock.now());
    let window = Window { to: Some(&cutoff), settled_before: Some(&settled), ..Window::default() };
    let checked =
        verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, window, Depth::Whole).await.unwrap();
    assert!(checked.passed(), "{checked:?}");
    assert_eq!(checked.retired, old.len());
}
