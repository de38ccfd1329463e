//! What the chart routes answer: each kind's entry as `Entry::to_json` shows it, pages of them, the chart
//! summary, and the uses of a product lot that a recall finds.

use serde_json::{Value, json};

use super::{
    Answer, actor, answer, described, instant, nullable, object, of, page, reference, stored, text, version,
    with_required,
};
use crate::domain::chart::ChartKind;
use crate::domain::chart::summary::RECENT;
use crate::domain::chart::treatment::{LotNumber, QuantityUnit, TreatmentType};
use crate::domain::chart::vitals::{FLAGGED_MEASURES, Flag};
use crate::domain::safety::gate::ACKNOWLEDGEMENTS;
use crate::domain::safety::rules::{AlertSeverity, RULES};
use crate::domain::schema::one_of;
use crate::domain::values::{Date, EntityId, PastInstant, UserId};
use crate::http::routes::chart_route;

/// The name of a kind's entry schema, and what it describes.
fn named(kind: ChartKind) -> (&'static str, &'static str) {
    match kind {
        ChartKind::Allergy => (
            "AllergyEntry",
            "An allergy or intolerance (or no known allergies) as the chart shows it: its content, version and provenance",
        ),
        ChartKind::Medication => {
            ("MedicationEntry", "A medication as the chart shows it: its content, version and provenance")
        }
        ChartKind::Condition => (
            "ConditionEntry",
            "A condition or diagnosis as the chart shows it: its content, the code's name, version and provenance",
        ),
        ChartKind::Vitals => (
            "VitalsEntry",
            "One set of vital signs as the chart shows it: its content, BMI and range flags, version and provenance",
        ),
        ChartKind::Note => {
            ("NoteEntry", "A clinical note as the chart shows it: its content, draft or signed, version and provenance")
        }
        ChartKind::Treatment => {
            ("TreatmentEntry", "An aesthetic treatment as the chart shows it: its content, version and provenance")
        }
        ChartKind::AestheticProfile => (
            "AestheticProfileEntry",
            "The aesthetic profile as the chart shows it: its content, version and provenance",
        ),
    }
}

/// The content fields (and derived ones) every entry of the kind has, beyond those its request requires:
/// defaults the reader fills in, and lists always written.
fn always_present(kind: ChartKind) -> &'static [&'static str] {
    match kind {
        ChartKind::Allergy | ChartKind::Medication | ChartKind::Condition => &["status"],
        ChartKind::Vitals => &["measuredAt", "flags"],
        ChartKind::Note => &["type", "encounterDate", "status", "signed"],
        ChartKind::Treatment => &["performedAt", "products", "injectionPoints"],
        ChartKind::AestheticProfile => &[],
    }
}

/// Where a version's information came from (an update is always staff-entered).
fn source() -> Value {
    json!({
        "description": "Where this version's information came from: typed by staff, accepted from the patient's form, or imported",
        "oneOf": [
            object(&["type"], json!({"type": {"const": "staff-entered"}})),
            object(&["type", "submissionId"], json!({"type": {"const": "patient-entered"}, "submissionId": of::<EntityId>()})),
            object(&["type", "system"], json!({"type": {"const": "imported"}, "system": text(200)})),
        ],
    })
}

/// The fields a kind's readers get computed from its content (`ChartKind::derived`), and a note's state.
fn derived(kind: ChartKind) -> Value {
    match kind {
        ChartKind::Condition => json!({
            "codeName": {"type": "string", "description": "The code's ICD-10-CM name, for the common codes Vellum ships"},
        }),
        ChartKind::Vitals => json!({
            "bmi": {"type": "number", "description": "Body-mass index (kg/m2) to one decimal, when weight and height were both taken"},
            "flags": {"type": "array", "description": "Every value outside the normal adult resting range",
                "items": object(&["measure", "flag", "normalRange"], json!({
                    "measure": {"enum": FLAGGED_MEASURES},
                    "flag": one_of(Flag::ALL),
                    "normalRange": {"type": "string"},
                }))},
        }),
        ChartKind::Note => json!({
            "status": {"enum": ["draft", "signed"]},
            "signed": nullable(object(&["by", "at"], json!({"by": actor(), "at": instant()}))),
        }),
        _ => json!({}),
    }
}

/// A kind's entry: the stored content, read by the kind's request rules (the body's own `source` replaced
/// by the version's), with the envelope and the derived fields.
fn entry(kind: ChartKind) -> Value {
    let request = chart_route(kind, "create")
        .and_then(|r| r.body)
        .unwrap_or_else(|| panic!("the chart kind {kind} has no create body"));
    let mut required = vec![
        "id",
        "kind",
        "patientId",
        "version",
        "source",
        "recordedBy",
        "recordedAt",
        "updatedBy",
        "updatedAt",
        "enteredInError",
    ];
    required.extend_from_slice(always_present(kind));
    if kind.is_safety_checked() {
        required.push("safety");
    }
    let mut properties = json!({
        "id": of::<EntityId>(),
        "kind": {"const": kind.as_str()},
        "patientId": of::<EntityId>(),
        "version": {"type": "integer", "minimum": 1},
        "source": source(),
        "recordedBy": actor(),
        "recordedAt": instant(),
        "updatedBy": actor(),
        "updatedAt": instant(),
        "enteredInError": nullable(object(&["reason", "by", "at"], json!({"reason": text(200), "by": actor(), "at": instant()}))),
    });
    if let (Some(own), Value::Object(computed)) = (properties.as_object_mut(), derived(kind)) {
        own.extend(computed);
    }
    if kind.is_safety_checked() {
        properties["safety"] = nullable(reference("SafetyRecord"));
    }
    let mut schema = stored(request, &required, properties);
    // Acknowledgements go with a request; what they became is in `safety`.
    if let Some(Value::Object(own)) = schema.get_mut("properties") {
        own.remove(ACKNOWLEDGEMENTS);
    }
    // A profile of empty lists only (`{"concerns": []}`) is accepted and stored as no field at all.
    if kind == ChartKind::AestheticProfile
        && let Some(own) = schema.as_object_mut()
    {
        own.remove("anyOf");
    }
    described(schema, named(kind).1)
}

/// The chart summary: the patient, and the sections the caller's role reads (the others left out).
fn summary() -> Value {
    let entries = |kind: ChartKind| json!({"type": "array", "items": reference(named(kind).0)});
    let recent = |kind: ChartKind| json!({"type": "array", "maxItems": RECENT, "items": reference(named(kind).0)});
    let schema = object(
        &["patient", "sections", "standingAlerts"],
        json!({
            "patient": reference("PatientSummary"),
            "sections": {"type": "array", "uniqueItems": true, "description": "The sections shown, in order",
                "items": {"enum": ["allergies", "medications", "conditions", "latestVitals", "recentNotes", "recentTreatments", "aestheticProfile"]}},
            "allergies": object(&["assessment", "items"], json!({
                "assessment": {"enum": ["allergies-recorded", "no-known-allergies", "not-yet-asked"]},
                "items": {"type": "array", "description": "The active allergies, worst first", "items": reference(named(ChartKind::Allergy).0)},
            })),
            "medications": entries(ChartKind::Medication),
            "conditions": entries(ChartKind::Condition),
            "latestVitals": nullable(reference(named(ChartKind::Vitals).0)),
            "recentNotes": recent(ChartKind::Note),
            "recentTreatments": recent(ChartKind::Treatment),
            "aestheticProfile": nullable(reference(named(ChartKind::AestheticProfile).0)),
            "standingAlerts": {"type": "array", "items": reference("SafetyAlert"),
                "description": "What the chart alone raises, whatever is proposed (on isotretinoin, a severe allergy, vital signs out of range), worst first; only those whose every fact is in a section shown"},
        }),
    );
    described(
        schema,
        "The chart summary: the patient, allergies, current medications, active conditions, latest vitals, recent notes and treatments, and the profile (the sections the caller's role may read)",
    )
}

/// One product line of a treatment, as the recall index holds it.
fn lot_use() -> Value {
    let schema = object(
        &[
            "patientId",
            "treatmentId",
            "treatmentType",
            "performedAt",
            "practitionerId",
            "product",
            "manufacturer",
            "lotNumber",
            "expiryDate",
            "quantity",
        ],
        json!({
            "patientId": of::<EntityId>(),
            "treatmentId": of::<EntityId>(),
            "treatmentType": one_of(TreatmentType::ALL),
            "performedAt": of::<PastInstant>(),
            "practitionerId": nullable(of::<UserId>()),
            "product": text(200),
            "manufacturer": text(200),
            "lotNumber": of::<LotNumber>(),
            "expiryDate": of::<Date>(),
            "quantity": object(&["value", "unit"], json!({
                "value": {"type": "number", "minimum": 0.001, "maximum": 10000},
                "unit": one_of(QuantityUnit::ALL),
            })),
        }),
    );
    described(
        schema,
        "A use of a product lot found by a recall: the patient, the treatment, and the product line as recorded",
    )
}

/// Every rule id an alert can carry: the rules' and the standing alerts'.
fn rule_ids() -> Value {
    one_of(RULES.rules.iter().map(|r| &r.id).chain(RULES.standing.iter().map(|s| &s.id)))
}

/// An alert: the rule, how strongly it speaks, what to do, the chart facts that raised it, its sources.
fn alert() -> Value {
    let source = object(
        &["title", "publisher"],
        json!({
            "title": {"type": "string"}, "publisher": {"type": "string"}, "year": {"type": "integer"},
            "url": {"type": "string"}, "note": {"type": "string", "description": "What could not be verified of it"},
            "section": {"type": "string"}, "quote": {"type": "string"},
        }),
    );
    let fact = object(
        &["kind", "entryId", "detail"],
        json!({"kind": one_of(ChartKind::ALL), "entryId": of::<EntityId>(), "detail": {"type": "string"}}),
    );
    described(
        object(
            &["ruleId", "severity", "summary", "advice", "facts", "sources"],
            json!({
                "ruleId": rule_ids(),
                "severity": described(one_of(AlertSeverity::ALL), "contraindicated and serious block a write until acknowledged"),
                "summary": {"type": "string"},
                "advice": {"type": "string"},
                "facts": {"type": "array", "items": fact, "description": "The chart entries that raised it"},
                "sources": {"type": "array", "minItems": 1, "items": source},
            }),
        ),
        "An alert of the safety rule set, with the chart facts that raised it and its sources",
    )
}

/// A blocking alert acknowledged to go ahead.
fn override_of() -> Value {
    object(
        &["ruleId", "severity", "summary", "reason", "by", "at"],
        json!({
            "ruleId": rule_ids(), "severity": one_of(AlertSeverity::ALL), "summary": {"type": "string"},
            "reason": text(200), "by": actor(), "at": instant(),
        }),
    )
}

/// What the check said when a version of a treatment or medication was written.
fn safety_record() -> Value {
    described(
        object(
            &["ruleSet", "checkedAt", "alerts", "overrides", "unmatchedProducts"],
            json!({
                "ruleSet": {"type": "string"},
                "checkedAt": instant(),
                "alerts": {"type": "array", "items": reference("SafetyAlert"), "description": "Every alert raised, worst first"},
                "overrides": {"type": "array", "items": override_of(),
                    "description": "The blocking alerts acknowledged: this version's and those kept from the version it replaced"},
                "unmatchedProducts": {"type": "array", "items": {"type": "string"},
                    "description": "Products named that the catalogue does not know: checked by the treatment's type only"},
            }),
        ),
        "What the safety check said when this version was written (null for a medication not taken, which is not checked)",
    )
}

/// One acknowledged alert as the clinic's overrides list shows it.
fn listed_override() -> Value {
    let schema = with_required(
        override_of(),
        json!({
            "patientId": of::<EntityId>(), "entryKind": {"enum": ["treatment", "medication", "appointment"], "description": "What it let through: a version of a chart entry, or an appointment booked"},
            "entryId": of::<EntityId>(), "entryVersion": {"type": "integer", "minimum": 1}, "ruleSet": {"type": "string"},
        }),
    );
    described(schema, "A blocking safety alert acknowledged to go ahead, with the entry or appointment it let through")
}

/// What a safety check found: the rule set's version, whether anything blocks, and the alerts.
fn safety_check_result() -> Value {
    described(
        object(
            &["ruleSet", "blocking", "alerts"],
            json!({
                "ruleSet": {"const": RULES.version},
                "blocking": {"type": "boolean", "description": "An alert is contraindicated or serious"},
                "alerts": {"type": "array", "items": reference("SafetyAlert"), "description": "Worst first"},
            }),
        ),
        "What the rule set says of a proposed action for this patient: the alerts, with the chart facts that raised them and their sources",
    )
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let mut all: Vec<(&'static str, Value)> = ChartKind::ALL.iter().map(|k| (named(*k).0, entry(*k))).collect();
    all.push(("ChartSummary", summary()));
    all.push(("LotRecallUse", lot_use()));
    all.push(("SafetyCheckResult", safety_check_result()));
    all.push(("SafetyAlert", alert()));
    all.push(("SafetyRecord", safety_record()));
    all.push(("SafetyOverride", listed_override()));
    all.push((
        "ClinicSafetyProduct",
        described(
            stored(
                "SafetyProduct",
                &["status", "id", "updatedAt", "version"],
                json!({"id": of::<EntityId>(), "updatedAt": instant(), "version": version()}),
            ),
            "A product the clinic added to the safety catalogue, with its version",
        ),
    ));
    all
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    let mut all = vec![
        answer("chart.read", reference("ChartSummary")),
        answer("notes.sign", reference(named(ChartKind::Note).0)).versioned(),
        answer("lots.recall", page(reference("LotRecallUse"))),
        answer("safety.check", reference("SafetyCheckResult")),
        answer("safety.overrides", page(reference("SafetyOverride"))),
        answer("safety-products.create", reference("ClinicSafetyProduct")).versioned(),
        answer("safety-products.list", page(reference("ClinicSafetyProduct"))),
        answer("safety-products.update", reference("ClinicSafetyProduct")).versioned(),
    ];
    for kind in ChartKind::ALL.iter().copied() {
        let one = reference(named(kind).0);
        let operations = [
            ("list", page(one.clone()), false),
            ("create", one.clone(), true),
            ("read", one.clone(), true),
            ("update", one.clone(), true),
            ("entered-in-error", one.clone(), true),
            ("history", page(one), false),
        ];
        for (operation, body, versioned) in operations {
            let route = chart_route(kind, operation)
                .unwrap_or_else(|| panic!("the route table has no {operation} route for the chart kind {kind}"));
            let answered = answer(route.name, body);
            all.push(if versioned { answered.versioned() } else { answered });
        }
    }
    all
}
