//! Allergies and intolerances, and the explicit "no known allergies" that differs from "not yet asked".

use serde::{Deserialize, Serialize};

use super::allow;
use crate::domain::fields::{Form, Issue};
use crate::domain::values::{LongText, PastDate, ShortText};

crate::string_enum! {
    /// How bad a reaction is (or could be).
    Severity { Mild = "mild", Moderate = "moderate", Severe = "severe", LifeThreatening = "life-threatening" }
}

impl Severity {
    /// Higher is worse: a chart lists the worst first.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Mild => 1,
            Severity::Moderate => 2,
            Severity::Severe => 3,
            Severity::LifeThreatening => 4,
        }
    }
}

crate::string_enum! {
    /// Whether an allergy (or the absence of any) still holds.
    AllergyStatus { Active = "active", Inactive = "inactive", Resolved = "resolved" }
}

crate::string_enum! {
    /// What kind of substance causes it.
    AllergyCategory { Medication = "medication", Food = "food", Environment = "environment", Biologic = "biologic", Other = "other" }
}

crate::string_enum! {
    /// The code system of a substance code.
    SubstanceCodeSystem { RxNorm = "rxnorm", SnomedCt = "snomed-ct", Unii = "unii", Other = "other" }
}

/// A coded substance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubstanceCode {
    pub system: SubstanceCodeSystem,
    pub code: ShortText,
}

impl SubstanceCode {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["system", "code"]);
        let system = form.req("system");
        let code = form.req("code");
        Some(Self { system: system?, code: code? })
    }
}

/// An allergy or intolerance, or the statement that the patient has none known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Allergy {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_known_allergies: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substance: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<SubstanceCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<AllergyCategory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub status: AllergyStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset: Option<PastDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<LongText>,
}

pub const ABOUT_A_SUBSTANCE: &[&str] = &["substance", "code", "category", "reaction", "severity", "onset"];

impl Allergy {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        let mut fields = vec!["noKnownAllergies", "status", "note"];
        fields.extend_from_slice(ABOUT_A_SUBSTANCE);
        allow(form, &fields);
        let none_known = form.opt::<bool>("noKnownAllergies").unwrap_or(false);
        let status = form.opt("status").unwrap_or(AllergyStatus::Active);
        let note = form.opt("note");
        if none_known {
            for field in ABOUT_A_SUBSTANCE.iter().filter(|f| form.given(f)) {
                form.reject(field, Issue::Rule("must be absent when noKnownAllergies is true".into()));
            }
            return Some(Self {
                no_known_allergies: true,
                substance: None,
                code: None,
                category: None,
                reaction: None,
                severity: None,
                status,
                onset: None,
                note,
            });
        }
        let substance = form.req("substance");
        let code = form.object("code", false, SubstanceCode::read);
        let category = form.opt("category");
        let reaction = form.opt("reaction");
        let severity = form.opt("severity");
        let onset = form.opt("onset");
        Some(Self {
            no_known_allergies: false,
            substance: Some(substance?),
            code,
            category,
            reaction,
            severity,
            status,
            onset,
            note,
        })
    }
}
