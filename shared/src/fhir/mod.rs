//! FHIR R4: the resource types Vellum serves, each read from the records it already keeps (no second store).

pub mod appointment;
pub mod audit_event;
pub mod capability;
pub mod chart;
pub mod forms;
pub mod import;
pub mod media;
pub mod outcome;
pub mod patient;
pub mod procedure;
pub mod provenance;
pub mod record;
pub mod search;
pub mod vitals;

use serde_json::{Value, json};

use crate::domain::chart::{Actor, ChartKind, Entry, Source};
use crate::domain::forms::invitation::Submission;
use crate::domain::photo::{PHOTO_PREFIX, Photo};
use crate::domain::values::{EntityId, UserId};
use crate::store::Key;
use record::Record;

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
        Media = "Media",
        QuestionnaireResponse = "QuestionnaireResponse",
        Consent = "Consent",
        Provenance = "Provenance",
        Appointment = "Appointment",
        AuditEvent = "AuditEvent",
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
    documentation: "The patient (Patient/{id}); required: a patient's record is searched one patient at a time",
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
const PATIENT_RECORD_PARAMS: &[SearchParam] = &[PATIENT_REF, LAST_UPDATED, COUNT, CURSOR];
/// The parameters of `Patient/{id}/$everything`.
pub const EVERYTHING_PARAMS: &[SearchParam] = &[COUNT, CURSOR];

/// The operation on a patient served: all of their record, as FHIR.
pub const EVERYTHING: &str = "$everything";

impl ResourceType {
    /// The chart kind the resource is read from, for the types that are chart entries.
    pub fn chart_kind(self) -> Option<ChartKind> {
        match self {
            ResourceType::AllergyIntolerance => Some(ChartKind::Allergy),
            ResourceType::MedicationStatement => Some(ChartKind::Medication),
            ResourceType::Condition => Some(ChartKind::Condition),
            ResourceType::Observation => Some(ChartKind::Vitals),
            ResourceType::Procedure => Some(ChartKind::Treatment),
            _ => None,
        }
    }

    /// The JSON API route whose roles read the type, for the types that are not chart entries (a
    /// Provenance is read with the entry it is of).
    pub fn read_route(self) -> Option<&'static str> {
        match self {
            ResourceType::Patient => Some("patients.read"),
            ResourceType::Media => Some("photos.list"),
            ResourceType::QuestionnaireResponse => Some("submissions.read"),
            ResourceType::Consent => Some("submissions.consent"),
            ResourceType::Appointment => Some("patients.appointments"),
            ResourceType::AuditEvent => Some("patients.access-log"),
            _ => None,
        }
    }

    /// Where in a patient's chart partition its records are (the sort-key prefix a search reads); none for
    /// Patient, Appointment and AuditEvent, kept elsewhere.
    pub fn chart_prefix(self) -> Option<String> {
        match self {
            ResourceType::Patient | ResourceType::Appointment | ResourceType::AuditEvent => None,
            ResourceType::Provenance => Some(crate::domain::keys::CHART_ENTRY_PREFIX.to_string()),
            ResourceType::Media => Some(format!("{PHOTO_PREFIX}#")),
            ResourceType::QuestionnaireResponse | ResourceType::Consent => Some(Submission::PREFIX.to_string()),
            chart => chart.chart_kind().map(|k| crate::domain::keys::chart_kind_prefix(k.key_prefix())),
        }
    }

    /// The key of the record a resource id of a chart-partition type names.
    pub fn record_key(self, clinic: EntityId, id: &str) -> Option<Key> {
        let (patient, record, suffix) = parse_chart_id(id)?;
        let entry = |kind: ChartKind| {
            Key::new(
                crate::domain::keys::chart_pk(clinic, patient),
                crate::domain::keys::chart_entry_sk(kind.key_prefix(), record),
            )
        };
        match self {
            ResourceType::Patient | ResourceType::Appointment | ResourceType::AuditEvent => None,
            ResourceType::Provenance => ChartKind::ALL.iter().copied().find(|k| Some(k.as_str()) == suffix).map(entry),
            ResourceType::Media => Some(Photo::key(clinic, patient, record)),
            ResourceType::QuestionnaireResponse | ResourceType::Consent => {
                Some(Submission::key(clinic, patient, record))
            }
            chart => chart.chart_kind().map(entry),
        }
    }

    /// The resources a record of a patient's chart partition becomes as this type (none if it is not of
    /// it); `origin` is where the API is served, for links to what FHIR does not carry (a consent's PDF).
    pub fn from_record(self, record: &Record, origin: &str) -> Vec<Value> {
        match (self, record) {
            (ResourceType::Provenance, Record::Entry(entry)) => provenance::of_entry(entry).into_iter().collect(),
            (ResourceType::Media, Record::Photo(photo)) => media::media(photo).into_iter().collect(),
            (ResourceType::QuestionnaireResponse, Record::Submission(s)) => forms::responses(s),
            (ResourceType::Consent, Record::Submission(s)) => forms::consents(s, origin),
            (t, Record::Entry(entry)) if t.chart_kind() == Some(entry.kind) => t.from_entry(entry),
            _ => Vec::new(),
        }
    }

    /// Its search parameters.
    pub fn search_params(self) -> &'static [SearchParam] {
        match self {
            ResourceType::Patient => PATIENT_PARAMS,
            _ => PATIENT_RECORD_PARAMS,
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
            ResourceType::AllergyIntolerance => vec![chart::allergy(entry)],
            ResourceType::MedicationStatement => vec![chart::medication(entry)],
            ResourceType::Condition => vec![chart::condition(entry)],
            ResourceType::Observation => vitals::observations(entry),
            ResourceType::Procedure => vec![procedure::procedure(entry)],
            _ => Vec::new(),
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
    record_id(entry.patient_id, entry.id, measure)
}

/// The id of a resource read from a record of a patient's chart partition: the patient's and the record's
/// ids, and what tells apart the resources one record becomes (at most 10 characters: an id is 64 at most).
pub fn record_id(patient: EntityId, record: EntityId, part: Option<&str>) -> String {
    match part {
        Some(part) => format!("{patient}-{record}-{part}"),
        None => format!("{patient}-{record}"),
    }
}

/// What a chart-partition resource's id names: the patient, the record and what tells its resources apart.
pub fn parse_chart_id(id: &str) -> Option<(EntityId, EntityId, Option<&str>)> {
    let mut parts = id.splitn(3, '-');
    let patient = EntityId::parse(parts.next()?)?;
    let entry = EntityId::parse(parts.next()?)?;
    Some((patient, entry, parts.next()))
}

/// The patient a FHIR call names, if any: the id of a Patient read or operation, the patient of a chart
/// partition resource's id, or a search's `patient`. A refused call goes into that patient's access log.
pub fn named_patient(params: &std::collections::HashMap<String, String>, query: Option<&str>) -> Option<EntityId> {
    let resource_type = params.get("resourceType").map_or("Patient", String::as_str);
    match params.get("id") {
        Some(id) if resource_type == ResourceType::Patient.as_str() => EntityId::parse(id),
        Some(id) => parse_chart_id(id).map(|(patient, _, _)| patient),
        None => form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(name, _)| name == "patient")
            .and_then(|(_, value)| search::patient_reference(&value)),
    }
}

/// A reference to a patient.
pub fn patient_reference(patient: EntityId) -> Value {
    json!({ "reference": format!("Patient/{patient}") })
}

/// The identifier system of staff members.
pub const STAFF: &str = "urn:vellum:staff";

/// A reference to a staff member, by identifier: staff are not a resource type served.
pub fn staff_reference(user: &UserId) -> Value {
    json!({ "identifier": { "system": STAFF, "value": user.as_str() } })
}

/// A reference to the staff member who did something.
pub fn actor_reference(actor: &Actor) -> Value {
    staff_reference(&actor.user_id)
}

/// A `meta` of a version and when it changed.
pub fn version_meta(version: u64, updated_at: &str) -> Value {
    json!({ "versionId": version.to_string(), "lastUpdated": updated_at })
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
