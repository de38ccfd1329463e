//! The OpenAPI schemas of the chart's, the photos' and the forms' request bodies, with enum values taken
//! from the domain types.

use serde_json::{Map, Value, json};

use super::openapi::{one_of, text};
use crate::domain::chart::allergy::{AllergyCategory, AllergyStatus, Severity, SubstanceCodeSystem};
use crate::domain::chart::condition::ConditionStatus;
use crate::domain::chart::medication::{MedicationRoute, MedicationStatus};
use crate::domain::chart::note::NoteType;
use crate::domain::chart::profile::{Fitzpatrick, PregnancyStatus};
use crate::domain::chart::treatment::{Diagram, QuantityUnit, TreatmentType};
use crate::domain::chart::vitals::{HeightUnit, TemperatureUnit, WeightUnit};
use crate::domain::forms::invitation::Channel;
use crate::domain::forms::template::QuestionKind;
use crate::domain::photo::{ConsentScope, MAX_UPLOAD_BYTES, Phase, PhotoType, StandardView};

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn date(description: &str) -> Value {
    json!({"type": "string", "format": "date", "description": description})
}

fn instant(description: &str) -> Value {
    json!({"type": "string", "format": "date-time", "description": description})
}

fn long_text() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 20000})
}

fn measured<T: Copy + std::fmt::Display>(units: &[T], description: &str) -> Value {
    let mut schema = object(&["value", "unit"], json!({"value": {"type": "number"}, "unit": one_of(units)}));
    schema["description"] = description.into();
    schema
}

fn quantity() -> Value {
    object(
        &["value", "unit"],
        json!({"value": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000}, "unit": one_of(QuantityUnit::ALL)}),
    )
}

/// The schemas, keyed by the names the route table gives.
pub fn schemas() -> Map<String, Value> {
    let source = json!({
        "type": "object", "additionalProperties": false, "required": ["type"],
        "description": "Where the information came from: staff-entered (the default) or imported from a named system",
        "properties": {"type": {"enum": ["staff-entered", "imported"]}, "system": text(200)},
    });
    let schemas = json!({
        "Allergy": {
            "description": "An allergy or intolerance, or {\"noKnownAllergies\": true} (which differs from not having asked)",
            "type": "object", "additionalProperties": false,
            "properties": {
                "noKnownAllergies": {"type": "boolean"},
                "substance": text(200),
                "code": object(&["system", "code"], json!({"system": one_of(SubstanceCodeSystem::ALL), "code": text(200)})),
                "category": one_of(AllergyCategory::ALL),
                "reaction": text(200),
                "severity": one_of(Severity::ALL),
                "status": one_of(AllergyStatus::ALL),
                "onset": date("Not in the future"),
                "note": long_text(),
                "source": source,
            },
        },
        "Medication": object(&["name"], json!({
            "name": text(200), "strength": text(200), "dose": text(200), "route": one_of(MedicationRoute::ALL),
            "frequency": text(200), "startDate": date("When the patient started"), "stopDate": date("Not before startDate"),
            "status": one_of(MedicationStatus::ALL), "reason": text(200), "note": long_text(), "source": source,
        })),
        "Condition": object(&[], json!({
            "code": {"type": "string", "pattern": "^[A-Za-z][0-9][0-9A-Za-z](\\.[0-9A-Za-z]{1,4})?$", "description": "ICD-10-CM; code or text is required"},
            "text": text(200), "status": one_of(ConditionStatus::ALL), "onset": date("Not in the future"),
            "note": long_text(), "source": source,
        })),
        "Vitals": object(&[], json!({
            "measuredAt": instant("Not in the future; now by default"),
            "bloodPressure": object(&["systolic", "diastolic"], json!({
                "systolic": {"type": "number", "minimum": 40, "maximum": 300, "description": "mmHg"},
                "diastolic": {"type": "number", "minimum": 20, "maximum": 200, "description": "mmHg, lower than systolic"},
            })),
            "heartRate": {"type": "number", "minimum": 20, "maximum": 300, "description": "Beats per minute"},
            "temperature": measured(TemperatureUnit::ALL, "25-45 C or 77-113 F"),
            "weight": measured(WeightUnit::ALL, "0.3-650 kg or 0.66-1433 lb"),
            "height": measured(HeightUnit::ALL, "20-275 cm or 7.9-108.3 in"),
            "note": text(200), "source": source,
        })),
        "Note": object(&[], json!({
            "type": one_of(NoteType::ALL),
            "encounterDate": date("Today by default"),
            "subjective": long_text(), "objective": long_text(), "assessment": long_text(), "plan": long_text(),
            "addendumTo": {"type": "string", "description": "The signed note this addendum corrects (type addendum)"},
            "source": source,
        })),
        "Treatment": object(&["type", "treatedAreas"], json!({
            "type": one_of(TreatmentType::ALL),
            "performedAt": instant("Not in the future; now by default"),
            "treatedAreas": {"type": "array", "minItems": 1, "maxItems": 20, "items": text(200)},
            "products": {"type": "array", "maxItems": 20, "description": "Required for neurotoxin, dermal-filler, biostimulator and thread-lift; an expired product is refused",
                "items": object(&["product", "manufacturer", "lotNumber", "expiryDate", "quantity"], json!({
                    "product": text(200), "manufacturer": text(200),
                    "lotNumber": {"type": "string", "pattern": "^[A-Za-z0-9 ./-]{1,40}$"},
                    "expiryDate": date("Not before the treatment day"), "quantity": quantity(),
                }))},
            "injectionPoints": {"type": "array", "maxItems": 300, "items": object(&["diagram", "x", "y", "amount"], json!({
                "diagram": one_of(Diagram::ALL),
                "x": {"type": "number", "minimum": 0, "maximum": 1}, "y": {"type": "number", "minimum": 0, "maximum": 1},
                "amount": quantity(), "productIndex": {"type": "integer", "minimum": 0, "maximum": 19},
                "area": text(200), "depth": text(200),
            }))},
            "technique": long_text(),
            "practitionerId": {"type": "string", "description": "An active practitioner or nurse of the clinic; the caller by default"},
            "consentId": {"type": "string"},
            "aftercare": object(&["given"], json!({"given": {"type": "boolean"}, "instructions": long_text()})),
            "followUpDate": date("Not before the treatment day"),
            "outcome": long_text(),
            "source": source,
        })),
        "AestheticProfile": object(&[], json!({
            "concerns": {"type": "array", "maxItems": 20, "items": text(200)},
            "goals": {"type": "array", "maxItems": 20, "items": text(200)},
            "fitzpatrick": one_of(Fitzpatrick::ALL),
            "pregnancy": object(&["status", "recordedOn"], json!({"status": one_of(PregnancyStatus::ALL), "recordedOn": date("When it was asked")})),
            "history": object(&[], json!({
                "keloids": {"type": "boolean"}, "coldSores": {"type": "boolean"}, "autoimmuneCondition": {"type": "boolean"},
                "previousFillerReaction": {"type": "boolean"}, "previousToxinReaction": {"type": "boolean"}, "details": long_text(),
            })),
            "source": source,
        })),
        "ChartEntryPatch": {
            "description": "A JSON merge patch (RFC 7396) of the entry's content (the fields its kind's create body takes, without source); the result is checked as a whole",
            "type": "object",
        },
        "EnteredInError": object(&["reason"], json!({"reason": text(200)})),
        "PhotoRequest": object(&["contentType", "byteSize", "bodyArea", "view", "capturedAt"], json!({
            "contentType": one_of(PhotoType::ALL),
            "byteSize": {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD_BYTES, "description": "The exact size the upload will have"},
            "bodyArea": text(200),
            "view": one_of(StandardView::ALL),
            "capturedAt": instant("When the photo was taken"),
            "treatmentId": {"type": "string", "description": "A treatment of this patient"},
            "phase": one_of(Phase::ALL),
            "consent": one_of(ConsentScope::ALL),
        })),
        "PhotoConsent": object(&["scope"], json!({"scope": one_of(ConsentScope::ALL)})),
        "Erasure": object(&["reason"], json!({"reason": text(200)})),
    });
    let mut all = match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Value::Object(forms) = form_schemas() {
        all.extend(forms);
    }
    all
}

/// The request bodies of templates, invitations, the patient's link and the review.
fn form_schemas() -> Value {
    json!({
        "FormTemplate": {
            "description": "Either {\"copyOf\": \"<built-in template id>\"} or a template: title, description, and sections of questions (id, kind, label, help, required, options, min, max, maxLength, followUp for yes-no, consentText for signatures)",
            "type": "object",
            "properties": {
                "copyOf": {"type": "string"},
                "title": text(200),
                "description": text(5000),
                "sections": {"type": "array", "minItems": 1, "maxItems": 30, "items": {"type": "object", "required": ["title", "questions"], "properties": {
                    "title": text(200),
                    "questions": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["id", "kind", "label"], "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
                        "kind": one_of(QuestionKind::ALL),
                        "label": text(500), "help": text(2000), "required": {"type": "boolean"},
                        "options": {"type": "array", "items": {"type": "object", "required": ["value", "label"], "properties": {"value": text(100), "label": text(200)}}},
                        "min": {"type": "number"}, "max": {"type": "number"}, "maxLength": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "followUp": {"type": "object", "description": "A question shown when the answer is yes"},
                        "consentText": text(20000),
                    }}},
                }}},
            },
        },
        "NewInvitation": {
            "type": "object", "additionalProperties": false, "required": ["templateIds"],
            "description": "patientId, or newPatient (the fields of PatientDetails)",
            "properties": {
                "patientId": {"type": "string"},
                "newPatient": {"$ref": "#/components/schemas/PatientDetails"},
                "templateIds": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string"}},
                "channel": one_of(Channel::ALL),
                "expiresInHours": {"type": "integer", "minimum": 1, "maximum": 336, "description": "72 by default"},
            },
        },
        "IntakeAnswers": object(&["answers"], json!({
            "answers": {"type": "object", "description": "By template id, then question id. A signature is {typedName, drawing: a PNG data URL}; a photo, the photoId the photo upload gave; an allergy list, [{substance, reaction, severity}]; a medication list, [{name, dose, frequency}]"},
        })),
        "IntakePhoto": object(&["contentType", "byteSize"], json!({
            "contentType": one_of(PhotoType::ALL),
            "byteSize": {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD_BYTES},
        })),
        "Acceptance": object(&["items"], json!({
            "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": object(&["templateId", "questionId"], json!({
                "templateId": {"type": "string"}, "questionId": {"type": "string"},
                "index": {"type": "integer", "minimum": 0, "description": "The list entry; absent for an allergy list answered empty (no known allergies)"},
            }))},
        })),
    })
}
