//! The OpenAPI schemas of the chart's, the photos' and the forms' request bodies, with enum values taken
//! from the domain types.

use serde_json::{Map, Value, json};

use super::openapi::{of, template_id, text};
use crate::api::submissions::MAX_PICKS;
use crate::domain::chart::allergy::{ABOUT_A_SUBSTANCE, AllergyCategory, AllergyStatus, Severity, SubstanceCodeSystem};
use crate::domain::chart::condition::ConditionStatus;
use crate::domain::chart::icd10::Icd10Code;
use crate::domain::chart::medication::{MedicationRoute, MedicationStatus};
use crate::domain::chart::note::{NoteType, SOAP};
use crate::domain::chart::profile::{Fitzpatrick, PROFILE_FIELDS, PregnancyStatus};
use crate::domain::chart::treatment::LotNumber;
use crate::domain::chart::treatment::{Diagram, QuantityUnit, TreatmentType};
use crate::domain::chart::vitals::{MEASURES, measurement_schemas};
use crate::domain::forms::invitation::Channel;
use crate::domain::forms::template::{MAX_QUESTIONS, MAX_TEXT, QuestionKind};
use crate::domain::photo::{ConsentScope, MAX_UPLOAD_BYTES, Phase, PhotoType, StandardView};
use crate::domain::safety::ClassId;
use crate::domain::safety::gate::{ACKNOWLEDGEMENTS, MAX_ACKNOWLEDGEMENTS};
use crate::domain::safety::plan::MAX_PRODUCTS;
use crate::domain::safety::products::{MAX_ALIASES, MAX_CLASSES};
use crate::domain::safety::rules::RULES;
use crate::domain::safety::{ProcedureId, ProductId, RxNormCode};
use crate::domain::scheduling::CatalogueStatus;
use crate::domain::schema::{absent, any_given, given, one_of};
use crate::domain::values::{Date, EntityId, LongText, PastDate, PastInstant, ShortText, UserId};

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

/// `schema` with a description of its own.
pub(super) fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = description.into();
    schema
}

fn date(description: &str) -> Value {
    described(of::<Date>(), description)
}

fn past_date(description: &str) -> Value {
    described(of::<PastDate>(), description)
}

fn instant(description: &str) -> Value {
    described(of::<PastInstant>(), description)
}

fn long_text() -> Value {
    of::<LongText>()
}

fn quantity() -> Value {
    object(
        &["value", "unit"],
        json!({"value": {"type": "number", "minimum": 0.001, "maximum": 10000}, "unit": one_of(QuantityUnit::ALL)}),
    )
}

/// The schemas, keyed by the names the route table gives.
pub fn schemas() -> Map<String, Value> {
    let source = json!({
        "type": "object", "additionalProperties": false, "required": ["type"],
        "description": "Where the information came from: staff-entered (the default) or imported from a named system",
        "properties": {"type": {"enum": ["staff-entered", "imported"]}, "system": text(200)},
        "anyOf": [
            {"allOf": [{"properties": {"type": {"const": "staff-entered"}}}, absent("system")]},
            {"allOf": [{"properties": {"type": {"const": "imported"}}}, given("system")]},
        ],
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
                "onset": past_date("Not in the future"),
                "note": long_text(),
                "source": source,
            },
            "anyOf": [
                {"allOf": [{"required": ["noKnownAllergies"], "properties": {"noKnownAllergies": {"const": true}}}, {"not": any_given(ABOUT_A_SUBSTANCE)}]},
                {"allOf": [given("substance"), {"properties": {"noKnownAllergies": {"enum": [false, null]}}}]},
            ],
        },
        "Medication": object(&["name"], json!({
            "name": text(200), "strength": text(200), "dose": text(200), "route": one_of(MedicationRoute::ALL),
            "frequency": text(200), "startDate": date("When the patient started"), "stopDate": date("Not before startDate"),
            "status": one_of(MedicationStatus::ALL), "reason": text(200), "note": long_text(), "source": source,
            ACKNOWLEDGEMENTS: acknowledgements(),
        })),
        "Condition": object(&[], json!({
            "code": described(of::<Icd10Code>(), "ICD-10-CM; code or text is required"),
            "text": text(200), "status": one_of(ConditionStatus::ALL), "onset": past_date("Not in the future"),
            "note": long_text(), "source": source,
        })),
        "Vitals": object(&[], json!({
            "measuredAt": instant("Not in the future; now by default"),
            "bloodPressure": object(&["systolic", "diastolic"], json!({
                "systolic": {"type": "number", "minimum": 40, "maximum": 300, "description": "mmHg"},
                "diastolic": {"type": "number", "minimum": 20, "maximum": 200, "description": "mmHg, lower than systolic"},
            })),
            "heartRate": {"type": "number", "minimum": 20, "maximum": 300, "description": "Beats per minute"},
            "note": text(200), "source": source,
        })),
        "Note": object(&[], json!({
            "type": one_of(NoteType::ALL),
            "encounterDate": past_date("Today by default"),
            "subjective": long_text(), "objective": long_text(), "assessment": long_text(), "plan": long_text(),
            "addendumTo": described(of::<EntityId>(), "The signed note this addendum corrects (type addendum)"),
            "source": source,
        })),
        "Treatment": object(&["type", "treatedAreas"], json!({
            "type": one_of(TreatmentType::ALL),
            "procedure": described(of::<ProcedureId>(), "The procedure of the safety catalogue, of the treatment's type: required for laser and chemical-peel"),
            "performedAt": instant("Not in the future; now by default"),
            "treatedAreas": {"type": "array", "minItems": 1, "maxItems": 20, "items": text(200)},
            "products": {"type": "array", "maxItems": 20, "description": "Required for neurotoxin, dermal-filler, biostimulator and thread-lift; an expired product is refused",
                "items": object(&["product", "manufacturer", "lotNumber", "expiryDate", "quantity"], json!({
                    "product": text(200), "manufacturer": text(200),
                    "lotNumber": of::<LotNumber>(),
                    "expiryDate": date("Not before the treatment day"), "quantity": quantity(),
                }))},
            "injectionPoints": {"type": "array", "maxItems": 300, "items": object(&["diagram", "x", "y", "amount"], json!({
                "diagram": one_of(Diagram::ALL),
                "x": {"type": "number", "minimum": 0, "maximum": 1, "description": "Across the diagram, kept to 6 decimal places"},
                "y": {"type": "number", "minimum": 0, "maximum": 1, "description": "Down the diagram, kept to 6 decimal places"},
                "amount": quantity(), "productIndex": {"type": "integer", "minimum": 0, "maximum": 19},
                "area": text(200), "depth": text(200),
            }))},
            "technique": long_text(),
            "practitionerId": described(of::<UserId>(), "An active practitioner or nurse of the clinic; the caller by default, unless externalPractitioner is given"),
            "externalPractitioner": described(text(200), "Who performed it when no member of the clinic did (a treatment imported, or given elsewhere); not with practitionerId"),
            "consentId": of::<EntityId>(),
            "aftercare": object(&["given"], json!({"given": {"type": "boolean"}, "instructions": long_text()})),
            "followUpDate": date("Not before the treatment day"),
            "outcome": long_text(),
            "source": source,
            ACKNOWLEDGEMENTS: acknowledgements(),
        })),
        "AestheticProfile": object(&[], json!({
            "concerns": {"type": "array", "maxItems": 20, "items": text(200)},
            "goals": {"type": "array", "maxItems": 20, "items": text(200)},
            "fitzpatrick": one_of(Fitzpatrick::ALL),
            "pregnancy": object(&["status", "recordedOn"], json!({"status": one_of(PregnancyStatus::ALL), "recordedOn": past_date("When it was asked")})),
            "history": object(&[], json!({
                "keloids": {"type": "boolean"}, "coldSores": {"type": "boolean"}, "autoimmuneCondition": {"type": "boolean"},
                "previousFillerReaction": {"type": "boolean"}, "previousToxinReaction": {"type": "boolean"}, "details": long_text(),
            })),
            "source": source,
        })),
        "EnteredInError": object(&["reason"], json!({"reason": text(200)})),
        "PhotoRequest": object(&["contentType", "byteSize", "bodyArea", "view", "capturedAt"], json!({
            "contentType": one_of(PhotoType::ALL),
            "byteSize": {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD_BYTES, "description": "The exact size the upload will have"},
            "bodyArea": text(200),
            "view": one_of(StandardView::ALL),
            "capturedAt": instant("When the photo was taken"),
            "treatmentId": described(of::<EntityId>(), "A treatment of this patient"),
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
    if let Some(properties) = all.get_mut("Vitals").and_then(|v| v["properties"].as_object_mut()) {
        properties.extend(measurement_schemas().map(|(name, schema)| (name.to_string(), schema)));
    }
    let kinds_but_addendum: Vec<Value> =
        NoteType::ALL.iter().filter(|t| **t != NoteType::Addendum).map(|t| json!(t.as_str())).collect();
    let product_types: Vec<TreatmentType> = TreatmentType::ALL.iter().copied().filter(|t| t.uses_products()).collect();
    let rules = [
        ("Vitals", any_given(&MEASURES)),
        ("Condition", any_given(&["code", "text"])),
        ("AestheticProfile", any_given(&PROFILE_FIELDS)),
        ("PhotoRequest", json!({"anyOf": [absent("phase"), given("treatmentId")]})),
        (
            "Treatment",
            json!({"allOf": [
                {"anyOf": [
                    {"properties": {"type": {"not": one_of(&product_types)}}},
                    {"allOf": [given("products"), {"properties": {"products": {"minItems": 1}}}]},
                ]},
                {"anyOf": procedures_by_type()},
                {"anyOf": [absent("practitionerId"), absent("externalPractitioner")]},
            ]}),
        ),
        (
            "Note",
            json!({"allOf": [any_given(&SOAP), {"anyOf": [
                {"allOf": [given("addendumTo"), {"properties": {"type": {"enum": ["addendum", null]}}}]},
                {"allOf": [absent("addendumTo"), {"properties": {"type": {"enum": kinds_but_addendum}}}]},
            ]}]}),
        ),
    ];
    for (name, rule) in rules {
        if let (Some(Value::Object(schema)), Value::Object(rule)) = (all.get_mut(name), rule) {
            schema.extend(rule);
        }
    }
    if let Value::Object(forms) = form_schemas() {
        all.extend(forms);
    }
    all.insert("SafetyCheck".into(), safety_check());
    all.insert("SafetyProduct".into(), safety_product());
    all
}

/// A product the clinic adds to the safety catalogue.
fn safety_product() -> Value {
    let name = text(200);
    described(
        object(
            &["name", "manufacturer", "treatmentType", "classes"],
            json!({
                "name": described(name.clone(), "No name a shipped product or another of the clinic's goes by"),
                "manufacturer": text(200),
                "aliases": {"type": "array", "maxItems": MAX_ALIASES, "items": name, "description": "Other names it is charted under"},
                "treatmentType": one_of(TreatmentType::ALL),
                "classes": {"type": "array", "minItems": 1, "maxItems": MAX_CLASSES, "uniqueItems": true, "items": of::<ClassId>(),
                            "description": "The classes of what it contains, e.g. amide-local-anesthetics for a filler with lidocaine"},
                "note": described(long_text(), "Where what it contains was read: its label, its instructions for use"),
                "status": one_of(CatalogueStatus::ALL),
            }),
        ),
        "A product the shipped safety catalogue lacks: what a treatment of it is, and the classes of what it contains",
    )
}

/// Blocking safety alerts acknowledged to go ahead, each with its reason.
pub fn acknowledgements() -> Value {
    json!({
        "type": "array", "maxItems": MAX_ACKNOWLEDGEMENTS,
        "description": "Acknowledges blocking safety alerts (a 409 lists them) so the write goes ahead: each rule once, with the reason; kept with the entry and listed at GET /v1/overrides",
        "items": object(&["ruleId", "reason"], json!({
            "ruleId": one_of(RULES.rules.iter().map(|r| &r.id)),
            "reason": described(text(200), "Why the action goes ahead despite the alert (without one, 422)"),
        })),
    })
}

/// The procedures of the catalogue a treatment of `kind` may name, by id, and `null` (an absent procedure)
/// where it may name none.
fn procedure_ids(kind: TreatmentType) -> Vec<Value> {
    let mut ids: Vec<Value> =
        RULES.procedures.iter().filter(|p| p.treatment_type == kind).map(|p| json!(p.id)).collect();
    if !kind.names_its_procedure() {
        ids.push(Value::Null);
    }
    ids
}

/// The procedures each treatment type may name: one alternative a type.
fn procedures_by_type() -> Vec<Value> {
    TreatmentType::ALL
        .iter()
        .map(|kind| {
            let required: Vec<&str> = if kind.names_its_procedure() { vec!["procedure"] } else { Vec::new() };
            json!({"required": required, "properties": {"type": {"const": kind.as_str()}, "procedure": {"enum": procedure_ids(*kind)}}})
        })
        .collect()
}

/// A planned treatment (`TreatmentPlan`): its type, and the catalogue's products and procedure of that type,
/// by id.
pub fn treatment_plan() -> Value {
    let rules = &*RULES;
    let per_type: Vec<Value> = TreatmentType::ALL
        .iter()
        .map(|kind| {
            let products: Vec<&str> =
                rules.products.iter().filter(|p| p.treatment_type == *kind).map(|p| p.id.as_str()).collect();
            // None of another type's shipped products (the clinic's own, by id, are checked by the server);
            // `null` is an absent procedure, where one may be absent.
            let clinic_product = of::<EntityId>();
            let product_ids = if products.is_empty() {
                clinic_product
            } else {
                json!({"anyOf": [{"enum": products}, clinic_product]})
            };
            let mut required = Vec::new();
            if kind.uses_products() {
                required.push("products");
            }
            if kind.names_its_procedure() {
                required.push("procedure");
            }
            let products = match kind.uses_products() {
                true => json!({"type": "array", "minItems": 1, "items": product_ids}),
                false => json!({"items": product_ids}),
            };
            json!({"required": required, "properties": {
                "type": {"const": kind.as_str()},
                "products": products,
                "procedure": {"enum": procedure_ids(*kind)},
            }})
        })
        .collect();
    let mut treatment = object(
        &["type"],
        json!({
            "type": one_of(TreatmentType::ALL),
            "products": {"type": "array", "maxItems": MAX_PRODUCTS, "items": of::<ProductId>(),
                         "description": "Products of the catalogue, by id, of the treatment's type"},
            "procedure": described(of::<ProcedureId>(), "A procedure of the catalogue, by id, of the treatment's type"),
        }),
    );
    treatment["oneOf"] = json!(per_type);
    treatment
}

/// A proposed action to check: a treatment (`TreatmentPlan`) or a medication (its name, an RxNorm code).
fn safety_check() -> Value {
    let treatment = treatment_plan();
    let medication = object(
        &["name"],
        json!({"name": of::<ShortText>(), "rxnormCode": described(of::<RxNormCode>(), "The RxNorm concept id, where known")}),
    );
    json!({
        "type": "object", "additionalProperties": false,
        "description": "A proposed action: a treatment or a medication, one of them",
        "properties": {"treatment": treatment, "medication": medication},
        "oneOf": [{"allOf": [given("treatment"), absent("medication")]}, {"allOf": [given("medication"), absent("treatment")]}],
    })
}

/// Text a template holds: 1 to `max` characters, line breaks allowed.
fn template_text(max: usize) -> Value {
    crate::domain::schema::trimmed_text(max, true)
}

/// A template's content: every rule `TemplateContent::check` keeps but two that tie questions together
/// (ids distinct across the template, choice values distinct within a question).
fn template_content() -> Value {
    object(
        &["title", "sections"],
        json!({
            "title": template_text(200),
            "description": template_text(5000),
            "sections": {"type": "array", "minItems": 1, "maxItems": 30, "items": object(&["title", "questions"], json!({
                "title": template_text(200),
                "questions": {"type": "array", "minItems": 1, "maxItems": MAX_QUESTIONS, "items": question(true)},
            }))},
        }),
    )
}

/// A question: what each kind takes; a yes/no question's follow-up has none of its own.
fn question(may_follow_up: bool) -> Value {
    let kind_is = |kinds: &[QuestionKind]| json!({"properties": {"kind": one_of(kinds)}});
    let kind_is_not = |kinds: &[QuestionKind]| json!({"properties": {"kind": {"not": one_of(kinds)}}});
    let choices = [QuestionKind::SingleChoice, QuestionKind::MultipleChoice];
    let texts = [QuestionKind::ShortText, QuestionKind::LongText];
    let mut properties = json!({
        "id": template_id(),
        "kind": one_of(QuestionKind::ALL),
        "label": template_text(500),
        "help": template_text(2000),
        "required": {"type": "boolean"},
        "options": {"type": "array", "maxItems": 50, "items": object(&["value", "label"], json!({"value": template_text(100), "label": template_text(200)}))},
        "min": {"type": "number"},
        "max": {"type": "number", "description": "Not below min"},
        "maxLength": {"type": "integer", "minimum": 1, "maximum": MAX_TEXT},
        "consentText": template_text(20000),
    });
    let mut rules = vec![
        json!({"anyOf": [{"allOf": [kind_is(&choices), given("options"), {"properties": {"options": {"minItems": 2}}}]},
                         {"allOf": [kind_is_not(&choices), {"properties": {"options": {"maxItems": 0}}}]}]}),
        json!({"anyOf": [kind_is(&[QuestionKind::Number]), {"allOf": [absent("min"), absent("max")]}]}),
        json!({"anyOf": [kind_is(&texts), absent("maxLength")]}),
        json!({"anyOf": [{"allOf": [kind_is(&[QuestionKind::Signature]), given("consentText")]},
                         {"allOf": [kind_is_not(&[QuestionKind::Signature]), absent("consentText")]}]}),
    ];
    if may_follow_up {
        properties["followUp"] = question(false);
        rules.push(json!({"anyOf": [kind_is(&[QuestionKind::YesNo]), absent("followUp")]}));
    }
    let mut schema = object(&["id", "kind", "label"], properties);
    schema["allOf"] = json!(rules);
    schema
}

/// The request bodies of templates, invitations, the patient's link and the review.
fn form_schemas() -> Value {
    json!({
        "FormTemplate": {
            "description": "Either {\"copyOf\": \"<built-in template id>\"} or a template: title, description, and sections of questions",
            "oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["copyOf"], "properties": {"copyOf": template_id()}},
                template_content(),
            ],
        },
        "NewInvitation": {
            "type": "object", "additionalProperties": false, "required": ["templateIds"],
            "description": "patientId, or newPatient (the fields of PatientDetails)",
            "properties": {
                "patientId": of::<EntityId>(),
                "newPatient": {"$ref": "#/components/schemas/PatientDetails"},
                "templateIds": {"type": "array", "minItems": 1, "maxItems": 10, "items": template_id()},
                "channel": one_of(Channel::ALL),
                "expiresInHours": {"type": "integer", "minimum": 1, "maximum": 336, "description": "72 by default"},
            },
            "oneOf": [given("patientId"), given("newPatient")],
        },
        "IntakeAnswers": object(&["answers"], json!({
            "answers": {"type": "object", "description": "By template id, then question id. A signature is {typedName, drawing: a PNG data URL}; a photo, the photoId the photo upload gave; an allergy list, [{substance, reaction, severity}]; a medication list, [{name, dose, frequency}]"},
        })),
        "IntakePhoto": object(&["contentType", "byteSize"], json!({
            "contentType": one_of(PhotoType::ALL),
            "byteSize": {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD_BYTES},
        })),
        "Acceptance": object(&["items"], json!({
            "items": {"type": "array", "minItems": 1, "maxItems": MAX_PICKS, "items": object(&["templateId", "questionId"], json!({
                "templateId": template_id(), "questionId": template_id(),
                "index": {"type": "integer", "minimum": 0, "maximum": 49, "description": "The list entry; absent for an allergy list answered empty (no known allergies)"},
            }))},
        })),
    })
}
