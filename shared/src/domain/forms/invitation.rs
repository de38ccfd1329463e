//! Invitations and submissions: the link a patient gets (only its hash is kept), what the link opens,
//! the draft kept between visits, and the answers and signatures a submission records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::template::TemplateContent;
use crate::crypto::{random_bytes, sha256_hex};
use crate::domain::chart::Actor;
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::store::{Item, Key, entity_item};

/// How long a link works unless the clinic says otherwise.
pub const DEFAULT_HOURS: i64 = 72;
/// The longest a clinic may let a link work.
pub const MAX_HOURS: i64 = 14 * 24;

crate::string_enum! {
    /// Where an invitation stands.
    InvitationStatus { Active = "active", Revoked = "revoked", Used = "used" }
}

crate::string_enum! {
    /// How the link is to reach the patient.
    Channel { Email = "email", Sms = "sms", Link = "link" }
}

/// A new link token (256 random bits, URL-safe) and the hash that is all Vellum keeps of it.
pub fn new_token() -> (String, String) {
    let bytes: [u8; 32] = random_bytes();
    let token: String = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The hash a token is looked up by.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether a path segment could be a token at all (43 URL-safe base64 characters).
pub fn plausible_token(token: &str) -> bool {
    token.len() == 43 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One form of an invitation: the exact template version the patient answers, by reference (a template
/// version never changes), so an invitation stays small whatever the templates hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitedForm {
    pub template_id: String,
    pub version: u64,
    #[serde(default)]
    pub title: String,
}

/// An invitation, as stored under its token hash (for the patient's link) and under the patient (for staff).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: EntityId,
    pub clinic_id: EntityId,
    pub clinic_name: String,
    pub patient_id: EntityId,
    pub patient_first_name: String,
    pub forms: Vec<InvitedForm>,
    pub token_hash: String,
    pub channel: Channel,
    /// Seconds since the epoch.
    pub expires_at: i64,
    pub status: InvitationStatus,
    /// Photos uploaded through the link.
    #[serde(default)]
    pub photo_ids: Vec<EntityId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<EntityId>,
    pub created_by: Actor,
    pub created_at: String,
    pub version: u64,
}

impl Invitation {
    /// The item the link opens: keyed by the token's hash alone, so no clinic is needed to find it.
    pub fn link_key(token_hash: &str) -> Key {
        Key::new(format!("INVITATION#{token_hash}"), "INVITATION")
    }

    /// The staff copy, in the patient's chart partition.
    pub fn staff_key(clinic: EntityId, patient: EntityId, id: EntityId) -> Key {
        Key::new(keys::chart_pk(clinic, patient), format!("INVITATION#{id}"))
    }

    /// The patient's draft answers, beside the link's item but apart from it: a save never moves the
    /// link's version, so sending the forms cannot collide with an autosave in flight.
    pub fn draft_key(token_hash: &str) -> Key {
        Key::new(format!("INVITATION#{token_hash}"), "DRAFT")
    }

    pub fn link_item(&self) -> Item {
        entity_item(&Self::link_key(&self.token_hash), self)
    }

    pub fn staff_item(&self) -> Item {
        entity_item(&Self::staff_key(self.clinic_id, self.patient_id, self.id), self)
    }

    /// What staff see: never the token's hash, the draft or the template texts.
    pub fn staff_view(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "patientId": self.patient_id,
            "forms": self.forms.iter().map(|f| serde_json::json!({"templateId": f.template_id, "version": f.version, "title": f.title})).collect::<Vec<_>>(),
            "channel": self.channel,
            "expiresAt": chrono::DateTime::from_timestamp(self.expires_at, 0).map(|t| t.to_rfc3339()),
            "status": self.status,
            "submissionId": self.submission_id,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "version": self.version,
        })
    }

    /// What the link shows the patient: the clinic, their first name, the forms (with `contents`, one per
    /// form, read from the template versions) and their draft. Nothing more.
    pub fn patient_view(&self, contents: &[TemplateContent], draft: &Map<String, Value>) -> Value {
        let forms: Vec<Value> = self
            .forms
            .iter()
            .zip(contents)
            .map(|(f, content)| serde_json::json!({"templateId": f.template_id, "version": f.version, "content": content}))
            .collect();
        serde_json::json!({
            "clinicName": self.clinic_name,
            "patientFirstName": self.patient_first_name,
            "forms": forms,
            "draft": draft,
            "expiresAt": chrono::DateTime::from_timestamp(self.expires_at, 0).map(|t| t.to_rfc3339()),
        })
    }
}

/// A signed consent: the exact text, who signed it how, when and from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    pub template_id: String,
    pub question_id: String,
    pub typed_name: String,
    /// The drawn signature, a PNG, base64.
    pub drawing_png: String,
    pub signed_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub consent_text: String,
    pub consent_text_sha256: String,
}

/// One form as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedForm {
    pub template_id: String,
    pub version: u64,
    pub title: String,
    pub answers: Value,
}

/// What staff accepted of a submission into the chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub kind: String,
    pub entry_id: EntityId,
    pub template_id: String,
    pub question_id: String,
    pub index: Option<usize>,
    pub by: Actor,
    pub at: String,
}

/// A patient's submission, kept in their chart partition for staff to review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: EntityId,
    pub invitation_id: EntityId,
    pub patient_id: EntityId,
    pub forms: Vec<SubmittedForm>,
    pub signatures: Vec<Signature>,
    pub submitted_at: String,
    #[serde(default)]
    pub accepted: Vec<Accepted>,
    pub version: u64,
}

impl Submission {
    /// The sort-key prefix of submissions in the patient's chart partition.
    pub const PREFIX: &'static str = "SUBMISSION#";

    pub fn key(clinic: EntityId, patient: EntityId, id: EntityId) -> Key {
        Key::new(keys::chart_pk(clinic, patient), format!("{}{id}", Self::PREFIX))
    }

    pub fn item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic, self.patient_id, self.id), self)
    }

    /// What staff see: the signatures without their drawings (the consent PDF shows those).
    pub fn to_json(&self) -> Value {
        let signatures: Vec<Value> = self
            .signatures
            .iter()
            .map(|s| {
                serde_json::json!({
                    "templateId": s.template_id, "questionId": s.question_id, "typedName": s.typed_name,
                    "signedAt": s.signed_at, "ip": s.ip, "userAgent": s.user_agent,
                    "consentTextSha256": s.consent_text_sha256,
                })
            })
            .collect();
        serde_json::json!({
            "id": self.id, "invitationId": self.invitation_id, "patientId": self.patient_id,
            "forms": self.forms, "signatures": signatures, "submittedAt": self.submitted_at,
            "accepted": self.accepted, "version": self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_carries_256_bits_and_only_its_hash_is_kept() {
        let (token, hash) = new_token();
        assert!(plausible_token(&token), "{token}");
        assert_eq!(hash, token_hash(&token));
        assert_eq!(hash.len(), 64);
        assert_ne!(new_token().0, token);
        assert!(!plausible_token("short") && !plausible_token(&format!("{}/", &token[..42])));
    }
}
