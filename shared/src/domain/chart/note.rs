//! Clinical notes in SOAP form: drafts until their author signs them; a signed note never changes, and
//! a correction is an addendum that points at it.

use serde::{Deserialize, Serialize};

use super::allow;
use crate::domain::fields::{Form, Issue};
use crate::domain::values::{EntityId, LongText, PastDate};

crate::string_enum! {
    /// What the note documents.
    NoteType {
        Progress = "progress",
        Consultation = "consultation",
        Procedure = "procedure",
        Telephone = "telephone",
        Addendum = "addendum",
    }
}

/// A clinical note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "type")]
    pub note_type: NoteType,
    pub encounter_date: PastDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjective: Option<LongText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<LongText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<LongText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<LongText>,
    /// The signed note this one corrects or completes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addendum_to: Option<EntityId>,
}

pub const SOAP: [&str; 4] = ["subjective", "objective", "assessment", "plan"];

impl Note {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        let mut fields = vec!["type", "encounterDate", "addendumTo"];
        fields.extend_from_slice(&SOAP);
        allow(form, &fields);
        let addendum_to: Option<EntityId> = form.opt("addendumTo");
        let note_type =
            form.opt("type").unwrap_or(if form.given("addendumTo") { NoteType::Addendum } else { NoteType::Progress });
        let encounter_date = form.opt("encounterDate").unwrap_or(PastDate(crate::domain::values::Date(form.ctx.today)));
        let subjective = form.opt("subjective");
        let objective = form.opt("objective");
        let assessment = form.opt("assessment");
        let plan = form.opt("plan");
        if !SOAP.iter().any(|f| form.given(f)) {
            form.reject(
                "",
                Issue::Shape("at least one of subjective, objective, assessment and plan is required".into()),
            );
            return None;
        }
        if note_type == NoteType::Addendum && !form.given("addendumTo") {
            form.reject("addendumTo", Issue::Shape("is required for an addendum".into()));
            return None;
        }
        if note_type != NoteType::Addendum && form.given("addendumTo") {
            form.reject("type", Issue::Rule("must be addendum when addendumTo is set".into()));
            return None;
        }
        Some(Self { note_type, encounter_date, subjective, objective, assessment, plan, addendum_to })
    }
}
