//! Medications the patient takes or took; a change or a stop is a new version, so the history stays.

use serde::{Deserialize, Serialize};

use super::allow;
use crate::domain::fields::{Form, Issue};
use crate::domain::values::{Date, LongText, ShortText};

crate::string_enum! {
    /// How a medication is taken.
    MedicationRoute {
        Oral = "oral",
        Topical = "topical",
        Subcutaneous = "subcutaneous",
        Intramuscular = "intramuscular",
        Intravenous = "intravenous",
        Intradermal = "intradermal",
        Inhaled = "inhaled",
        Nasal = "nasal",
        Ophthalmic = "ophthalmic",
        Otic = "otic",
        Sublingual = "sublingual",
        Transdermal = "transdermal",
        Rectal = "rectal",
        Vaginal = "vaginal",
        Other = "other",
    }
}

crate::string_enum! {
    /// Whether the patient is taking it.
    MedicationStatus { Active = "active", OnHold = "on-hold", Stopped = "stopped", Completed = "completed" }
}

impl MedicationStatus {
    /// Taken now, or paused and expected back: what a practitioner must know about.
    pub fn is_current(self) -> bool {
        matches!(self, MedicationStatus::Active | MedicationStatus::OnHold)
    }
}

/// One medication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication {
    pub name: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<MedicationRoute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Date>,
    pub status: MedicationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<LongText>,
}

impl Medication {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        allow(
            form,
            &["name", "strength", "dose", "route", "frequency", "startDate", "stopDate", "status", "reason", "note"],
        );
        let name = form.req("name");
        let strength = form.opt("strength");
        let dose = form.opt("dose");
        let route = form.opt("route");
        let frequency = form.opt("frequency");
        let start_date: Option<Date> = form.opt("startDate");
        let stop_date: Option<Date> = form.opt("stopDate");
        let status = form.opt("status").unwrap_or(MedicationStatus::Active);
        let reason = form.opt("reason");
        let note = form.opt("note");
        if let (Some(start), Some(stop)) = (start_date, stop_date)
            && stop < start
        {
            form.reject("stopDate", Issue::Rule(format!("must not be before the start date {start}")));
            return None;
        }
        Some(Self { name: name?, strength, dose, route, frequency, start_date, stop_date, status, reason, note })
    }
}
