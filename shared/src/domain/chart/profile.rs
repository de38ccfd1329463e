//! The aesthetic profile: concerns and goals, skin type, pregnancy status and the history that changes
//! what may be injected.

use serde::{Deserialize, Serialize};

use super::allow;
use crate::domain::fields::{Form, Issue};
use crate::domain::values::{LongText, PastDate, ShortText};

crate::string_enum! {
    /// Fitzpatrick skin phototype.
    Fitzpatrick { I = "I", II = "II", III = "III", IV = "IV", V = "V", VI = "VI" }
}

crate::string_enum! {
    /// Pregnancy or breastfeeding, as last asked.
    PregnancyStatus { Pregnant = "pregnant", Breastfeeding = "breastfeeding", Neither = "neither", Unknown = "unknown" }
}

/// Pregnancy status with the date it was recorded: it goes stale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pregnancy {
    pub status: PregnancyStatus,
    pub recorded_on: PastDate,
}

/// History that matters before an aesthetic treatment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelevantHistory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keloids: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cold_sores: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoimmune_condition: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_filler_reaction: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_toxin_reaction: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<LongText>,
}

pub const HISTORY_FLAGS: [&str; 5] =
    ["keloids", "coldSores", "autoimmuneCondition", "previousFillerReaction", "previousToxinReaction"];

impl RelevantHistory {
    fn read(form: &Form<'_>) -> Option<Self> {
        let mut fields = HISTORY_FLAGS.to_vec();
        fields.push("details");
        form.only(&fields);
        Some(Self {
            keloids: form.opt("keloids"),
            cold_sores: form.opt("coldSores"),
            autoimmune_condition: form.opt("autoimmuneCondition"),
            previous_filler_reaction: form.opt("previousFillerReaction"),
            previous_toxin_reaction: form.opt("previousToxinReaction"),
            details: form.opt("details"),
        })
    }
}

/// A patient's aesthetic profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AestheticProfile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concerns: Vec<ShortText>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitzpatrick: Option<Fitzpatrick>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pregnancy: Option<Pregnancy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<RelevantHistory>,
}

/// A profile's fields, at least one of which a profile gives.
pub const PROFILE_FIELDS: [&str; 5] = ["concerns", "goals", "fitzpatrick", "pregnancy", "history"];

impl AestheticProfile {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        let fields = PROFILE_FIELDS;
        allow(form, &fields);
        let concerns = form.list("concerns", 0, 20);
        let goals = form.list("goals", 0, 20);
        let fitzpatrick = form.opt("fitzpatrick");
        let pregnancy = form.object("pregnancy", false, |p| {
            p.only(&["status", "recordedOn"]);
            let status = p.req("status");
            let recorded_on = p.req("recordedOn");
            Some(Pregnancy { status: status?, recorded_on: recorded_on? })
        });
        let history = form.object("history", false, RelevantHistory::read);
        if !fields.iter().any(|f| form.given(f)) {
            form.reject("", Issue::Shape(format!("at least one of {} is required", fields.join(", "))));
            return None;
        }
        Some(Self { concerns: concerns?, goals: goals?, fitzpatrick, pregnancy, history })
    }
}
