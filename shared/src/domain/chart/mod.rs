//! A patient's chart: the kinds of entry, and the versioned envelope with provenance that every entry shares.

pub mod allergy;
pub mod condition;
pub mod icd10;
pub mod medication;
pub mod note;
pub mod profile;
pub mod summary;
pub mod treatment;
pub mod vitals;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields::{Form, Issue};
use super::keys;
use super::role::Role;
use super::safety::gate::SafetyRecord;
use super::values::{EntityId, ShortText, UserId};
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// The kinds of entry a chart holds.
    ChartKind {
        Allergy = "allergy",
        Medication = "medication",
        Condition = "condition",
        Vitals = "vitals",
        Note = "note",
        Treatment = "treatment",
        AestheticProfile = "aesthetic-profile",
    }
}

/// An entry's content as stored: the fields its kind's reader accepted, nothing derived.
pub type Data = Map<String, Value>;

/// Fields of the envelope; a body or a patch may not set them.
pub const ENVELOPE_FIELDS: &[&str] = &[
    "id",
    "kind",
    "patientId",
    "version",
    "source",
    "recordedBy",
    "recordedAt",
    "updatedBy",
    "updatedAt",
    "status",
    "signed",
    "enteredInError",
    "safety",
    crate::domain::safety::gate::ACKNOWLEDGEMENTS,
];

impl ChartKind {
    /// Whether charting it runs the safety check (a treatment, a medication).
    pub fn is_safety_checked(self) -> bool {
        matches!(self, ChartKind::Treatment | ChartKind::Medication)
    }

    /// The sort-key prefix of its entries in the chart partition.
    pub fn key_prefix(self) -> &'static str {
        match self {
            ChartKind::Allergy => "ALLERGY",
            ChartKind::Medication => "MEDICATION",
            ChartKind::Condition => "CONDITION",
            ChartKind::Vitals => "VITALS",
            ChartKind::Note => "NOTE",
            ChartKind::Treatment => "TREATMENT",
            ChartKind::AestheticProfile => "PROFILE",
        }
    }

    /// The kind whose entries sit under a chart sort key, if any.
    pub fn of_sort_key(sk: &str) -> Option<Self> {
        let prefix = sk.strip_prefix(keys::CHART_ENTRY_PREFIX)?.split('#').next()?;
        ChartKind::ALL.iter().copied().find(|k| k.key_prefix() == prefix)
    }

    /// Reads a patched entry into the kind's content, every field error recorded on `form`.
    pub fn read(self, form: &Form<'_>) -> Option<Data> {
        self.read_with(form, false)
    }

    /// Reads a new entry's body: as `read`, but its `source` (read by the caller) is allowed.
    pub fn read_new(self, form: &Form<'_>) -> Option<Data> {
        self.read_with(form, true)
    }

    /// The kinds whose own `status` is content (allergies, medications, conditions) read it themselves.
    fn read_with(self, form: &Form<'_>, creating: bool) -> Option<Data> {
        fn data<T: Serialize>(value: Option<T>) -> Option<Data> {
            match serde_json::to_value(value?) {
                Ok(mut content) => {
                    whole_numbers_as_integers(&mut content);
                    match content {
                        Value::Object(map) => Some(map),
                        _ => None,
                    }
                }
                Err(_) => None,
            }
        }
        let own_status = matches!(self, ChartKind::Allergy | ChartKind::Medication | ChartKind::Condition);
        let acknowledgements = crate::domain::safety::gate::ACKNOWLEDGEMENTS;
        let writable = |f: &str| {
            (own_status && f == "status")
                || (creating && f == "source")
                || (self.is_safety_checked() && f == acknowledgements)
        };
        for field in ENVELOPE_FIELDS.iter().filter(|f| !writable(f)) {
            if form.has(field) {
                let why = match *field {
                    f if f == acknowledgements => {
                        "acknowledges alerts of the safety check, which only a treatment or a medication runs"
                    }
                    _ => "is set by Vellum and cannot be written",
                };
                form.reject(field, Issue::Shape(why.into()));
            }
        }
        match self {
            ChartKind::Allergy => data(allergy::Allergy::read(form)),
            ChartKind::Medication => data(medication::Medication::read(form)),
            ChartKind::Condition => data(condition::Condition::read(form)),
            ChartKind::Vitals => data(vitals::Vitals::read(form)),
            ChartKind::Note => data(note::Note::read(form)),
            ChartKind::Treatment => data(treatment::Treatment::read(form)),
            ChartKind::AestheticProfile => data(profile::AestheticProfile::read(form)),
        }
    }

    /// Fields computed from the content for every reader (BMI, range flags, code names).
    fn derived(self, data: &Data) -> Data {
        match self {
            ChartKind::Vitals => vitals::derived(data),
            ChartKind::Condition => condition::derived(data),
            _ => Data::new(),
        }
    }
}

/// Writes `66.0` back as `66`: what was sent as a whole number reads back as one.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Reports any field that is neither one of `fields` nor an envelope field (those are reported by `read`).
fn allow(form: &Form<'_>, fields: &[&str]) {
    let mut known = fields.to_vec();
    known.extend_from_slice(ENVELOPE_FIELDS);
    form.only(&known);
}

/// Who did something, as the token and membership said at the time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
}

/// Who did something, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub by: Actor,
    pub at: String,
}

/// Why and by whom an entry was marked entered-in-error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnteredInError {
    pub reason: ShortText,
    pub by: Actor,
    pub at: String,
}

/// Where the information of a version came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", rename_all_fields = "camelCase")]
pub enum Source {
    /// Typed by clinic staff.
    StaffEntered,
    /// Written by the patient on a pre-visit form and accepted by staff.
    PatientEntered { submission_id: EntityId },
    /// Brought in from another system.
    Imported { system: ShortText },
}

impl Source {
    /// What a create body may say of its source: staff-entered (the default) or imported from a named system.
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["type", "system"]);
        match form.req::<ShortText>("type")?.as_str() {
            "staff-entered" => {
                if form.given("system") {
                    form.reject("system", Issue::Rule("is only for imported entries".into()));
                }
                Some(Source::StaffEntered)
            }
            "imported" => form.req("system").map(|system| Source::Imported { system }),
            "patient-entered" => {
                form.reject("type", Issue::Rule("is set only when staff accept a patient's form".into()));
                None
            }
            _ => {
                form.reject("type", Issue::Rule("must be one of: staff-entered, imported".into()));
                None
            }
        }
    }
}

/// One version of a chart entry: its content and its envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: EntityId,
    pub kind: ChartKind,
    pub patient_id: EntityId,
    pub version: u64,
    pub data: Data,
    pub source: Source,
    /// Who recorded the entry first, and when.
    pub recorded_by: Actor,
    pub recorded_at: String,
    /// Who made this version, and when.
    pub updated_by: Actor,
    pub updated_at: String,
    /// Notes only: the signature that made the note final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_in_error: Option<EnteredInError>,
    /// Treatments and medications: what the safety check said when this version was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<SafetyRecord>,
}

impl Entry {
    /// Whether the entry still counts (it was not marked entered-in-error).
    pub fn is_valid(&self) -> bool {
        self.entered_in_error.is_none()
    }

    /// A string field of the content.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.data.get(field).and_then(Value::as_str)
    }

    /// The current version's key in the patient's chart partition.
    pub fn key(&self, clinic: EntityId) -> Key {
        Key::new(keys::chart_pk(clinic, self.patient_id), keys::chart_entry_sk(self.kind.key_prefix(), self.id))
    }

    /// The stored current version.
    pub fn current_item(&self, clinic: EntityId) -> Item {
        entity_item(&self.key(clinic), self)
    }

    /// The stored copy of this version in the patient's history partition.
    pub fn history_item(&self, clinic: EntityId) -> Item {
        let key = Key::new(
            keys::chart_history_pk(clinic, self.patient_id),
            keys::chart_history_sk(self.kind.key_prefix(), self.id, self.version),
        );
        entity_item(&key, self)
    }

    /// The entry as the API shows it: the content's fields at the top, with the envelope and derived fields.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), self.id.to_string().into());
        out.insert("kind".into(), self.kind.as_str().into());
        out.insert("patientId".into(), self.patient_id.to_string().into());
        out.insert("version".into(), self.version.into());
        out.extend(self.data.clone());
        out.extend(self.kind.derived(&self.data));
        if self.kind == ChartKind::Note {
            let status = if self.signed.is_some() { "signed" } else { "draft" };
            out.insert("status".into(), status.into());
            out.insert("signed".into(), serde_json::to_value(&self.signed).unwrap_or(Value::Null));
        }
        let envelope = serde_json::json!({
            "source": self.source,
            "recordedBy": self.recorded_by,
            "recordedAt": self.recorded_at,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at,
            "enteredInError": self.entered_in_error,
        });
        if self.kind.is_safety_checked() {
            out.insert("safety".into(), serde_json::to_value(&self.safety).unwrap_or(Value::Null));
        }
        if let Value::Object(map) = envelope {
            out.extend(map);
        }
        Value::Object(out)
    }
}
