//! What the photo routes answer: a photo as the API shows it (never its keys or objects), its upload, the
//! before/after sets, and an erasure batch's counts.

use serde_json::{Value, json};

use super::{
    Answer, actor, answer, described, instant, nullable, object, of, page, reference, stored, text, with_required,
};
use crate::domain::photo::{ConsentScope, PhotoState, StandardView};
use crate::domain::schema::one_of;
use crate::domain::values::EntityId;

/// A sealed rendition's size in pixels, or `null` while there is none.
fn size() -> Value {
    nullable(object(
        &["width", "height"],
        json!({"width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1}}),
    ))
}

/// The photo as `Photo::to_json` shows it: what was declared at upload, then the server's fields, with
/// `more` properties (always present) added.
fn photo(description: &str, more: Value) -> Value {
    let required = vec![
        "id",
        "patientId",
        "state",
        "rejection",
        "consent",
        "consentHistory",
        "renditions",
        "uploadedBy",
        "createdAt",
        "processedAt",
        "erased",
        "version",
    ];
    let consent =
        described(one_of(ConsentScope::ALL), "The consent in force: the latest change, else the one given at upload");
    let change =
        object(&["scope", "by", "at"], json!({"scope": one_of(ConsentScope::ALL), "by": actor(), "at": instant()}));
    let erasure = object(&["by", "at", "reason"], json!({"by": actor(), "at": instant(), "reason": text(200)}));
    let properties = json!({
        "id": of::<EntityId>(),
        "patientId": of::<EntityId>(),
        "state": one_of(PhotoState::ALL),
        "rejection": nullable(json!({"type": "string", "description": "Why the upload was refused (state rejected)"})),
        "consent": consent,
        "consentHistory": {"type": "array", "description": "The consent changes since the upload, oldest first",
            "items": change},
        "renditions": object(&["display", "thumbnail"], json!({"display": size(), "thumbnail": size()})),
        "uploadedBy": actor(),
        "createdAt": instant(),
        "processedAt": nullable(instant()),
        "erased": nullable(erasure),
        "version": {"type": "integer", "minimum": 1},
    });
    described(with_required(stored("PhotoRequest", &required, properties), more), description)
}

/// Where and how the client uploads the photo's bytes (a presigned URL binding its type and size).
fn upload() -> Value {
    let header = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}],
                        "items": false, "minItems": 2, "description": "[name, value]"});
    object(
        &["method", "url", "headers", "expiresAt"],
        json!({
            "method": {"enum": ["PUT"]},
            "url": {"type": "string", "description": "Where to send the bytes"},
            "headers": {"type": "array", "items": header,
                        "description": "Headers the upload must carry exactly as given (they are signed)"},
            "expiresAt": {"type": "integer",
                          "description": "Seconds since the epoch after which the URL no longer works"},
        }),
    )
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let set = json!({
        "type": "object", "additionalProperties": false, "required": ["treatmentId", "views"],
        "description": "A treatment's ready photos, by standard view, before and after, each oldest first",
        "properties": {
            "treatmentId": of::<EntityId>(),
            "views": {"type": "array", "minItems": 1, "items": object(&["view", "before", "after"], json!({
                "view": one_of(StandardView::ALL),
                "before": {"type": "array", "items": reference("PatientPhoto")},
                "after": {"type": "array", "items": reference("PatientPhoto")},
            }))},
        },
    });
    let sets = object(&["items"], json!({"items": {"type": "array", "items": reference("BeforeAfterSet")}}));
    let sets = described(sets, "A patient's before/after sets, by treatment in the order of their first photo");
    let batch = object(
        &["erased", "remaining"],
        json!({
            "erased": {"type": "integer", "minimum": 0, "description": "Photos this call erased"},
            "remaining": {"type": "integer", "minimum": 0,
                          "description": "Photos still to erase: call again while above 0"},
        }),
    );
    let batch = described(batch, "One batch of erasing all a patient's photos");
    vec![
        (
            "PatientPhoto",
            photo("A patient's photo: what was declared at upload, its state, consent and renditions", json!({})),
        ),
        (
            "PatientPhotoUpload",
            photo(
                "A photo just asked for (pending), and where to upload its bytes",
                json!({"upload": reference("PresignedUpload")}),
            ),
        ),
        (
            "PresignedUpload",
            described(upload(), "Where and how to upload a photo's bytes: a URL signed for its type and size"),
        ),
        ("BeforeAfterSet", set),
        ("PhotoSets", sets),
        ("PhotoErasureBatch", batch),
    ]
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    vec![
        answer("photos.create", reference("PatientPhotoUpload")).versioned(),
        answer("photos.list", page(reference("PatientPhoto"))),
        answer("photos.sets", reference("PhotoSets")),
        answer("photos.consent", reference("PatientPhoto")).versioned(),
        answer("photos.erase", reference("PatientPhoto")).versioned(),
        answer("photos.erase-all", reference("PhotoErasureBatch")),
    ]
}
