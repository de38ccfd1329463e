//! Where a chart entry's information came from, as a Provenance: the patient's own form (accepted by
//! staff) or another system it was imported from. Entries staff typed carry it in `meta.tag` only.

use serde_json::{Value, json};

use super::{ResourceType, actor_reference, coded, patient_reference, record_id, version_meta};
use crate::domain::chart::{Entry, Source};

const PARTICIPANT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
const DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";

/// The Provenance of an entry that did not start with staff (its id ends in the entry's kind); none for
/// one staff typed.
pub fn of_entry(entry: &Entry) -> Option<Value> {
    let (author, entity) = match &entry.source {
        Source::StaffEntered => return None,
        Source::PatientEntered { submission_id } => (
            patient_reference(entry.patient_id),
            Some(json!([{ "role": "source",
                "what": { "identifier": { "system": "urn:vellum:submission", "value": submission_id.to_string() } } }])),
        ),
        Source::Imported { system } => (json!({ "display": system.as_str() }), None),
    };
    let resource_type = ResourceType::of_kind(entry.kind)?;
    let targets: Vec<Value> = resource_type
        .from_entry(entry)
        .iter()
        .map(|r| json!({ "reference": format!("{}/{}", resource_type.as_str(), r["id"].as_str().unwrap_or("")) }))
        .collect();
    let operation = if entry.version == 1 { "CREATE" } else { "UPDATE" };
    let mut out = json!({
        "resourceType": ResourceType::Provenance.as_str(),
        "id": record_id(entry.patient_id, entry.id, Some(entry.kind.as_str())),
        "meta": version_meta(entry.version, &entry.updated_at),
        "target": targets,
        "recorded": entry.updated_at,
        "activity": coded(DATA_OPERATION, operation, None),
        "agent": [
            { "type": coded(PARTICIPANT_TYPE, "author", Some("Author")), "who": author },
            { "type": coded(PARTICIPANT_TYPE, "enterer", Some("Enterer")), "who": actor_reference(&entry.updated_by) },
        ],
    });
    if let Some(entity) = entity {
        out["entity"] = entity;
    }
    Some(out)
}
