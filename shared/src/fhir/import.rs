//! A transaction bundle read for import: each resource becomes the body the JSON API's create route takes (a
//! patient's details, a chart entry), with the bundle path each field came from, so that a refusal names the
//! entry and the path, and with the elements Vellum does not keep, which the answer lists per entry.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::ResourceType;
use super::STAFF;
use super::chart::{ICD10_CM, NO_KNOWN_ALLERGY, SNOMED};
use super::procedure::{
    AFTERCARE_NOTE, FOLLOW_UP, PROCEDURES, QUANTITY_USED, TECHNIQUE_NOTE, TREATMENT_TYPES, UCUM_UNITS,
};
use super::vitals::MEASURES;
use crate::domain::chart::ChartKind;
use crate::domain::chart::treatment::TreatmentType;
use crate::domain::fields::FieldError;
use crate::domain::values::EntityId;

/// The most entries a transaction bundle holds: all of it is written at once, in one store transaction.
pub const MAX_ENTRIES: usize = 100;

/// The types an import writes.
pub const IMPORTED: &[ResourceType] = &[
    ResourceType::Patient,
    ResourceType::AllergyIntolerance,
    ResourceType::MedicationStatement,
    ResourceType::Condition,
    ResourceType::Observation,
    ResourceType::Procedure,
];

/// Elements every resource may carry that an import does not need: the sender's id and version (Vellum
/// gives its own), and the narrative (made from the data, which is kept).
const ENVELOPE: &[&str] = &["resourceType", "id", "meta", "text"];

/// What a resource is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Patient,
    Chart(ChartKind),
}

/// Whom a chart resource is about: a Patient of the same bundle (by its `fullUrl`), or a patient of the
/// clinic (`Patient/{id}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatientRef {
    InBundle(String),
    Existing(EntityId),
}

/// A bundle entry that went into a record: its index, its type, the measure it was (an observation), and the
/// elements of it that were not kept.
#[derive(Clone, Debug)]
pub struct Part {
    pub index: usize,
    pub resource_type: ResourceType,
    pub measure: Option<&'static str>,
    pub not_kept: Vec<String>,
    /// The body mass index it gave, checked against the one Vellum derives (an observation of BMI).
    pub bmi: Option<f64>,
}

/// One record to write, from one entry (several observations taken together are one entry of vital signs).
#[derive(Clone, Debug)]
pub struct Incoming {
    pub target: Target,
    pub parts: Vec<Part>,
    /// The entry's `fullUrl` (how the bundle's other resources name a Patient).
    pub full_url: Option<String>,
    pub patient: Option<PatientRef>,
    /// The create route's body (with the source, for a chart entry).
    pub body: Map<String, Value>,
    /// Where each field of the body came from: (the body's field, the path in the bundle).
    pub paths: Vec<(String, String)>,
}

impl Incoming {
    /// The path in the bundle of a field the create route's checks name: the longest field it came from;
    /// for a field the resource lacks, the element it would come from; else the entry.
    pub fn path_of(&self, field: &str) -> String {
        let given = self
            .paths
            .iter()
            .filter(|(ours, _)| field == ours || field.starts_with(&format!("{ours}.")))
            .max_by_key(|(ours, _)| ours.len())
            .map(|(_, path)| path.clone());
        let entry = entry_path(self.parts[0].index);
        let top = field.split('.').next().unwrap_or("");
        given.unwrap_or_else(|| match element_of(self.target, top).filter(|_| !top.is_empty()) {
            Some(element) => format!("{entry}.resource.{element}"),
            None => entry,
        })
    }
}

/// The FHIR element a field of a create route's body comes from (where a resource that lacks it is told
/// to give it).
fn element_of(target: Target, field: &str) -> Option<&'static str> {
    Some(match (target, field) {
        (_, "source") => "meta.source",
        (_, "note") => "note",
        (Target::Patient, "givenName" | "familyName" | "preferredName") => "name",
        (Target::Patient, "birthDate") => "birthDate",
        (Target::Patient, "sexAtBirth") => "gender",
        (Target::Patient, "phone" | "email") => "telecom",
        (Target::Patient, "address") => "address",
        (Target::Patient, "emergencyContact") => "contact",
        (Target::Patient, "preferredLanguage") => "communication",
        (Target::Chart(ChartKind::Allergy), "status") => "clinicalStatus",
        (Target::Chart(ChartKind::Allergy), "severity") => "reaction",
        (Target::Chart(ChartKind::Allergy | ChartKind::Condition), _) => "code",
        (Target::Chart(ChartKind::Medication), "status") => "status",
        (Target::Chart(ChartKind::Medication), "name") => "medicationCodeableConcept",
        (Target::Chart(ChartKind::Vitals), "measuredAt") => "effectiveDateTime",
        (Target::Chart(ChartKind::Vitals), _) => "valueQuantity",
        (Target::Chart(ChartKind::Treatment), "type" | "procedure") => "code",
        (Target::Chart(ChartKind::Treatment), "performedAt") => "performedDateTime",
        (Target::Chart(ChartKind::Treatment), "treatedAreas") => "bodySite",
        (Target::Chart(ChartKind::Treatment), "products") => "usedReference",
        (Target::Chart(ChartKind::Treatment), "practitionerId" | "externalPractitioner") => "performer",
        (Target::Chart(ChartKind::Treatment), "technique" | "aftercare") => "note",
        (Target::Chart(ChartKind::Treatment), "followUpDate") => "followUp",
        (Target::Chart(ChartKind::Treatment), "outcome") => "outcome",
        _ => return None,
    })
}

fn entry_path(index: usize) -> String {
    format!("Bundle.entry[{index}]")
}

/// Reads a transaction bundle: the records to write, in the bundle's order (the vital signs of one patient
/// taken at one time together, where the first of them is), and every problem found, each naming its path
/// (the records read are still checked further, so that one answer names every problem).
pub fn read(bundle: &Value) -> (Vec<Incoming>, Vec<FieldError>) {
    let mut errors = Vec::new();
    if bundle["resourceType"] != "Bundle" {
        errors.push(FieldError::shape("Bundle.resourceType", "must be Bundle"));
    }
    if bundle["type"] != "transaction" {
        errors.push(FieldError::shape(
            "Bundle.type",
            "must be transaction: an import is written all at once or not at all (batch is not served)",
        ));
    }
    let default_system = bundle["meta"]["source"].as_str();
    let entries = match bundle.get("entry") {
        Some(Value::Array(entries)) if !entries.is_empty() => entries.as_slice(),
        _ => {
            errors.push(FieldError::shape("Bundle.entry", "must list the resources to import"));
            &[]
        }
    };
    let mut incoming: Vec<Incoming> = Vec::new();
    let mut full_urls = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let path = entry_path(index);
        let Some(resource) = entry["resource"].as_object() else {
            errors.push(FieldError::shape(format!("{path}.resource"), "must be a resource"));
            continue;
        };
        let name = resource.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let Some(resource_type) = ResourceType::named(name).filter(|t| IMPORTED.contains(t)) else {
            let served: Vec<&str> = IMPORTED.iter().map(|t| t.as_str()).collect();
            errors.push(FieldError::shape(
                format!("{path}.resource.resourceType"),
                format!("{name:?} is not a type an import writes; it writes {}", served.join(", ")),
            ));
            continue;
        };
        if entry["request"]["method"] != "POST" || entry["request"]["url"] != name {
            errors.push(FieldError::shape(
                format!("{path}.request"),
                format!("must be POST {name}: an import creates each resource (no update, delete or read)"),
            ));
        }
        let full_url = entry.get("fullUrl").and_then(Value::as_str).map(str::to_string);
        if let Some(url) = &full_url
            && !full_urls.insert(url.clone())
        {
            errors.push(FieldError::shape(format!("{path}.fullUrl"), "is given to another entry too"));
        }
        let system = resource.get("meta").and_then(|m| m.get("source")).and_then(Value::as_str).or(default_system);
        let mut reader = Reader::new(index, resource, &mut errors);
        let read = match resource_type {
            ResourceType::Patient => Some(reader.patient()),
            _ => reader.chart(resource_type, system),
        };
        let Some((target, body, measure, bmi)) = read else { continue };
        let patient = reader.patient_ref(resource_type);
        let part = Part { index, resource_type, measure, not_kept: reader.not_kept(), bmi };
        let paths = std::mem::take(&mut reader.paths);
        if let Target::Chart(ChartKind::Vitals) = target
            && let Some(taken) = incoming.iter_mut().find(|i| same_taking(i, &patient, &body))
        {
            if let Some(duplicate) =
                body.keys().find(|k| !["measuredAt", "source"].contains(&k.as_str()) && taken.body.contains_key(*k))
            {
                errors.push(FieldError::rule(
                    format!("{path}.resource.code"),
                    format!("repeats {duplicate} taken at the same time by an earlier entry"),
                ));
            }
            taken.body.extend(body);
            taken.paths.extend(paths);
            taken.parts.push(part);
            continue;
        }
        incoming.push(Incoming { target, parts: vec![part], full_url, patient, body, paths });
    }
    (incoming, errors)
}

/// Whether a record already read is vital signs of the same patient taken at the same time.
fn same_taking(record: &Incoming, patient: &Option<PatientRef>, body: &Map<String, Value>) -> bool {
    record.target == Target::Chart(ChartKind::Vitals)
        && &record.patient == patient
        && record.body.get("measuredAt") == body.get("measuredAt")
}

/// What a resource became: its target, the create body, and for an observation its measure and any BMI.
type Read = (Target, Map<String, Value>, Option<&'static str>, Option<f64>);

/// The element by which a resource names its patient (none for a Patient).
pub fn reference_element(resource_type: ResourceType) -> Option<&'static str> {
    match resource_type {
        ResourceType::Patient => None,
        ResourceType::AllergyIntolerance => Some("patient"),
        _ => Some("subject"),
    }
}

/// Reads one resource, noting the top-level elements it took.
struct Reader<'a> {
    base: String,
    resource: &'a Map<String, Value>,
    errors: &'a mut Vec<FieldError>,
    taken: HashSet<String>,
    /// Parts of elements taken that were not kept (a Procedure's note Vellum has no field for).
    dropped: Vec<String>,
    body: Map<String, Value>,
    paths: Vec<(String, String)>,
}

impl<'a> Reader<'a> {
    fn new(index: usize, resource: &'a Map<String, Value>, errors: &'a mut Vec<FieldError>) -> Self {
        let base = format!("{}.resource", entry_path(index));
        Self { base, resource, errors, taken: HashSet::new(), dropped: Vec::new(), body: Map::new(), paths: Vec::new() }
    }

    /// The value at a dotted path of the resource (a number is an index), noting its element as taken.
    fn at(&mut self, path: &str) -> Option<&'a Value> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        self.taken.insert(first.to_string());
        let mut value = self.resource.get(first)?;
        for part in parts {
            value = match part.parse::<usize>() {
                Ok(i) => value.get(i)?,
                Err(_) => value.get(part)?,
            };
        }
        Some(value)
    }

    fn text(&mut self, path: &str) -> Option<&'a str> {
        self.at(path).and_then(Value::as_str)
    }

    /// The FHIRPath of a dotted path of the resource (`name.0.family` is `name[0].family`).
    fn path(&self, path: &str) -> String {
        let mut out = self.base.clone();
        for part in path.split('.') {
            match part.parse::<usize>() {
                Ok(index) => out.push_str(&format!("[{index}]")),
                Err(_) => {
                    out.push('.');
                    out.push_str(part);
                }
            }
        }
        out
    }

    /// Puts a field of the body, given at `from` in the resource.
    fn put(&mut self, field: &str, value: impl Into<Value>, from: &str) {
        self.body.insert(field.to_string(), value.into());
        self.paths.push((field.to_string(), self.path(from)));
    }

    /// Puts the value at `from` as it is, if given.
    fn copy(&mut self, field: &str, from: &str) {
        if let Some(value) = self.at(from) {
            self.put(field, value.clone(), from);
        }
    }

    /// Puts the date of a FHIR dateTime at `from` (its first ten characters), if given.
    fn date(&mut self, field: &str, from: &str) {
        if let Some(value) = self.text(from) {
            self.put(field, value.get(..10).unwrap_or(value), from);
        }
    }

    fn reject(&mut self, from: &str, message: impl Into<String>) {
        let path = self.path(from);
        self.errors.push(FieldError::rule(path, message));
    }

    /// The code of the first coding of the concept at `from` in `system`.
    fn code_in(&mut self, from: &str, system: &str) -> Option<&'a str> {
        let codings = self.at(&format!("{from}.coding")).and_then(Value::as_array)?;
        codings.iter().find(|c| c["system"] == system).and_then(|c| c["code"].as_str())
    }

    /// A concept's words: its text, else its first coding's display.
    fn words(&mut self, from: &str) -> Option<&'a str> {
        self.text(&format!("{from}.text")).or_else(|| self.text(&format!("{from}.coding.0.display")))
    }

    /// The top-level elements given but not taken, and the parts of those taken that were not kept.
    fn not_kept(&self) -> Vec<String> {
        let mut left: Vec<String> = self
            .resource
            .keys()
            .filter(|k| !ENVELOPE.contains(&k.as_str()) && !self.taken.contains(*k))
            .cloned()
            .chain(self.dropped.iter().cloned())
            .collect();
        left.sort();
        left
    }

    /// The patient a chart resource names (its `patient` or `subject`), or a problem at that path.
    fn patient_ref(&mut self, resource_type: ResourceType) -> Option<PatientRef> {
        let element = reference_element(resource_type)?;
        let reference = self.text(&format!("{element}.reference")).unwrap_or("");
        if reference.starts_with("urn:uuid:") {
            return Some(PatientRef::InBundle(reference.to_string()));
        }
        match reference.strip_prefix("Patient/").and_then(EntityId::parse) {
            Some(id) => Some(PatientRef::Existing(id)),
            None => {
                let path = self.path(&format!("{element}.reference"));
                self.errors.push(FieldError::shape(
                    path,
                    "must name the patient: the fullUrl of a Patient in the bundle (urn:uuid:…), or Patient/{id} of one of the clinic's",
                ));
                None
            }
        }
    }

    fn patient(&mut self) -> Read {
        let names = self.at("name").and_then(Value::as_array).cloned().unwrap_or_default();
        let official = names.iter().position(|n| n["use"] != "usual").unwrap_or(0);
        let given = |name: &Value| {
            name["given"].as_array().map(|g| g.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
        };
        if let Some(name) = names.get(official) {
            if let Some(family) = name["family"].as_str() {
                self.put("familyName", family, &format!("name.{official}.family"));
            }
            if let Some(given) = given(name) {
                self.put("givenName", given, &format!("name.{official}.given"));
            }
        }
        if let Some((i, preferred)) = names.iter().enumerate().find(|(i, n)| *i != official && n["use"] == "usual")
            && let Some(given) = given(preferred)
        {
            self.put("preferredName", given, &format!("name.{i}.given"));
        }
        let sex = match self.text("gender") {
            Some("female") => Some("female"),
            Some("male") => Some("male"),
            Some("other") => Some("intersex"),
            Some("unknown") => Some("unknown"),
            Some(_) => {
                self.reject("gender", "must be female, male, other or unknown");
                None
            }
            None => None,
        };
        if let Some(sex) = sex {
            self.put("sexAtBirth", sex, "gender");
        }
        self.copy("birthDate", "birthDate");
        let telecom = self.at("telecom").and_then(Value::as_array).cloned().unwrap_or_default();
        for (field, system) in [("phone", "phone"), ("email", "email")] {
            if let Some(i) = telecom.iter().position(|t| t["system"] == system) {
                self.copy(field, &format!("telecom.{i}.value"));
            }
        }
        if let Some(address) = self.at("address.0").and_then(Value::as_object) {
            let mut ours = Map::new();
            for (theirs, field) in [
                ("line", "lines"),
                ("city", "city"),
                ("state", "region"),
                ("postalCode", "postalCode"),
                ("country", "country"),
            ] {
                if let Some(value) = address.get(theirs) {
                    ours.insert(field.into(), value.clone());
                    self.paths.push((format!("address.{field}"), self.path(&format!("address.0.{theirs}"))));
                }
            }
            self.put("address", ours, "address.0");
        }
        let contacts = self.at("contact").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some((i, contact)) =
            contacts.iter().enumerate().find(|(_, c)| c["relationship"].to_string().contains("\"C\""))
        {
            let phone = contact["telecom"].as_array().and_then(|t| t.iter().find(|t| t["system"] == "phone"));
            let mut ours =
                json!({ "name": contact["name"]["text"], "phone": phone.map_or(Value::Null, |p| p["value"].clone()) });
            if let Some(relationship) =
                contact["relationship"].as_array().and_then(|r| r.iter().find_map(|r| r["text"].as_str()))
            {
                ours["relationship"] = relationship.into();
            }
            self.put("emergencyContact", ours, &format!("contact.{i}"));
        }
        if let Some(language) = self.code_in("communication.0.language", "urn:ietf:bcp:47") {
            self.put("preferredLanguage", language, "communication.0.language");
        }
        for element in ["identifier", "active"] {
            // The sender's record number and its active flag: Vellum numbers its own records, all active.
            self.taken.insert(element.to_string());
        }
        (Target::Patient, std::mem::take(&mut self.body), None, None)
    }

    /// A chart resource, with its source: imported from `system`.
    fn chart(&mut self, resource_type: ResourceType, system: Option<&str>) -> Option<Read> {
        if resource_type != ResourceType::Procedure {
            self.copy("note", "note.0.text");
        }
        let (kind, measure, bmi) = match resource_type {
            ResourceType::AllergyIntolerance => (self.allergy(), None, None),
            ResourceType::MedicationStatement => (self.medication(), None, None),
            ResourceType::Condition => (self.condition(), None, None),
            ResourceType::Procedure => (self.procedure(), None, None),
            _ => {
                let (measure, bmi) = self.observation()?;
                (ChartKind::Vitals, Some(measure), bmi)
            }
        };
        match system {
            Some(system) => {
                let source = json!({ "type": "imported", "system": system });
                self.put("source", source, "meta.source");
            }
            None => {
                let path = self.path("meta.source");
                self.errors.push(FieldError::shape(
                    path,
                    "must name the system the records come from (or the bundle's meta.source must)",
                ));
            }
        }
        Some((Target::Chart(kind), std::mem::take(&mut self.body), measure, bmi))
    }

    /// A verification status that cannot be imported as a record in force.
    fn refuse_unverified(&mut self, from: &str) {
        if let Some(status) = self.text(&format!("{from}.coding.0.code"))
            && matches!(status, "entered-in-error" | "refuted")
        {
            self.reject(from, format!("is {status}: only what holds is imported"));
        }
    }

    fn allergy(&mut self) -> ChartKind {
        self.refuse_unverified("verificationStatus");
        if self.code_in("code", SNOMED) == Some(NO_KNOWN_ALLERGY) {
            self.put("noKnownAllergies", true, "code");
        } else {
            if let Some(substance) = self.words("code") {
                self.put("substance", substance, "code.text");
            }
            let codings = self.at("code.coding").and_then(Value::as_array).cloned().unwrap_or_default();
            if let Some(coding) = codings.first() {
                let system = match coding["system"].as_str().unwrap_or("") {
                    "http://www.nlm.nih.gov/research/umls/rxnorm" => "rxnorm",
                    SNOMED => "snomed-ct",
                    "http://fdasis.nlm.nih.gov" => "unii",
                    _ => "other",
                };
                self.put("code", json!({ "system": system, "code": coding["code"] }), "code.coding.0");
            }
            self.copy("category", "category.0");
            self.copy("reaction", "reaction.0.manifestation.0.text");
            let severity = self.text("reaction.0.severity");
            let critical = self.text("criticality") == Some("high");
            match (severity, critical) {
                (Some("severe"), true) => self.put("severity", "life-threatening", "criticality"),
                (Some(severity), _) => self.put("severity", severity, "reaction.0.severity"),
                (None, true) => self.put("severity", "severe", "criticality"),
                (None, false) => {}
            }
            self.date("onset", "onsetDateTime");
        }
        self.copy("status", "clinicalStatus.coding.0.code");
        self.taken.insert("patient".into());
        self.taken.insert("recordedDate".into());
        ChartKind::Allergy
    }

    fn medication(&mut self) -> ChartKind {
        if let Some(name) = self.words("medicationCodeableConcept") {
            self.put("name", name, "medicationCodeableConcept");
        }
        match self.text("status") {
            Some(status @ ("active" | "on-hold" | "stopped" | "completed")) => self.put("status", status, "status"),
            Some(status) => {
                self.reject("status", format!("is {status}: only active, on-hold, stopped or completed is imported"))
            }
            None => {}
        }
        self.date("startDate", "effectivePeriod.start");
        self.date("stopDate", "effectivePeriod.end");
        if !self.body.contains_key("startDate") {
            self.date("startDate", "effectiveDateTime");
        }
        self.copy("reason", "reasonCode.0.text");
        self.copy("dose", "dosage.0.text");
        if let Some(route) = self.words("dosage.0.route") {
            self.put("route", route.to_lowercase(), "dosage.0.route");
        }
        self.taken.insert("subject".into());
        self.taken.insert("dateAsserted".into());
        ChartKind::Medication
    }

    fn condition(&mut self) -> ChartKind {
        self.refuse_unverified("verificationStatus");
        if let Some(code) = self.code_in("code", ICD10_CM) {
            self.put("code", code, "code.coding");
        }
        if let Some(text) = self.words("code") {
            self.put("text", text, "code.text");
        }
        self.copy("status", "clinicalStatus.coding.0.code");
        self.date("onset", "onsetDateTime");
        for element in ["subject", "recordedDate", "category"] {
            self.taken.insert(element.into());
        }
        ChartKind::Condition
    }

    /// A treatment: its kind (and catalogue procedure) by Vellum's codes, when, where, who performed it, each
    /// product used (a contained Medication with its lot, and the quantity used), and the technique,
    /// aftercare, follow-up and outcome as Vellum's Procedures carry them.
    fn procedure(&mut self) -> ChartKind {
        match self.text("status") {
            Some("completed") => {}
            status => self.reject(
                "status",
                format!("is {}: only a completed procedure is imported", status.unwrap_or("missing")),
            ),
        }
        match self.code_in("code", TREATMENT_TYPES) {
            Some(kind) => self.put("type", kind, "code.coding"),
            None => self.reject(
                "code",
                format!(
                    "must carry a coding of {TREATMENT_TYPES}, the kind of treatment ({}): map the sending system's code to it",
                    TreatmentType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
        if let Some(procedure) = self.code_in("code", PROCEDURES) {
            self.put("procedure", procedure, "code.coding");
        }
        self.copy("performedAt", "performedDateTime");
        let sites = self.at("bodySite").and_then(Value::as_array).map_or(0, Vec::len);
        let areas: Vec<Value> =
            (0..sites).map(|i| self.words(&format!("bodySite.{i}")).map_or(Value::Null, Value::from)).collect();
        if !areas.is_empty() {
            self.put("treatedAreas", areas, "bodySite");
        }
        for i in 0..sites {
            self.paths.push((format!("treatedAreas[{i}]"), self.path(&format!("bodySite.{i}"))));
        }
        self.performer();
        if let Some(outcome) = self.words("outcome") {
            self.put("outcome", outcome, "outcome");
        }
        self.procedure_notes();
        if let Some(follow_up) = self.words("followUp.0") {
            match follow_up.strip_prefix(FOLLOW_UP) {
                Some(date) => self.put("followUpDate", date, "followUp.0"),
                None => self.dropped.push("followUp".into()),
            }
        }
        self.products();
        for element in ["subject", "recorder", "contained"] {
            self.taken.insert(element.into());
        }
        ChartKind::Treatment
    }

    /// Who performed a procedure: a member of the clinic by their staff identifier, else by the name the
    /// sender gives (one who is not a member).
    fn performer(&mut self) {
        if let Some(member) = self.text("performer.0.actor.identifier.value")
            && self.text("performer.0.actor.identifier.system") == Some(STAFF)
        {
            self.put("practitionerId", member, "performer.0.actor.identifier.value");
        } else if let Some(name) = self.text("performer.0.actor.display") {
            self.put("externalPractitioner", name, "performer.0.actor.display");
        } else if self.at("performer").is_some() {
            self.reject(
                "performer.0.actor",
                "must name who performed it: a display name, or a staff identifier of this clinic",
            );
        }
    }

    /// A procedure's notes: the technique and the aftercare given as Vellum writes them; any other note is
    /// not kept (a treatment has no free note: a clinical note is its own entry).
    fn procedure_notes(&mut self) {
        let notes = self.at("note").and_then(Value::as_array).map_or(0, Vec::len);
        for i in 0..notes {
            let from = format!("note.{i}.text");
            let text = self.text(&from).unwrap_or("");
            if let Some(technique) = text.strip_prefix(TECHNIQUE_NOTE) {
                self.put("technique", technique, &from);
            } else if let Some(instructions) = text.strip_prefix(AFTERCARE_NOTE) {
                self.put("aftercare", json!({ "given": true, "instructions": instructions }), &from);
            } else {
                self.dropped.push(format!("note[{i}]"));
            }
        }
    }

    /// Each product a procedure used: a reference to a contained Medication (its name, manufacturer, lot and
    /// expiry) with the quantity used in Vellum's extension.
    fn products(&mut self) {
        let used = self.at("usedReference").and_then(Value::as_array).cloned().unwrap_or_default();
        let contained = self.at("contained").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut products = Vec::new();
        for (i, reference) in used.iter().enumerate() {
            let from = format!("usedReference.{i}");
            let id = reference["reference"].as_str().and_then(|r| r.strip_prefix('#'));
            let Some(at) =
                id.and_then(|id| contained.iter().position(|c| c["id"] == id && c["resourceType"] == "Medication"))
            else {
                self.reject(
                    &format!("{from}.reference"),
                    "must name a contained Medication (#id) that gives the product and its lot",
                );
                continue;
            };
            let medication = &contained[at];
            let quantity = reference["extension"]
                .as_array()
                .and_then(|e| e.iter().find(|e| e["url"] == QUANTITY_USED))
                .map_or(&Value::Null, |e| &e["valueQuantity"]);
            let code = quantity["code"].as_str();
            let unit = UCUM_UNITS
                .iter()
                .find(|(_, ucum)| Some(*ucum) == code)
                .map_or_else(|| quantity["unit"].clone(), |(ours, _)| Value::from(*ours));
            let line = format!("products[{}]", products.len());
            let med = format!("contained.{at}");
            let product = medication["code"]["text"].as_str().or(medication["code"]["coding"][0]["display"].as_str());
            products.push(json!({
                "product": product,
                "manufacturer": medication["manufacturer"]["display"],
                "lotNumber": medication["batch"]["lotNumber"],
                "expiryDate": medication["batch"]["expirationDate"].as_str().map(|d| d.get(..10).unwrap_or(d)),
                "quantity": { "value": quantity["value"], "unit": unit },
            }));
            for (field, path) in [
                ("product", format!("{med}.code")),
                ("manufacturer", format!("{med}.manufacturer.display")),
                ("lotNumber", format!("{med}.batch.lotNumber")),
                ("expiryDate", format!("{med}.batch.expirationDate")),
                ("quantity", format!("{from}.extension")),
            ] {
                self.paths.push((format!("{line}.{field}"), self.path(&path)));
            }
        }
        if !products.is_empty() {
            self.put("products", products, "usedReference");
        }
    }

    /// A vital sign: the measure, and the BMI it gives (a BMI is derived from weight and height, so it is
    /// checked, not kept).
    fn observation(&mut self) -> Option<(&'static str, Option<f64>)> {
        if let Some(status) = self.text("status")
            && !matches!(status, "final" | "amended" | "corrected")
        {
            self.reject("status", format!("is {status}: only final, amended or corrected measures are imported"));
        }
        let loinc = self.code_in("code", "http://loinc.org");
        let Some((measure, ..)) = MEASURES.iter().find(|(_, code, _)| Some(*code) == loinc) else {
            let known: Vec<String> = MEASURES.iter().map(|(_, code, name)| format!("{code} ({name})")).collect();
            self.reject("code", format!("must be the LOINC code of a vital sign Vellum keeps: {}", known.join(", ")));
            return None;
        };
        self.copy("measuredAt", "effectiveDateTime");
        let value = |reader: &mut Self, from: &str| reader.at(&format!("{from}.value")).cloned().unwrap_or(Value::Null);
        let unit = |reader: &mut Self, from: &str| reader.text(&format!("{from}.code")).unwrap_or("").to_string();
        let measured = |reader: &mut Self, from: &str, units: &[(&str, &str)]| {
            let code = unit(reader, from);
            let ours = units.iter().find(|(ucum, _)| *ucum == code).map(|(_, ours)| *ours);
            if ours.is_none() {
                let known: Vec<&str> = units.iter().map(|(ucum, _)| *ucum).collect();
                reader.reject(&format!("{from}.code"), format!("must be the UCUM unit {}", known.join(" or ")));
            }
            json!({ "value": value(reader, from), "unit": ours })
        };
        let mut bmi = None;
        match *measure {
            "bp" => {
                let components = self.at("component").and_then(Value::as_array).cloned().unwrap_or_default();
                let part = |loinc: &str| {
                    components.iter().position(|c| c["code"]["coding"].to_string().contains(&format!("\"{loinc}\"")))
                };
                let mut pressure = Map::new();
                for (field, loinc) in [("systolic", "8480-6"), ("diastolic", "8462-4")] {
                    match part(loinc) {
                        Some(i) => {
                            pressure.insert(field.into(), components[i]["valueQuantity"]["value"].clone());
                            self.paths.push((
                                format!("bloodPressure.{field}"),
                                self.path(&format!("component.{i}.valueQuantity.value")),
                            ));
                        }
                        None => self.reject("component", format!("must hold the {field} pressure (LOINC {loinc})")),
                    }
                }
                self.put("bloodPressure", pressure, "component");
            }
            "hr" => {
                let rate = value(self, "valueQuantity");
                self.put("heartRate", rate, "valueQuantity.value");
            }
            "temp" => {
                let temperature = measured(self, "valueQuantity", &[("Cel", "C"), ("[degF]", "F")]);
                self.put("temperature", temperature, "valueQuantity");
            }
            "weight" => {
                let weight = measured(self, "valueQuantity", &[("kg", "kg"), ("[lb_av]", "lb")]);
                self.put("weight", weight, "valueQuantity");
            }
            "height" => {
                let height = measured(self, "valueQuantity", &[("cm", "cm"), ("[in_i]", "in")]);
                self.put("height", height, "valueQuantity");
            }
            _ => {
                bmi = value(self, "valueQuantity").as_f64();
                if bmi.is_none() {
                    self.reject("valueQuantity.value", "must be a number");
                }
            }
        }
        for element in ["subject", "category", "code"] {
            self.taken.insert(element.into());
        }
        Some((measure, bmi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(resources: Vec<Value>) -> Value {
        let entry: Vec<Value> = resources
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let url = r["resourceType"].clone();
                json!({ "fullUrl": format!("urn:uuid:00000000-0000-0000-0000-00000000000{i}"), "resource": r,
                        "request": { "method": "POST", "url": url } })
            })
            .collect();
        json!({ "resourceType": "Bundle", "type": "transaction", "meta": { "source": "Old EMR" }, "entry": entry })
    }

    fn observation(code: &str, value: Value) -> Value {
        let mut o = json!({ "resourceType": "Observation", "status": "final",
            "code": { "coding": [{ "system": "http://loinc.org", "code": code }] },
            "subject": { "reference": "urn:uuid:00000000-0000-0000-0000-000000000000" },
            "effectiveDateTime": "2026-01-05T09:00:00Z" });
        if let (Some(o), Value::Object(value)) = (o.as_object_mut(), value) {
            o.extend(value);
        }
        o
    }

    #[test]
    fn observations_taken_together_are_one_entry_of_vital_signs() {
        let patient = json!({ "resourceType": "Patient", "name": [{ "family": "Doe", "given": ["Jane", "Q"] }],
                              "gender": "female", "birthDate": "1990-02-03", "maritalStatus": { "text": "M" } });
        let read = read(&bundle(vec![
            patient,
            observation("8867-4", json!({ "valueQuantity": { "value": 61, "code": "/min" } })),
            observation("29463-7", json!({ "valueQuantity": { "value": 60, "code": "kg" } })),
        ]));
        assert_eq!(read.1.len(), 0, "{:?}", read.1);
        let read = read.0;
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].body["givenName"], "Jane Q");
        assert_eq!(read[0].parts[0].not_kept, vec!["maritalStatus".to_string()]);
        let vitals = &read[1];
        assert_eq!(vitals.parts.len(), 2);
        assert_eq!(vitals.body["heartRate"], 61);
        assert_eq!(vitals.body["weight"], json!({ "value": 60, "unit": "kg" }));
        assert_eq!(vitals.body["source"], json!({ "type": "imported", "system": "Old EMR" }));
        assert_eq!(vitals.path_of("weight.value"), "Bundle.entry[2].resource.valueQuantity");
        assert_eq!(vitals.patient, Some(PatientRef::InBundle("urn:uuid:00000000-0000-0000-0000-000000000000".into())));
    }

    #[test]
    fn each_problem_names_its_entry_and_path() {
        let mut b = bundle(vec![
            json!({ "resourceType": "Encounter" }),
            observation("9279-1", json!({ "valueQuantity": { "value": 16 } })),
            json!({ "resourceType": "Condition", "subject": { "reference": "Practitioner/1" }, "code": { "text": "acne" } }),
        ]);
        b["type"] = json!("batch");
        let errors = read(&b).1;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "Bundle.type",
                "Bundle.entry[0].resource.resourceType",
                "Bundle.entry[1].resource.code",
                "Bundle.entry[2].resource.subject.reference"
            ]
        );
    }
}
