//! Processing one upload: quarantine object → checked, clean renditions → each sealed under a fresh data
//! key → photo `ready` (or `rejected` with the reason) → quarantine emptied. Safe to run twice.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::envelope;
use super::render::{self, Rendered};
use crate::app::{App, PhotoPorts};
use crate::domain::audit::{AccessEvent, Resource};
use crate::domain::chart::Actor;
use crate::domain::fields::{Context, ParseStr};
use crate::domain::photo::{Photo, PhotoState, Rendition, StoredRendition};
use crate::domain::role::Role;
use crate::domain::values::{EntityId, UserId};
use crate::ids::sortable_time;
use crate::keyring::EncryptionContext;
use crate::store::{Cond, StoreError, Table, Write, entity_from};

/// What became of an upload.
#[derive(Debug, PartialEq, Eq)]
pub enum Processed {
    Ready,
    Rejected(String),
    /// Nothing to do: the reason says why (already processed, not a photo upload, ...).
    Skipped(&'static str),
}

/// Why processing could not finish; the event is retried.
#[derive(Debug, thiserror::Error)]
#[error("photo processing failed: {0}")]
pub struct ProcessError(pub String);

fn failed(e: impl std::fmt::Display) -> ProcessError {
    ProcessError(e.to_string())
}

/// The context every data key of a photo is bound to.
pub fn encryption_context(clinic: EntityId, patient: EntityId, photo: EntityId) -> EncryptionContext {
    [("clinicId", clinic), ("patientId", patient), ("photoId", photo)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The identity the processing's audit events carry.
pub fn processor() -> Actor {
    let user = UserId::parse_str("photos-process", &Context::timeless()).unwrap_or_else(|_| unreachable!());
    Actor { user_id: user, role: Role::System }
}

/// Processes the upload at `object_key`; `request_id` names the invocation in the audit trail.
pub async fn process_upload(app: &App, object_key: &str, request_id: &str) -> Result<Processed, ProcessError> {
    let ports = app.photos.clone().ok_or_else(|| failed("photo storage is not configured"))?;
    let Some((clinic, patient, photo_id)) = Photo::parse_quarantine_key(object_key) else {
        return Ok(Processed::Skipped("not a photo upload"));
    };
    let key = Photo::key(clinic, patient, photo_id);
    let Some(item) = app.records.get(Table::Records, &key).await.map_err(failed)? else {
        ports.blobs.delete(object_key).await.map_err(failed)?;
        return Ok(Processed::Skipped("nobody asked for this upload"));
    };
    let photo: Photo = entity_from(item).map_err(failed)?;
    if photo.state != PhotoState::Pending {
        ports.blobs.delete(object_key).await.map_err(failed)?;
        return Ok(Processed::Skipped("the photo was already processed"));
    }
    let Some(bytes) = ports.blobs.get(object_key).await.map_err(failed)? else {
        return Ok(Processed::Skipped("the upload is gone"));
    };
    let declared = photo.request.content_type;
    let size = photo.request.byte_size;
    let rendered = if bytes.len() as u64 != size {
        Err(format!("the upload is {} bytes, not the {size} declared", bytes.len()))
    } else {
        render::render_bounded(bytes, declared).await.map_err(failed)?
    };
    let now = sortable_time(app.clock.now());
    let mut next = Photo { version: photo.version + 1, processed_at: Some(now.clone()), ..photo.clone() };
    let run = EntityId(app.ids.next_id());
    let outcome = match rendered {
        Ok(renditions) => {
            for rendition in renditions {
                let stored = seal_and_store(&ports, (clinic, patient, photo_id), run, rendition).await?;
                match stored.0 {
                    Rendition::Display => next.display = Some(stored.1),
                    Rendition::Thumbnail => next.thumbnail = Some(stored.1),
                }
            }
            next.state = PhotoState::Ready;
            Processed::Ready
        }
        Err(reason) => {
            next.state = PhotoState::Rejected;
            next.rejection = Some(reason.clone());
            Processed::Rejected(reason)
        }
    };
    let event = processing_event(app, (clinic, patient, photo_id), &now, request_id);
    let writes =
        vec![Write::put(Table::Records, next.to_item(clinic), Cond::VersionIs(photo.version)), event.to_write()];
    match app.records.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: 0 }) => {
            // Another run of the same upload committed first: its objects are the photo's; ours go.
            for stored in [&next.display, &next.thumbnail].into_iter().flatten() {
                ports.blobs.delete(&stored.object_key).await.map_err(failed)?;
            }
            return Ok(Processed::Skipped("processed concurrently"));
        }
        Err(e) => return Err(failed(e)),
    }
    ports.blobs.delete(object_key).await.map_err(failed)?;
    tracing::info!(photo_id = %photo_id, state = %next.state, "photo processed");
    Ok(outcome)
}

async fn seal_and_store(
    ports: &PhotoPorts,
    (clinic, patient, photo): (EntityId, EntityId, EntityId),
    run: EntityId,
    rendered: Rendered,
) -> Result<(Rendition, StoredRendition), ProcessError> {
    let context = encryption_context(clinic, patient, photo);
    let data_key = ports.keyring.generate_data_key(&context).await.map_err(failed)?;
    let sealed = envelope::seal(&data_key.plaintext, &data_key.key_ref, &context, &rendered.jpeg);
    let object_key = Photo::object_key(clinic, patient, photo, rendered.rendition, run);
    ports.blobs.put(&object_key, sealed, "application/octet-stream").await.map_err(failed)?;
    let stored = StoredRendition {
        object_key,
        width: rendered.width,
        height: rendered.height,
        wrapped_key: STANDARD.encode(&data_key.wrapped),
        key_ref: data_key.key_ref,
    };
    Ok((rendered.rendition, stored))
}

fn processing_event(
    app: &App,
    (clinic, patient, photo): (EntityId, EntityId, EntityId),
    now: &str,
    request_id: &str,
) -> AccessEvent {
    AccessEvent {
        event_id: EntityId(app.ids.next_id()),
        request_id: request_id.to_string(),
        resources: vec![Resource::new("patient", patient), Resource::new("photo", photo)],
        patient_id: Some(patient),
        ..AccessEvent::by_system("photos-process", "photos.process", Some(clinic), now.to_string())
    }
}

/// Processes every object an S3 event names (the `photos-process` function).
pub async fn handle_s3_event(
    app: Arc<App>,
    event: aws_lambda_events::s3::S3Event,
    request_id: &str,
) -> Result<(), ProcessError> {
    for record in event.records {
        let Some(raw) = record.s3.object.key else { continue };
        // S3 event keys are URL-encoded (spaces as `+`).
        let key: String =
            form_urlencoded::parse(format!("k={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or(raw);
        let outcome = process_upload(&app, &key, request_id).await?;
        tracing::info!(outcome = ?outcome_label(&outcome), "upload handled");
    }
    Ok(())
}

impl Processed {
    /// What the upload route of the local host answers.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Processed::Ready => serde_json::json!({"state": "ready"}),
            Processed::Rejected(reason) => serde_json::json!({"state": "rejected", "rejection": reason}),
            Processed::Skipped(why) => serde_json::json!({"state": "unchanged", "detail": why}),
        }
    }
}

fn outcome_label(outcome: &Processed) -> &'static str {
    match outcome {
        Processed::Ready => "ready",
        Processed::Rejected(_) => "rejected",
        Processed::Skipped(why) => why,
    }
}
