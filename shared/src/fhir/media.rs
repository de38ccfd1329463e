//! A photo as a Media: what it shows, when, of which treatment, and its consent, metadata only. The image
//! stays behind the JSON API's audited, consent-checked view, which the identifier names it to.

use serde_json::{Value, json};

use super::{ResourceType, actor_reference, coded, patient_reference, record_id, text_concept, version_meta};
use crate::domain::photo::{Photo, PhotoState};

/// The identifier system of photos: the id the JSON API's view takes.
pub const PHOTOS: &str = "urn:vellum:photo";
/// The extension saying whether a photo is before or after its treatment.
pub const PHASE: &str = "urn:vellum:fhir:photo-phase";
/// The extension saying what the patient agreed the photo may be used for.
pub const CONSENT: &str = "urn:vellum:fhir:photo-consent";
const MEDIA_TYPE: &str = "http://terminology.hl7.org/CodeSystem/media-type";

/// When a photo last changed: its upload, processing, consent changes or erasure, whichever is latest.
pub fn updated_at(photo: &Photo) -> String {
    let mut times = vec![photo.created_at.as_str()];
    times.extend(photo.processed_at.as_deref());
    times.extend(photo.consent_history.iter().map(|c| c.at.as_str()));
    times.extend(photo.erased.as_ref().map(|e| e.at.as_str()));
    times.into_iter().max().unwrap_or_default().to_string()
}

/// The photo as a Media; none once erased (nothing is left to describe but a tombstone, which the audit
/// trail keeps).
pub fn media(photo: &Photo) -> Option<Value> {
    let status = match photo.state {
        PhotoState::Ready => "completed",
        PhotoState::Pending => "preparation",
        PhotoState::Rejected => "not-done",
        PhotoState::Erased => return None,
    };
    let request = &photo.request;
    let mut out = json!({
        "resourceType": ResourceType::Media.as_str(),
        "id": record_id(photo.patient_id, photo.id, None),
        "meta": version_meta(photo.version, &updated_at(photo)),
        "identifier": [{ "system": PHOTOS, "value": photo.id.to_string() }],
        "status": status,
        "type": coded(MEDIA_TYPE, "image", Some("Image")),
        "view": text_concept(request.view.as_str()),
        "subject": patient_reference(photo.patient_id),
        "createdDateTime": request.captured_at.as_str(),
        "issued": photo.created_at,
        "operator": actor_reference(&photo.uploaded_by),
        "bodySite": text_concept(request.body_area.as_str()),
        "content": { "contentType": request.content_type.as_str(), "creation": request.captured_at.as_str() },
        "extension": [{ "url": CONSENT, "valueCode": photo.consent().as_str() }],
    });
    if let Some(treatment) = request.treatment_id {
        out["partOf"] = json!([{ "reference": format!("Procedure/{}", record_id(photo.patient_id, treatment, None)) }]);
    }
    if let (Some(phase), Some(extensions)) = (request.phase, out["extension"].as_array_mut()) {
        extensions.push(json!({ "url": PHASE, "valueCode": phase.as_str() }));
    }
    if let Some(display) = &photo.display {
        // The stored display rendition is a JPEG of these dimensions.
        out["width"] = display.width.into();
        out["height"] = display.height.into();
        out["content"]["contentType"] = "image/jpeg".into();
    }
    if let Some(reason) = &photo.rejection {
        out["note"] = json!([{ "text": format!("Rejected: {reason}") }]);
    }
    Some(out)
}
