//! Allergies, medications and conditions as AllergyIntolerance, MedicationStatement and Condition.

use serde_json::{Value, json};

use super::{ResourceType, chart_resource, coded, patient_reference, text_concept};
use crate::domain::chart::Entry;

const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
const ALLERGY_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const ICD10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// SNOMED CT's "No known allergy" (situation), the standard code for a recorded absence of allergies.
pub const NO_KNOWN_ALLERGY: &str = "716186003";

/// The FHIR code system of a substance code's system, if it has one.
fn substance_system(system: &str) -> Option<&'static str> {
    match system {
        "rxnorm" => Some("http://www.nlm.nih.gov/research/umls/rxnorm"),
        "snomed-ct" => Some(SNOMED),
        "unii" => Some("http://fdasis.nlm.nih.gov"),
        _ => None,
    }
}

fn field<'a>(entry: &'a Entry, name: &str) -> Option<&'a Value> {
    entry.data.get(name)
}

/// An allergy (or the absence of any) as an AllergyIntolerance.
pub fn allergy(entry: &Entry) -> Value {
    let mut out = chart_resource(ResourceType::AllergyIntolerance, entry, None);
    let no_known = field(entry, "noKnownAllergies") == Some(&Value::Bool(true));
    let code = if no_known {
        let mut code = coded(SNOMED, NO_KNOWN_ALLERGY, Some("No known allergy"));
        code["text"] = "No known allergies".into();
        code
    } else {
        let mut code = text_concept(entry.text("substance").unwrap_or("unnamed substance"));
        let given = field(entry, "code");
        let system = given.and_then(|c| c["system"].as_str()).and_then(substance_system);
        if let (Some(system), Some(value)) = (system, given.and_then(|c| c["code"].as_str())) {
            code["coding"] = json!([{ "system": system, "code": value }]);
        }
        code
    };
    if entry.is_valid() {
        out.insert("clinicalStatus".into(), coded(ALLERGY_CLINICAL, entry.text("status").unwrap_or("active"), None));
        out.insert("verificationStatus".into(), coded(ALLERGY_VERIFICATION, "confirmed", None));
    } else {
        // An entry in error has no clinical status (ait-2).
        out.insert("verificationStatus".into(), coded(ALLERGY_VERIFICATION, "entered-in-error", None));
    }
    if let Some(category) =
        entry.text("category").filter(|c| ["food", "medication", "environment", "biologic"].contains(c))
    {
        out.insert("category".into(), json!([category]));
    }
    let severity = entry.text("severity");
    if let Some(severity) = severity {
        let critical = matches!(severity, "severe" | "life-threatening");
        out.insert("criticality".into(), if critical { "high" } else { "low" }.into());
    }
    out.insert("code".into(), code);
    out.insert("patient".into(), patient_reference(entry.patient_id));
    if let Some(onset) = entry.text("onset") {
        out.insert("onsetDateTime".into(), onset.into());
    }
    out.insert("recordedDate".into(), entry.recorded_at.clone().into());
    if let Some(reaction) = entry.text("reaction") {
        let mut described = json!({ "manifestation": [text_concept(reaction)] });
        if let Some(severity) = severity {
            described["severity"] = if severity == "life-threatening" { "severe" } else { severity }.into();
        }
        out.insert("reaction".into(), json!([described]));
    }
    Value::Object(out)
}

/// A medication as a MedicationStatement.
pub fn medication(entry: &Entry) -> Value {
    let mut out = chart_resource(ResourceType::MedicationStatement, entry, None);
    let status = if entry.is_valid() { entry.text("status").unwrap_or("unknown") } else { "entered-in-error" };
    out.insert("status".into(), status.into());
    let name = entry.text("name").unwrap_or("unnamed medication");
    let named = match entry.text("strength") {
        Some(strength) => format!("{name} {strength}"),
        None => name.to_string(),
    };
    out.insert("medicationCodeableConcept".into(), text_concept(&named));
    out.insert("subject".into(), patient_reference(entry.patient_id));
    let mut period = serde_json::Map::new();
    if let Some(start) = entry.text("startDate") {
        period.insert("start".into(), start.into());
    }
    if let Some(end) = entry.text("stopDate") {
        period.insert("end".into(), end.into());
    }
    if !period.is_empty() {
        out.insert("effectivePeriod".into(), Value::Object(period));
    }
    out.insert("dateAsserted".into(), entry.recorded_at.clone().into());
    if let Some(reason) = entry.text("reason") {
        out.insert("reasonCode".into(), json!([text_concept(reason)]));
    }
    let how: Vec<&str> = [entry.text("dose"), entry.text("frequency")].into_iter().flatten().collect();
    let mut dosage = serde_json::Map::new();
    if !how.is_empty() {
        dosage.insert("text".into(), how.join(", ").into());
    }
    if let Some(route) = entry.text("route") {
        dosage.insert("route".into(), text_concept(route));
    }
    if !dosage.is_empty() {
        out.insert("dosage".into(), json!([dosage]));
    }
    Value::Object(out)
}

/// A condition as a Condition, its code in ICD-10-CM.
pub fn condition(entry: &Entry) -> Value {
    let mut out = chart_resource(ResourceType::Condition, entry, None);
    if entry.is_valid() {
        out.insert("clinicalStatus".into(), coded(CONDITION_CLINICAL, entry.text("status").unwrap_or("active"), None));
        out.insert("verificationStatus".into(), coded(CONDITION_VERIFICATION, "confirmed", None));
    } else {
        // An entry in error has no clinical status (con-5).
        out.insert("verificationStatus".into(), coded(CONDITION_VERIFICATION, "entered-in-error", None));
    }
    out.insert("category".into(), json!([coded(CONDITION_CATEGORY, "problem-list-item", Some("Problem List Item"))]));
    let derived = crate::domain::chart::condition::derived(&entry.data);
    let code_name = derived.get("codeName").and_then(Value::as_str);
    let mut code = match entry.text("code") {
        Some(icd) => coded(ICD10_CM, icd, code_name),
        None => json!({}),
    };
    if let Some(text) = entry.text("text").or(code_name) {
        code["text"] = text.into();
    }
    out.insert("code".into(), code);
    out.insert("subject".into(), patient_reference(entry.patient_id));
    if let Some(onset) = entry.text("onset") {
        out.insert("onsetDateTime".into(), onset.into());
    }
    out.insert("recordedDate".into(), entry.recorded_at.clone().into());
    Value::Object(out)
}
