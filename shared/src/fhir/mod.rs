//! FHIR R4: the resource types Vellum serves, each read from the records it already keeps (no second store).

pub mod capability;
pub mod chart;
pub mod outcome;
pub mod patient;
pub mod procedure;
pub mod search;
pub mod vitals;

use serde_json::{Value, json};

use crate::domain::chart::{ChartKind, Entry, Source};
use crate::domain::values::EntityId;

/// The media type of every FHIR answer.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The FHIR version served.
pub const FHIR_VERSION: &str = "4.0.1";

/// Where the FHIR face is mounted.
pub const BASE_PATH: &str = "/fhir/R4";

crate::string_enum! {
    /// The resource types served.
    ResourceType {
        Patient = "Patient",
        AllergyIntolerance = "AllergyIntolerance",
        MedicationStatement = "MedicationStatement",
        Condition = "Condition",
        Observation = "Observation",
        Procedure = "Procedure",
    }
}

/// A search parameter of a resource type: its name, FHIR type and what it finds.
#[derive(Clone, Copy, Debug)]
pub struct SearchParam {
    pub name: &'static str,
    pub kind: &'static str,
    pub documentation: &'static str,
}

const PATIENT_REF: SearchParam = SearchParam {
    name: "patient",
    kind: "reference",
    documentation: "The patient (Patient/{id}); required: a chart is searched one patient at a time",
};
const LAST_UPDATED: SearchParam = SearchParam {
    name: "_lastUpdated",
    kind: "date",
    documentation: "When the record last changed: eq (the default), gt, ge, lt or le; given twice for a range",
};
const COUNT: SearchParam =
    SearchParam { name: "_count", kind: "number", documentation: "Resources per page: 1 to 100, 20 by default" };
const CURSOR: SearchParam = SearchParam {
    name: "_cursor",
    kind: "string",
    documentation: "Where a page continues: taken from the bundle's next link, never made up",
};
const PATIENT_PARAMS: &[SearchParam] = &[
    SearchParam { name: "_id", kind: "token", documentation: "The patient's id" },
    SearchParam { name: "family", kind: "string", documentation: "Family-name prefix (accents and case ignored)" },
    SearchParam { name: "birthdate", kind: "date", documentation: "The birth date, YYYY-MM-DD" },
    SearchParam { name: "identifier", kind: "token", documentation: "The medical record number ([system|]MRN)" },
    LAST_UPDATED,
    COUNT,
    CURSOR,
];
const CHART_PARAMS: &[SearchParam] = &[PATIENT_REF, LAST_UPDATED, COUNT, CURSOR];
/// The parameters of `Patient/{id}/$everything`.
pub const EVERYTHING_PARAMS: &[SearchParam] = &[COUNT, CURSOR];

/// The operation on a patient served: all of their record, as FHIR.
pub const EVERYTHING: &str = "$everything";

impl ResourceType {
    /// The chart kind the resource is read from (none for Patient).
    pub fn chart_kind(self) -> Option<ChartKind> {
        match self {
            ResourceType::Patient => None,
            ResourceType::AllergyIntolerance => Some(ChartKind::Allergy),
            ResourceType::MedicationStatement => Some(ChartKind::Medication),
            ResourceType::Condition => Some(ChartKind::Condition),
            ResourceType::Observation => Some(ChartKind::Vitals),
            ResourceType::Procedure => Some(ChartKind::Treatment),
        }
    }

    /// Its search parameters.
    pub fn search_params(self) -> &'static [SearchParam] {
        match self {
            ResourceType::Patient => PATIENT_PARAMS,
            _ => CHART_PARAMS,
        }
    }

    /// The type a chart kind is read as, if any.
    pub fn of_kind(kind: ChartKind) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.chart_kind() == Some(kind))
    }

    /// The type by its name, if served.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// The resources one chart entry of this type's kind becomes (an entry of vital signs is one
    /// observation per measure).
    pub fn from_entry(self, entry: &Entry) -> Vec<Value> {
        match self {
            ResourceType::Patient => Vec::new(),
            ResourceType::AllergyIntolerance => vec![chart::allergy(entry)],
            ResourceType::MedicationStatement => vec![chart::medication(entry)],
            ResourceType::Condition => vec![chart::condition(entry)],
            ResourceType::Observation => vitals::observations(entry),
            ResourceType::Procedure => vec![procedure::procedure(entry)],
        }
    }
}

/// The names of the served types, for messages.
pub fn served_names() -> String {
    ResourceType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

/// A chart resource's id: its patient's and its entry's, so that a read finds the entry in the patient's
/// chart; an observation adds its measure.
pub fn chart_id(entry: &Entry, measure: Option<&str>) -> String {
    match measure {
        Some(measure) => format!("{}-{}-{measure}", entry.patient_id, entry.id),
        None => format!("{}-{}", entry.patient_id, entry.id),
    }
}

/// What a chart resource's id names: the patient, the entry and (for an observation) the measure.
pub fn parse_chart_id(id: &str) -> Option<(EntityId, EntityId, Option<&str>)> {
    let mut parts = id.splitn(3, '-');
    let patient = EntityId::parse(parts.next()?)?;
    let entry = EntityId::parse(parts.next()?)?;
    Some((patient, entry, parts.next()))
}

/// A reference to a patient.
pub fn patient_reference(patient: EntityId) -> Value {
    json!({ "reference": format!("Patient/{patient}") })
}

/// The resource's `meta`: the version and when it changed, and where the information came from.
pub fn entry_meta(entry: &Entry) -> Value {
    let source = match &entry.source {
        Source::StaffEntered => "staff-entered",
        Source::PatientEntered { .. } => "patient-entered",
        Source::Imported { .. } => "imported",
    };
    json!({
        "versionId": entry.version.to_string(),
        "lastUpdated": entry.updated_at,
        "tag": [{ "system": "urn:vellum:source", "code": source }],
    })
}

/// The start of a chart resource: its type, id and meta, with the note of the entry if it has one.
pub fn chart_resource(
    resource_type: ResourceType,
    entry: &Entry,
    measure: Option<&str>,
) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    out.insert("resourceType".into(), resource_type.as_str().into());
    out.insert("id".into(), chart_id(entry, measure).into());
    out.insert("meta".into(), entry_meta(entry));
    if let Some(note) = entry.text("note") {
        out.insert("note".into(), json!([{ "text": note }]));
    }
    out
}

/// A concept given only as text.
pub fn text_concept(text: &str) -> Value {
    json!({ "text": text })
}

/// A concept of one code of a code system.
pub fn coded(system: &str, code: &str, display: Option<&str>) -> Value {
    let mut coding = json!({ "system": system, "code": code });
    if let Some(display) = display {
        coding["display"] = display.into();
    }
    json!({ "coding": [coding] })
}
