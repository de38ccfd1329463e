//! Vital signs as Observations of the vital-signs profile: one per measure, coded in LOINC with UCUM units.

use serde_json::{Map, Value, json};

use super::{ResourceType, chart_resource, coded, patient_reference};
use crate::domain::chart::Entry;
use crate::domain::chart::vitals::Vitals;

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// The measures an entry of vital signs may hold: the id suffix, the LOINC code and its name.
pub const MEASURES: &[(&str, &str, &str)] = &[
    ("bp", "85354-9", "Blood pressure panel with all children optional"),
    ("hr", "8867-4", "Heart rate"),
    ("temp", "8310-5", "Body temperature"),
    ("weight", "29463-7", "Body weight"),
    ("height", "8302-2", "Body height"),
    ("bmi", "39156-5", "Body mass index (BMI) [Ratio]"),
];

/// A quantity in UCUM.
fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": code })
}

/// The value of each measure the entry holds, by suffix: a quantity, or (blood pressure) components.
fn values(vitals: &Vitals) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(bp) = &vitals.blood_pressure {
        let component = |code: &str, name: &str, value: f64| json!({ "code": coded(LOINC, code, Some(name)), "valueQuantity": quantity(value, "mmHg", "mm[Hg]") });
        out.push((
            "bp",
            json!({ "component": [
                component("8480-6", "Systolic blood pressure", bp.systolic),
                component("8462-4", "Diastolic blood pressure", bp.diastolic),
            ] }),
        ));
    }
    if let Some(rate) = vitals.heart_rate {
        out.push(("hr", json!({ "valueQuantity": quantity(rate, "beats/minute", "/min") })));
    }
    if let Some(t) = &vitals.temperature {
        let (unit, code) = if t.unit.as_str() == "C" { ("C", "Cel") } else { ("F", "[degF]") };
        out.push(("temp", json!({ "valueQuantity": quantity(t.value, unit, code) })));
    }
    if let Some(w) = &vitals.weight {
        let (unit, code) = if w.unit.as_str() == "kg" { ("kg", "kg") } else { ("lb", "[lb_av]") };
        out.push(("weight", json!({ "valueQuantity": quantity(w.value, unit, code) })));
    }
    if let Some(h) = &vitals.height {
        let (unit, code) = if h.unit.as_str() == "cm" { ("cm", "cm") } else { ("in", "[in_i]") };
        out.push(("height", json!({ "valueQuantity": quantity(h.value, unit, code) })));
    }
    if let Some(bmi) = vitals.bmi() {
        out.push(("bmi", json!({ "valueQuantity": quantity(bmi, "kg/m2", "kg/m2") })));
    }
    out
}

/// The observations of an entry of vital signs, one per measure it holds.
pub fn observations(entry: &Entry) -> Vec<Value> {
    let Ok(vitals) = serde_json::from_value::<Vitals>(Value::Object(entry.data.clone())) else {
        return Vec::new();
    };
    let status = if entry.is_valid() { "final" } else { "entered-in-error" };
    values(&vitals)
        .into_iter()
        .filter_map(|(suffix, value)| {
            let (_, code, name) = MEASURES.iter().find(|(s, ..)| *s == suffix)?;
            let mut out: Map<String, Value> = chart_resource(ResourceType::Observation, entry, Some(suffix));
            out.insert("status".into(), status.into());
            out.insert("category".into(), json!([coded(CATEGORY, "vital-signs", Some("Vital Signs"))]));
            let mut concept = coded(LOINC, code, Some(name));
            concept["text"] = (*name).into();
            out.insert("code".into(), concept);
            out.insert("subject".into(), patient_reference(entry.patient_id));
            out.insert("effectiveDateTime".into(), vitals.measured_at.as_str().into());
            if let Value::Object(value) = value {
                out.extend(value);
            }
            Some(Value::Object(out))
        })
        .collect()
}
