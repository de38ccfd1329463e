//! Conditions and diagnoses: an ICD-10-CM code, free text, or both.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::icd10::Icd10Code;
use super::{Data, allow};
use crate::domain::fields::{Context, Form, Issue, ParseStr};
use crate::domain::values::{LongText, PastDate, ShortText};

crate::string_enum! {
    /// Whether the condition is there now.
    ConditionStatus {
        Active = "active",
        Recurrence = "recurrence",
        Inactive = "inactive",
        Remission = "remission",
        Resolved = "resolved",
    }
}

impl ConditionStatus {
    pub fn is_active(self) -> bool {
        matches!(self, ConditionStatus::Active | ConditionStatus::Recurrence)
    }
}

/// A condition or diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Icd10Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<ShortText>,
    pub status: ConditionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset: Option<PastDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<LongText>,
}

impl Condition {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        allow(form, &["code", "text", "status", "onset", "note"]);
        let code = form.opt("code");
        let text = form.opt("text");
        let status = form.opt("status").unwrap_or(ConditionStatus::Active);
        let onset = form.opt("onset");
        let note = form.opt("note");
        if !form.given("code") && !form.given("text") {
            form.reject("code", Issue::Shape("is required unless text describes the condition".into()));
            return None;
        }
        if code.is_none() && text.is_none() {
            return None;
        }
        Some(Self { code, text, status, onset, note })
    }
}

/// The shipped name of the code, for readers.
pub fn derived(data: &Data) -> Data {
    let mut out = Data::new();
    let name = data
        .get("code")
        .and_then(Value::as_str)
        .and_then(|c| Icd10Code::parse_str(c, &Context::timeless()).ok())
        .and_then(|c| c.name());
    if let Some(name) = name {
        out.insert("codeName".into(), name.into());
    }
    out
}
