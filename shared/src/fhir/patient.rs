//! A patient's demographics as a Patient: the record number as its identifier, names, contact points, the
//! address, the emergency contact and the preferred language.

use serde_json::{Value, json};

use crate::domain::patient::{Patient, SexAtBirth};
use crate::domain::values::EntityId;

const IDENTIFIER_TYPES: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

/// The identifier system of a clinic's medical record numbers.
pub fn mrn_system(clinic: EntityId) -> String {
    format!("urn:vellum:clinic:{clinic}:mrn")
}

/// A patient as a Patient. Its administrative gender is the sex recorded at birth (intersex is `other`);
/// the stated gender identity is not carried, as R4 has no element for it.
pub fn patient(clinic: EntityId, patient: &Patient) -> Value {
    let d = &patient.details;
    let mut out = json!({
        "resourceType": "Patient",
        "id": patient.id.to_string(),
        "meta": { "versionId": patient.version.to_string(), "lastUpdated": patient.updated_at },
        "identifier": [{
            "use": "usual",
            "type": { "coding": [{ "system": IDENTIFIER_TYPES, "code": "MR" }], "text": "Medical record number" },
            "system": mrn_system(clinic),
            "value": patient.mrn,
        }],
        "active": true,
        "name": [{ "use": "official", "family": d.family_name.as_str(), "given": [d.given_name.as_str()] }],
        "gender": match d.sex_at_birth {
            SexAtBirth::Female => "female",
            SexAtBirth::Male => "male",
            SexAtBirth::Intersex => "other",
            SexAtBirth::Unknown => "unknown",
        },
        "birthDate": d.birth_date.0.0.to_string(),
    });
    if let Some(preferred) = &d.preferred_name
        && let Some(names) = out["name"].as_array_mut()
    {
        names.push(json!({ "use": "usual", "given": [preferred.as_str()], "family": d.family_name.as_str() }));
    }
    let mut telecom = Vec::new();
    if let Some(phone) = &d.phone {
        telecom.push(json!({ "system": "phone", "value": phone.as_str(), "use": "mobile" }));
    }
    if let Some(email) = &d.email {
        telecom.push(json!({ "system": "email", "value": email.as_str() }));
    }
    if !telecom.is_empty() {
        out["telecom"] = Value::Array(telecom);
    }
    if let Some(address) = &d.address {
        let given = serde_json::to_value(address).unwrap_or_default();
        let mut a = json!({ "line": given["lines"], "city": given["city"], "country": given["country"] });
        for (ours, theirs) in [("region", "state"), ("postalCode", "postalCode")] {
            if given[ours].is_string() {
                a[theirs] = given[ours].clone();
            }
        }
        out["address"] = json!([a]);
    }
    if let Some(contact) = &d.emergency_contact {
        let mut c = json!({
            "relationship": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C", "display": "Emergency Contact" }] }],
            "name": { "text": contact.name.as_str() },
            "telecom": [{ "system": "phone", "value": contact.phone.as_str() }],
        });
        if let Some(relationship) = &contact.relationship
            && let Some(list) = c["relationship"].as_array_mut()
        {
            list.push(json!({ "text": relationship.as_str() }));
        }
        out["contact"] = json!([c]);
    }
    if let Some(language) = &d.preferred_language {
        out["communication"] = json!([{
            "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": language.as_str() }] },
            "preferred": true,
        }]);
    }
    out
}
