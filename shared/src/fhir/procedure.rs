//! A treatment as a Procedure: its type and catalogue procedure, the treated areas, who performed it, and
//! each product used as a contained Medication with its lot, expiry and the quantity used.

use serde_json::{Map, Value, json};

use super::{ResourceType, actor_reference, chart_resource, patient_reference, staff_reference, text_concept};
use crate::domain::chart::Entry;
use crate::domain::chart::treatment::Treatment;

/// The code system of Vellum's treatment types.
pub const TREATMENT_TYPES: &str = "urn:vellum:treatment-type";
/// The code system of the safety catalogue's procedures.
pub const PROCEDURES: &str = "urn:vellum:procedure";
/// The extension on a product's reference that says how much of it was used.
pub const QUANTITY_USED: &str = "urn:vellum:fhir:quantity-used";
/// How a note of a Procedure starts that gives the technique, and one that gives the aftercare instructions.
pub const TECHNIQUE_NOTE: &str = "Technique: ";
pub const AFTERCARE_NOTE: &str = "Aftercare: ";
/// How the follow-up's text starts, before its date.
pub const FOLLOW_UP: &str = "Follow up on ";

/// Vellum's quantity units that have a UCUM code, with it.
pub const UCUM_UNITS: &[(&str, &str)] = &[("units", "[U]"), ("mL", "mL")];

/// The UCUM code of a quantity unit, where it has one.
fn ucum(unit: &str) -> Option<&'static str> {
    UCUM_UNITS.iter().find(|(ours, _)| *ours == unit).map(|(_, code)| *code)
}

/// A treatment as a Procedure.
pub fn procedure(entry: &Entry) -> Value {
    let mut out = chart_resource(ResourceType::Procedure, entry, None);
    let Ok(treatment) = serde_json::from_value::<Treatment>(Value::Object(entry.data.clone())) else {
        out.insert("status".into(), "unknown".into());
        out.insert("subject".into(), patient_reference(entry.patient_id));
        return Value::Object(out);
    };
    out.insert("status".into(), if entry.is_valid() { "completed" } else { "entered-in-error" }.into());
    let kind = treatment.treatment_type.as_str();
    let mut codings = vec![json!({ "system": TREATMENT_TYPES, "code": kind })];
    if let Some(procedure) = &treatment.procedure {
        codings.push(json!({ "system": PROCEDURES, "code": procedure.0 }));
    }
    let text = match &treatment.procedure {
        Some(procedure) => format!("{kind} ({})", procedure.0),
        None => kind.to_string(),
    };
    out.insert("code".into(), json!({ "coding": codings, "text": text }));
    out.insert("subject".into(), patient_reference(entry.patient_id));
    out.insert("performedDateTime".into(), treatment.performed_at.as_str().into());
    out.insert("recorder".into(), actor_reference(&entry.recorded_by));
    if let Some(practitioner) = &treatment.practitioner_id {
        out.insert("performer".into(), json!([{ "actor": staff_reference(practitioner) }]));
    } else if let Some(name) = &treatment.external_practitioner {
        out.insert("performer".into(), json!([{ "actor": { "display": name.as_str() } }]));
    }
    if !treatment.treated_areas.is_empty() {
        let sites: Vec<Value> = treatment.treated_areas.iter().map(|a| text_concept(a.as_str())).collect();
        out.insert("bodySite".into(), Value::Array(sites));
    }
    if let Some(outcome) = &treatment.outcome {
        out.insert("outcome".into(), text_concept(outcome.as_str()));
    }
    let mut notes = Vec::new();
    if let Some(technique) = &treatment.technique {
        notes.push(json!({ "text": format!("{TECHNIQUE_NOTE}{}", technique.as_str()) }));
    }
    if let Some(instructions) = treatment.aftercare.as_ref().and_then(|a| a.instructions.as_ref()) {
        notes.push(json!({ "text": format!("{AFTERCARE_NOTE}{}", instructions.as_str()) }));
    }
    if !notes.is_empty() {
        out.insert("note".into(), Value::Array(notes));
    }
    if let Some(date) = &treatment.follow_up_date {
        out.insert("followUp".into(), json!([text_concept(&format!("{FOLLOW_UP}{}", date.0))]));
    }
    let mut contained = Vec::new();
    let mut used = Vec::new();
    for (i, product) in treatment.products.iter().enumerate() {
        let id = format!("product-{i}");
        contained.push(json!({
            "resourceType": "Medication",
            "id": id,
            "code": text_concept(product.product.as_str()),
            "manufacturer": { "display": product.manufacturer.as_str() },
            "batch": { "lotNumber": product.lot_number.as_str(), "expirationDate": product.expiry_date.0.to_string() },
        }));
        let unit = product.quantity.unit.as_str();
        let mut amount = Map::new();
        amount.insert("value".into(), json!(product.quantity.value));
        amount.insert("unit".into(), unit.into());
        if let Some(code) = ucum(unit) {
            amount.insert("system".into(), "http://unitsofmeasure.org".into());
            amount.insert("code".into(), code.into());
        }
        used.push(json!({
            "reference": format!("#{id}"),
            "extension": [{ "url": QUANTITY_USED, "valueQuantity": amount }],
        }));
    }
    if !used.is_empty() {
        out.insert("contained".into(), Value::Array(contained));
        out.insert("usedReference".into(), Value::Array(used));
    }
    Value::Object(out)
}
