//! An appointment as an Appointment: its status, time, service, the patient, the performer and the rooms
//! and devices it holds.

use serde_json::{Value, json};

use super::{ResourceType, patient_reference, staff_reference, version_meta};
use crate::domain::scheduling::appointment::{Appointment, AppointmentStatus};

/// The code system of the clinic's services (their ids).
pub const SERVICES: &str = "urn:vellum:service";
/// The identifier system of the clinic's rooms and devices.
pub const RESOURCES: &str = "urn:vellum:resource";
/// The extension holding Vellum's own status, finer than FHIR's (confirmed, in treatment).
pub const STATUS: &str = "urn:vellum:fhir:appointment-status";

/// When the appointment last changed: its booking, a move, a status step or its cancellation.
pub fn updated_at(appointment: &Appointment) -> String {
    let mut times = vec![appointment.booked_at.as_str()];
    times.extend(appointment.moves.iter().map(|m| m.at.as_str()));
    times.extend(appointment.status_changes.iter().map(|c| c.at.as_str()));
    times.extend(appointment.cancellation.as_ref().map(|c| c.at.as_str()));
    times.into_iter().max().unwrap_or_default().to_string()
}

fn status(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Booked => "booked",
        // FHIR's booked is "confirmed by all participants"; Vellum's confirmed is the patient's confirmation.
        AppointmentStatus::Confirmed => "booked",
        AppointmentStatus::Arrived | AppointmentStatus::InTreatment => "arrived",
        AppointmentStatus::Completed => "fulfilled",
        AppointmentStatus::Cancelled => "cancelled",
        AppointmentStatus::NoShow => "noshow",
    }
}

/// The appointment as an Appointment.
pub fn appointment(a: &Appointment) -> Value {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut participants = vec![
        json!({ "actor": patient_reference(a.patient_id), "required": "required", "status": "accepted" }),
        json!({ "actor": staff_reference(&a.staff_id), "required": "required", "status": "accepted" }),
    ];
    participants.extend(a.resource_ids.iter().map(|r| {
        json!({ "actor": { "identifier": { "system": RESOURCES, "value": r.to_string() } },
            "required": "required", "status": "accepted" })
    }));
    let mut out = json!({
        "resourceType": ResourceType::Appointment.as_str(),
        "id": a.id.to_string(),
        "meta": version_meta(a.version, &updated_at(a)),
        "extension": [{ "url": STATUS, "valueCode": a.status.as_str() }],
        "status": status(a.status),
        "serviceType": [{ "coding": [{ "system": SERVICES, "code": a.service_id.to_string() }] }],
        "start": time(a.start),
        "end": time(a.end),
        "minutesDuration": (a.end - a.start).num_minutes(),
        "created": a.booked_at,
        "participant": participants,
    });
    if let Some(note) = &a.note {
        out["comment"] = note.as_str().into();
    }
    if let Some(cancellation) = &a.cancellation {
        out["cancelationReason"] = json!({ "text": cancellation.reason.as_str() });
    }
    out
}
