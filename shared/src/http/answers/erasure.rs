//! What the erasure-request routes answer: a request, from the patient's asking to what its decision did.

use serde_json::{Value, json};

use super::{Answer, actor, answer, described, instant, object, of, page, reference, text, version};
use crate::domain::rights::{Outcome, RightsKind, RightsState};
use crate::domain::schema::one_of;
use crate::domain::values::{EntityId, LongText};

fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn day() -> Value {
    json!({"type": "string", "format": "date"})
}

/// A request as the API shows it.
fn request() -> Value {
    let stamp = object(&["by", "at"], json!({"by": actor(), "at": instant()}));
    let decision = object(
        &["outcome", "reason", "by", "at"],
        json!({"outcome": one_of(Outcome::ALL), "reason": text(200), "by": actor(), "at": instant()}),
    );
    let erasure = object(
        &["photosErased", "itemsDeleted"],
        json!({
            "photosErased": described(count(), "Photos whose keys were destroyed"),
            "itemsDeleted": described(count(), "Items of the record deleted: chart entries and their history, submissions, invitations, exports, photo records, the demographics"),
            "keptUntil": described(day(), "The last day the record is kept (its retention period): restricted until then"),
            "keptBecause": described(json!({"type": "string"}), "Why what is kept is kept"),
            "erasedAt": described(instant(), "When the record itself was erased: a tombstone of ids and the access log remain"),
        }),
    );
    let lifted = object(&["reason", "by", "at"], json!({"reason": text(200), "by": actor(), "at": instant()}));
    let schema = object(
        &["id", "patientId", "kind", "state", "receivedAt", "answerDue", "recorded", "version"],
        json!({
            "id": of::<EntityId>(),
            "patientId": of::<EntityId>(),
            "kind": one_of(RightsKind::ALL),
            "state": one_of(RightsState::ALL),
            "grounds": of::<LongText>(),
            "receivedAt": instant(),
            "answerDue": described(day(), "The day the clinic must answer by: a month after the request (Art. 12(3))"),
            "recorded": stamp,
            "decision": decision,
            "erasure": described(erasure, "What a granted erasure erased and kept"),
            "lifted": described(lifted, "A restriction's lifting"),
            "version": version(),
        }),
    );
    described(schema, "A patient's request to erase or restrict their record, its decision, and what that did")
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![("ErasureRequest", request())]
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    vec![
        answer("erasure-requests.create", reference("ErasureRequest")).versioned(),
        answer("erasure-requests.list", page(reference("ErasureRequest"))),
        answer("erasure-requests.read", reference("ErasureRequest")).versioned(),
        answer("erasure-requests.decide", reference("ErasureRequest")).versioned(),
        answer("erasure-requests.complete", reference("ErasureRequest")).versioned(),
        answer("erasure-requests.lift", reference("ErasureRequest")).versioned(),
        answer("erasure-requests.awaiting", page(reference("ErasureRequest"))),
    ]
}
