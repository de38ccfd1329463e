//! The templates every clinic can copy: medical history, aesthetic consultation, the consents for
//! neurotoxin, dermal filler and photography, and the privacy notice acknowledgement.

use super::template::TemplateContent;

/// A shipped template.
pub struct BuiltIn {
    pub id: &'static str,
    json: &'static str,
}

impl BuiltIn {
    /// The template's content (checked by a test to parse and be sound).
    pub fn content(&self) -> TemplateContent {
        serde_json::from_str(self.json).unwrap_or_else(|e| panic!("built-in template {} is broken: {e}", self.id))
    }
}

pub static ALL: &[BuiltIn] = &[
    BuiltIn { id: "medical-history", json: include_str!("builtin/medical-history.json") },
    BuiltIn { id: "aesthetic-consultation", json: include_str!("builtin/aesthetic-consultation.json") },
    BuiltIn { id: "neurotoxin-consent", json: include_str!("builtin/neurotoxin-consent.json") },
    BuiltIn { id: "dermal-filler-consent", json: include_str!("builtin/dermal-filler-consent.json") },
    BuiltIn { id: "photography-consent", json: include_str!("builtin/photography-consent.json") },
    BuiltIn { id: "privacy-notice", json: include_str!("builtin/privacy-notice.json") },
];

/// The built-in template with this id.
pub fn find(id: &str) -> Option<&'static BuiltIn> {
    ALL.iter().find(|b| b.id == id)
}
