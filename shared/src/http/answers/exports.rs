//! What the export routes answer: an export as it stands, and a download link.

use serde_json::{Value, json};

use super::{Answer, actor, answer, described, instant, nullable, object, of, reference};
use crate::domain::export::ExportState;
use crate::domain::schema::one_of;
use crate::domain::values::EntityId;

fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

/// An export as the API shows it.
fn export() -> Value {
    let progress = object(
        &["stage", "percent"],
        json!({"stage": {"type": "string", "description": "queued, record, photos, consents, saving, ready, failed or deleted"},
               "percent": {"type": "integer", "minimum": 0, "maximum": 100}}),
    );
    let contents = object(
        &["resources", "photos", "consents", "accessEvents"],
        json!({"resources": count(), "photos": count(), "consents": count(), "accessEvents": count()}),
    );
    let schema = object(
        &[
            "id",
            "patientId",
            "clinicId",
            "state",
            "requestedBy",
            "requestedAt",
            "progress",
            "startedAt",
            "readyAt",
            "expiresAt",
            "contents",
            "bytes",
            "failure",
            "version",
        ],
        json!({
            "id": of::<EntityId>(),
            "patientId": of::<EntityId>(),
            "clinicId": of::<EntityId>(),
            "state": one_of(ExportState::ALL),
            "requestedBy": actor(),
            "requestedAt": instant(),
            "progress": progress,
            "startedAt": nullable(instant()),
            "readyAt": nullable(instant()),
            "expiresAt": nullable(described(instant(), "When the ZIP is (or was) deleted: seven days after it was ready")),
            "contents": nullable(described(contents, "What the ZIP holds, by count")),
            "bytes": nullable(count()),
            "failure": nullable(json!({"type": "string"})),
            "version": {"type": "integer", "minimum": 1},
        }),
    );
    described(schema, "A patient's export: where it stands, and what its ZIP holds once ready")
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let link = object(
        &["url", "expiresAt", "filename", "bytes"],
        json!({
            "url": {"type": "string", "description": "Where the ZIP is downloaded, for five minutes"},
            "expiresAt": {"type": "integer", "description": "Seconds since the epoch after which the URL no longer works"},
            "filename": {"type": "string"},
            "bytes": nullable(count()),
        }),
    );
    vec![("PatientExport", export()), ("ExportDownload", described(link, "A short-lived link to an export's ZIP"))]
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    vec![
        answer("exports.create", reference("PatientExport")).versioned(),
        answer("exports.read", reference("PatientExport")).versioned(),
        answer("exports.download", reference("ExportDownload")),
    ]
}
