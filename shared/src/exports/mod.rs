//! The export worker: builds each queued export of a patient's record into one ZIP in the bucket (the FHIR
//! record, the chart as the API shows it, a readable summary, the photos, the signed consents and the access
//! log), reporting its progress on the export as it goes, and deletes each ZIP when its seven days are up.

pub mod summary;

use std::io::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::api::{audit, patients, photos, submissions};
use crate::app::App;
use crate::domain::audit::{AccessEvent, Outcome as AuditOutcome, Resource};
use crate::domain::chart::Entry;
use crate::domain::export::{Contents, Export, ExportState, KEEP_DAYS, Progress, WORK_PARTITION};
use crate::domain::keys;
use crate::domain::photo::{PhotoState, Rendition};
use crate::domain::role::Role;
use crate::domain::scheduling::appointment::Appointment;
use crate::domain::values::{EntityId, UserId};
use crate::fhir::record::Record;
use crate::fhir::{ResourceType, audit_event, record_id};
use crate::http::caller::{Caller, RequestMeta};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::ids::sortable_time;
use crate::store::schema::Index;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from};

/// The name the worker acts under in the trail.
pub const WORKER: &str = "exports-run";

/// How many exports one run takes on.
const PER_RUN: usize = 10;

/// What one run did (counts only).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub built: usize,
    pub failed: usize,
    pub expired: usize,
}

impl Report {
    pub fn to_json(&self) -> Value {
        json!({ "built": self.built, "failed": self.failed, "expired": self.expired })
    }
}

/// One run: every export whose work is due, built or its file deleted.
pub async fn run(app: &Arc<App>, now: DateTime<Utc>) -> Result<Report, ApiError> {
    let due = Query::new(Table::Records, WORK_PARTITION.to_string())
        .index(Index::Gsi1)
        .sk(SkRange::Between("0".into(), format!("{}~", sortable_time(now))))
        .limit(PER_RUN);
    let page = app.records.query(due).await?;
    let mut report = Report::default();
    for item in page.items {
        let key = Key::new(
            crate::store::str_attr(&item, crate::store::schema::PK).unwrap_or_default(),
            crate::store::str_attr(&item, crate::store::schema::SK).unwrap_or_default(),
        );
        // The index holds keys only where it is sparse: the export is read whole.
        let Some(item) = app.records.get(Table::Records, &key).await? else { continue };
        let export: Export = entity_from(item)?;
        let ctx = worker_ctx(app, export.clinic_id, now);
        match export.state {
            ExportState::Ready => {
                expire(&ctx, export).await?;
                report.expired += 1;
            }
            ExportState::Queued | ExportState::Running => match build(&ctx, export).await? {
                Built::Ready => report.built += 1,
                Built::Failed => report.failed += 1,
                Built::TakenByAnother => {}
            },
            ExportState::Failed | ExportState::Expired => {}
        }
    }
    Ok(report)
}

/// The worker's context in a clinic: the system, acting for the export routes.
fn worker_ctx(app: &Arc<App>, clinic: EntityId, now: DateTime<Utc>) -> Ctx {
    let user =
        <UserId as crate::domain::fields::ParseStr>::parse_str(WORKER, &crate::domain::fields::Context::timeless())
            .unwrap_or_else(|_| unreachable!("the worker's name is a valid user id"));
    Ctx {
        app: app.clone(),
        caller: Caller { user, role: Role::System, clinic: Some(clinic) },
        route: crate::http::routes::named("exports.create").unwrap_or_else(|| unreachable!("the export route")),
        meta: RequestMeta::default(),
        now,
        break_glass: None,
        named_patient: None,
    }
}

/// The bucket exports are kept in (the photo bucket, under `exports/`).
pub fn bucket(ctx: &Ctx) -> Result<&Arc<dyn crate::blobs::Blobs>, ApiError> {
    Ok(&ctx.app.photos.as_ref().ok_or_else(|| ApiError::Unavailable("no bucket is configured".into()))?.blobs)
}

/// Saves the export's next version (on the version it replaces).
async fn save(ctx: &Ctx, export: &mut Export) -> Result<(), ApiError> {
    let cond = Cond::VersionIs(export.version);
    export.version += 1;
    let write = Write::put(Table::Records, export.to_item(ctx.now), cond);
    ctx.app.records.transact(vec![write]).await?;
    Ok(())
}

/// The worker's event about an export, in the trail and the patient's access log.
async fn record_event(ctx: &Ctx, name: &str, export: &Export, outcome: AuditOutcome) -> Result<(), ApiError> {
    let mut event = AccessEvent::by_system(WORKER, name, Some(export.clinic_id), sortable_time(ctx.now));
    event.patient_id = Some(export.patient_id);
    event.resources = vec![Resource::new("patient", export.patient_id), Resource::new("export", export.id)];
    event.outcome = outcome;
    ctx.app.records.transact(vec![event.to_write()]).await?;
    Ok(())
}

/// Deletes a ready export's ZIP once its seven days are up, and says so on the export.
async fn expire(ctx: &Ctx, mut export: Export) -> Result<(), ApiError> {
    let blobs = bucket(ctx)?;
    blobs.delete(&export.object_key()).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    export.state = ExportState::Expired;
    export.progress = Progress { stage: "deleted".into(), percent: 100 };
    save(ctx, &mut export).await?;
    record_event(ctx, "exports.delete", &export, AuditOutcome::Success).await
}

/// What became of an export a run took on.
enum Built {
    Ready,
    /// It failed, and says why on the export.
    Failed,
    /// Another run claimed it first, and builds it.
    TakenByAnother,
}

/// Claims and builds one export.
async fn build(ctx: &Ctx, mut export: Export) -> Result<Built, ApiError> {
    export.state = ExportState::Running;
    export.started_at = Some(sortable_time(ctx.now));
    export.progress = Progress { stage: "record".into(), percent: 5 };
    if save(ctx, &mut export).await.is_err() {
        return Ok(Built::TakenByAnother);
    }
    let stored = match gather(ctx, &mut export).await {
        Ok((zip, contents)) => store(ctx, &export, zip).await.map(|bytes| (bytes, contents)),
        Err(e) => Err(e),
    };
    match stored {
        Ok((bytes, contents)) => {
            export.bytes = Some(bytes);
            export.state = ExportState::Ready;
            export.contents = Some(contents);
            export.ready_at = Some(sortable_time(ctx.now));
            export.expires_at = Some(sortable_time(ctx.now + Duration::days(KEEP_DAYS)));
            export.progress = Progress { stage: "ready".into(), percent: 100 };
            save(ctx, &mut export).await?;
            record_event(ctx, "exports.build", &export, AuditOutcome::Success).await?;
            Ok(Built::Ready)
        }
        Err(e) => {
            // Any failure ends this export (a new one is asked for): one that cannot be built never holds
            // the worker back from the others.
            tracing::error!(code = e.code(), export = %export.id, "an export could not be built");
            export.state = ExportState::Failed;
            export.failure = Some(format!("the export could not be built ({}); start a new one", e.code()));
            export.progress.stage = "failed".into();
            save(ctx, &mut export).await?;
            record_event(ctx, "exports.build", &export, AuditOutcome::Error).await?;
            Ok(Built::Failed)
        }
    }
}

/// Puts the ZIP where the export keeps it: its size.
async fn store(ctx: &Ctx, export: &Export, zip: Vec<u8>) -> Result<u64, ApiError> {
    let blobs = bucket(ctx)?;
    let bytes = zip.len() as u64;
    blobs.put(&export.object_key(), zip, "application/zip").await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(bytes)
}

/// A ZIP being written: files deflated but for those already compressed (the photos).
struct Zip {
    writer: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
}

impl Zip {
    fn new() -> Self {
        Self { writer: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())) }
    }

    fn add(&mut self, path: &str, bytes: &[u8], compressed: bool) -> Result<(), ApiError> {
        let method = if compressed { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        let options = zip::write::SimpleFileOptions::default().compression_method(method).large_file(false);
        let fail = |e: String| ApiError::Internal(format!("the export's ZIP could not be written: {e}"));
        self.writer.start_file(path, options).map_err(|e| fail(e.to_string()))?;
        self.writer.write_all(bytes).map_err(|e| fail(e.to_string()))
    }

    fn json(&mut self, path: &str, value: &Value) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.add(path, &bytes, false)
    }

    fn finish(self) -> Result<Vec<u8>, ApiError> {
        let cursor = self.writer.finish().map_err(|e| ApiError::Internal(format!("the export's ZIP: {e}")))?;
        Ok(cursor.into_inner())
    }
}

/// What the ZIP's README says.
const README: &str = "Your record, as the clinic keeps it.

record.json      Your record as FHIR R4 (a Bundle): a standard format other systems read.
chart.json       Every entry of your chart as the clinic's system shows it, notes included.
summary.pdf      A summary to read or print.
photos/          Your photos (JPEG), as the clinic keeps them.
consents/        The consents you signed (PDF).
access-log.json  Every time someone opened or changed your record: who, when and what.
";

/// Reads the patient's whole record and writes the ZIP, saving progress on the export between stages.
async fn gather(ctx: &Ctx, export: &mut Export) -> Result<(Vec<u8>, Contents), ApiError> {
    let clinic = export.clinic_id;
    let patient = patients::load(ctx, export.patient_id).await?;
    let partition = Query::new(Table::Records, keys::chart_pk(clinic, patient.id)).limit(100);
    let mut records = Vec::new();
    for item in crate::store::query_all(ctx.app.records.as_ref(), partition).await? {
        if let Some(record) = Record::from_item(item)? {
            records.push(record);
        }
    }
    let index =
        Query::new(Table::Records, Appointment::patient_index(clinic, patient.id)).index(Index::Gsi1).limit(100);
    let mut appointments: Vec<Appointment> = Vec::new();
    for item in crate::store::query_all(ctx.app.records.as_ref(), index).await? {
        appointments.push(entity_from(item)?);
    }
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = audit::patient_log_page(ctx, patient.id, 100, after).await?;
        events.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    let mut zip = Zip::new();
    zip.add("README.txt", README.as_bytes(), false)?;
    let entries: Vec<&Entry> = records
        .iter()
        .filter_map(|r| match r {
            Record::Entry(e) => Some(e),
            _ => None,
        })
        .collect();
    zip.json("chart.json", &json!({ "items": entries.iter().map(|e| e.to_json()).collect::<Vec<_>>() }))?;

    export.progress = Progress { stage: "photos".into(), percent: 20 };
    save(ctx, export).await?;
    let ready: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Photo(p) if p.state == PhotoState::Ready => Some(p),
            _ => None,
        })
        .collect();
    let mut photo_files = Vec::new();
    for (i, photo) in ready.iter().enumerate() {
        let jpeg = photos::open_rendition(ctx, photo, Rendition::Display).await?;
        let path = format!("photos/{}.jpg", photo.id);
        zip.add(&path, &jpeg, true)?;
        photo_files.push((photo.id, path));
        // Progress is saved every ten photos, and after the last.
        if (i + 1) % 10 == 0 || i + 1 == ready.len() {
            export.progress.percent = 20 + (60 * (i + 1) / ready.len()) as u8;
            save(ctx, export).await?;
        }
    }

    export.progress = Progress { stage: "consents".into(), percent: 85 };
    save(ctx, export).await?;
    let profile = submissions::clinic_of(ctx).await?;
    let mut consent_files = Vec::new();
    for record in &records {
        if let Record::Submission(submission) = record {
            for (i, signature) in submission.signatures.iter().enumerate() {
                let id = record_id(patient.id, submission.id, Some(&format!("c{}", i + 1)));
                let path = format!("consents/{id}.pdf");
                zip.add(&path, &submissions::signed_consent_pdf(&profile, &patient, submission, signature), false)?;
                consent_files.push((id, path));
            }
        }
    }

    export.progress = Progress { stage: "record".into(), percent: 90 };
    save(ctx, export).await?;
    let mut resources = vec![crate::fhir::patient::patient(clinic, &patient)];
    for record in &records {
        for resource_type in ResourceType::ALL {
            resources.extend(resource_type.from_record(record, ""));
        }
    }
    resources.extend(appointments.iter().map(crate::fhir::appointment::appointment));
    resources.extend(events.iter().map(audit_event::audit_event));
    // What the record links to travels with it: a photo's and a consent's file are in the ZIP.
    for resource in &mut resources {
        let id = resource["id"].as_str().unwrap_or("").to_string();
        match resource["resourceType"].as_str() {
            Some("Consent") => {
                if let Some((_, path)) = consent_files.iter().find(|(c, _)| *c == id) {
                    resource["sourceAttachment"]["url"] = path.clone().into();
                }
            }
            Some("Media") => {
                let photo = crate::fhir::parse_chart_id(&id).map(|(_, photo, _)| photo);
                if let Some((_, path)) = photo_files.iter().find(|(p, _)| Some(*p) == photo) {
                    resource["content"]["url"] = path.clone().into();
                    resource["content"]["contentType"] = "image/jpeg".into();
                }
            }
            _ => {}
        }
    }
    let entries: Vec<Value> = resources.iter().map(|r| json!({ "resource": r })).collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "timestamp": sortable_time(ctx.now),
                         "entry": entries });
    zip.json("record.json", &bundle)?;
    zip.json("access-log.json", &json!({ "items": events }))?;
    let summary = summary::pdf(profile.name.as_str(), &patient, &records, &appointments, events.len(), ctx.now);
    zip.add("summary.pdf", &summary, false)?;

    let contents = Contents {
        resources: resources.len() as u64,
        photos: photo_files.len() as u64,
        consents: consent_files.len() as u64,
        access_events: events.len() as u64,
    };
    export.progress = Progress { stage: "saving".into(), percent: 95 };
    save(ctx, export).await?;
    Ok((zip.finish()?, contents))
}
