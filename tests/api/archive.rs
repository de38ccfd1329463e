//! The audit archive: the stream's events chained in hashed batches exactly once, tampering seen, and a
//! verifier that names every break (a changed byte, a deleted line, a dropped or moved batch).

use std::sync::Arc;

use serde_json::{Value, json};
use vellum::archive::batch::Batch;
use vellum::archive::verify::verify;
use vellum::archive::{Archive, Change, StreamRecord};
use vellum::blobs::Blobs;
use vellum::store::{Cond, Item, Query, SkRange, Table, Write};
use vellum_tests::{Backend, Clinic, TestApp, patient_body};

/// The archive bucket of a test: a fresh one on moto, files in a temporary folder locally.
async fn archive_of(app: &TestApp) -> (Archive, Option<tempfile::TempDir>) {
    let (blobs, dir): (Arc<dyn Blobs>, _) = match app.backend {
        Backend::Aws => (Arc::new(vellum_tests::moto_blobs().await.0), None),
        Backend::Embedded => {
            let dir = tempfile::tempdir().unwrap();
            let key = vellum::crypto::SecretKey::generate();
            (Arc::new(vellum::blobs::local::LocalBlobs::new(dir.path(), key, "http://127.0.0.1:9")), Some(dir))
        }
    };
    (Archive { records: app.records.clone(), blobs }, dir)
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
    let (archive, _dir) = archive_of(&app).await;
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
    let checked = verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, None, None).await.unwrap();
    assert!(checked.passed(), "{checked:?}");
    assert_eq!((checked.batches, checked.archived_events, checked.table_events), (2, originals(&all), originals(&all)));
    let empty = verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, Some("2999"), None).await.unwrap();
    assert!(
        empty.passed() && empty.archived_events == 0 && empty.table_events == 0,
        "an empty window passes: {empty:?}"
    );
}

async fn an_overwritten_event_is_archived_as_tampering_and_recorded(app: TestApp) {
    let (archive, _dir) = archive_of(&app).await;
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
    let checked = verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, None, None).await.unwrap();
    let differs = format!("event {} differs between the table and the archive", old["eventId"].as_str().unwrap());
    assert!(checked.findings.contains(&differs), "{checked:?}");
    // The stream's redelivery of the overwrite is not a second tampering line, nor a second tamper event.
    let again = archive.handle(vec![overwrite], app.app.clock.now()).await.unwrap();
    assert_eq!((again.batches, again.tampered), (0, 0));
    let tampers = app.audit(&clinic, "").await.iter().filter(|e| e["eventName"] == "audit.tamper").count();
    assert_eq!(tampers, 1);
}

async fn the_verifier_names_every_break(app: TestApp) {
    let (archive, _dir) = archive_of(&app).await;
    let clinic = app.open_clinic("Verified").await;
    for family in ["One", "Two", "Three"] {
        some_work(&app, &clinic, family).await;
        archive.handle(inserts(&app, &clinic).await, app.app.clock.now()).await.unwrap();
    }
    let check =
        || async { verify(archive.records.as_ref(), archive.blobs.as_ref(), &clinic.id, None, None).await.unwrap() };
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

on_both_backends!(
    the_archive_chains_every_event_once_and_the_verifier_passes,
    an_overwritten_event_is_archived_as_tampering_and_recorded,
    the_verifier_names_every_break,
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
    let mut item = Item::new();
    for (name, value) in [
        ("PK", format!("CLINIC#{clinic}")),
        ("SK", format!("2026-12-01T10:00:00.000000Z#{}", ulid::Ulid::new())),
        ("clinicId", clinic.clone()),
        ("eventName", "patients.read".into()),
    ] {
        item.insert(name.into(), json!(value));
    }
    use vellum::store::Records;
    records.transact(vec![Write::put(Table::Audit, item, Cond::NotExists)]).await.unwrap();
    let mut waited = 0;
    while vellum::archive::read_head(inner.as_ref(), &clinic).await.unwrap().is_none() {
        assert!(waited < 100, "the archive never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
    let checked = verify(inner.as_ref(), blobs.as_ref(), &clinic, None, None).await.unwrap();
    assert!(checked.passed() && checked.archived_events == 1, "{checked:?}");
}
