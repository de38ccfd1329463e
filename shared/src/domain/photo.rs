//! Before/after photos: what staff declare when they ask to upload one, the state the processing moves it
//! through, its consent, and its encrypted renditions (whose wrapped keys never leave the records table).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::chart::Actor;
use super::fields::{Form, Issue};
use super::keys;
use super::values::{EntityId, PastInstant, ShortText};
use crate::store::{Item, Key, entity_item};

/// The largest upload accepted, in bytes.
pub const MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;

/// The sort-key prefix of photos in the chart partition.
pub const PHOTO_PREFIX: &str = "PHOTO";

crate::string_enum! {
    /// The media types a photo may be declared as (the bytes decide what it really is).
    PhotoType { Jpeg = "image/jpeg", Png = "image/png", Webp = "image/webp" }
}

crate::string_enum! {
    /// The standard views of aesthetic photography.
    StandardView {
        Front = "front",
        LeftOblique = "left-oblique",
        RightOblique = "right-oblique",
        LeftProfile = "left-profile",
        RightProfile = "right-profile",
        Other = "other",
    }
}

crate::string_enum! {
    /// Where a photo stands in a treatment.
    Phase { Before = "before", After = "after" }
}

crate::string_enum! {
    /// What the patient agreed the photo may be used for; each level includes the ones before it.
    ConsentScope {
        ClinicalRecord = "clinical-record",
        InternalEducation = "internal-education",
        Marketing = "marketing",
    }
}

impl ConsentScope {
    fn level(self) -> u8 {
        match self {
            ConsentScope::ClinicalRecord => 0,
            ConsentScope::InternalEducation => 1,
            ConsentScope::Marketing => 2,
        }
    }

    /// Whether a photo consented to `self` may be shown for `purpose`.
    pub fn covers(self, purpose: ConsentScope) -> bool {
        self.level() >= purpose.level()
    }
}

crate::string_enum! {
    /// Where a photo is in its life.
    PhotoState { Pending = "pending", Ready = "ready", Rejected = "rejected", Erased = "erased" }
}

crate::string_enum! {
    /// The sizes a photo is kept in.
    Rendition { Display = "display", Thumbnail = "thumbnail" }
}

impl Rendition {
    /// The long edge, in pixels, a rendition is scaled down to.
    pub fn long_edge(self) -> u32 {
        match self {
            Rendition::Display => 2048,
            Rendition::Thumbnail => 320,
        }
    }
}

/// What staff declare when they ask to upload a photo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhotoRequest {
    pub content_type: PhotoType,
    pub byte_size: u64,
    pub body_area: ShortText,
    pub view: StandardView,
    pub captured_at: PastInstant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treatment_id: Option<EntityId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    pub consent: ConsentScope,
}

impl PhotoRequest {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["contentType", "byteSize", "bodyArea", "view", "capturedAt", "treatmentId", "phase", "consent"]);
        let content_type = form.req("contentType");
        let byte_size = form.number("byteSize", true, 1.0, MAX_UPLOAD_BYTES as f64, "bytes");
        let body_area = form.req("bodyArea");
        let view = form.req("view");
        let captured_at = form.req("capturedAt");
        let treatment_id = form.opt("treatmentId");
        let phase: Option<Phase> = form.opt("phase");
        let consent = form.opt("consent").unwrap_or(ConsentScope::ClinicalRecord);
        if phase.is_some() && !form.given("treatmentId") {
            form.reject("phase", Issue::Rule("needs the treatmentId it is before or after".into()));
        }
        let byte_size = byte_size?;
        if byte_size.fract() != 0.0 {
            form.reject("byteSize", Issue::Rule("must be a whole number of bytes".into()));
            return None;
        }
        Some(Self {
            content_type: content_type?,
            byte_size: byte_size as u64,
            body_area: body_area?,
            view: view?,
            captured_at: captured_at?,
            treatment_id,
            phase,
            consent,
        })
    }
}

/// One stored, encrypted rendition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRendition {
    pub object_key: String,
    pub width: u32,
    pub height: u32,
    /// The data key, wrapped by the keys port under the photo's encryption context (base64).
    pub wrapped_key: String,
    pub key_ref: String,
}

/// A change of consent, kept for the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentChange {
    pub scope: ConsentScope,
    pub by: Actor,
    pub at: String,
}

/// A photo as stored in the patient's chart partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Photo {
    pub id: EntityId,
    pub patient_id: EntityId,
    #[serde(flatten)]
    pub request: PhotoRequest,
    pub state: PhotoState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<StoredRendition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<StoredRendition>,
    pub consent_history: Vec<ConsentChange>,
    pub uploaded_by: Actor,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased: Option<Erasure>,
    pub version: u64,
}

/// Who erased a photo, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    pub by: Actor,
    pub at: String,
    pub reason: ShortText,
}

impl Photo {
    pub fn key(clinic: EntityId, patient: EntityId, photo: EntityId) -> Key {
        Key::new(keys::chart_pk(clinic, patient), format!("{PHOTO_PREFIX}#{photo}"))
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic, self.patient_id, self.id), self)
    }

    /// Where the upload lands: the quarantine prefix, which the processing watches and empties.
    pub fn quarantine_key(clinic: EntityId, patient: EntityId, photo: EntityId) -> String {
        format!("quarantine/{clinic}/{patient}/{photo}")
    }

    /// Where an encrypted rendition of one processing run is kept: each run writes its own objects, so two
    /// runs of the same upload never overwrite each other's (the record names the objects of the run that won).
    pub fn object_key(
        clinic: EntityId,
        patient: EntityId,
        photo: EntityId,
        rendition: Rendition,
        run: EntityId,
    ) -> String {
        format!("photos/{clinic}/{patient}/{photo}/{run}/{rendition}")
    }

    /// The ids a sealed rendition's object key names, if it is one.
    pub fn parse_object_key(key: &str) -> Option<(EntityId, EntityId, EntityId)> {
        let mut parts = key.strip_prefix("photos/")?.split('/');
        let ids = (EntityId::parse(parts.next()?)?, EntityId::parse(parts.next()?)?, EntityId::parse(parts.next()?)?);
        let (_run, _rendition) = (parts.next()?, parts.next()?);
        parts.next().is_none().then_some(ids)
    }

    /// The ids a quarantine object key names, if it is one.
    pub fn parse_quarantine_key(key: &str) -> Option<(EntityId, EntityId, EntityId)> {
        let mut parts = key.strip_prefix("quarantine/")?.split('/');
        let ids = (EntityId::parse(parts.next()?)?, EntityId::parse(parts.next()?)?, EntityId::parse(parts.next()?)?);
        parts.next().is_none().then_some(ids)
    }

    /// The consent in force.
    pub fn consent(&self) -> ConsentScope {
        self.consent_history.last().map_or(self.request.consent, |c| c.scope)
    }

    pub fn stored(&self, rendition: Rendition) -> Option<&StoredRendition> {
        match rendition {
            Rendition::Display => self.display.as_ref(),
            Rendition::Thumbnail => self.thumbnail.as_ref(),
        }
    }

    /// The photo as the API shows it: never its keys or object names.
    pub fn to_json(&self) -> Value {
        let size = |r: &Option<StoredRendition>| r.as_ref().map(|r| json!({"width": r.width, "height": r.height}));
        let mut out = serde_json::to_value(&self.request).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut out {
            let extra = json!({
                "id": self.id,
                "patientId": self.patient_id,
                "state": self.state,
                "rejection": self.rejection,
                "consent": self.consent(),
                "consentHistory": self.consent_history,
                "renditions": {"display": size(&self.display), "thumbnail": size(&self.thumbnail)},
                "uploadedBy": self.uploaded_by,
                "createdAt": self.created_at,
                "processedAt": self.processed_at,
                "erased": self.erased,
                "version": self.version,
            });
            if let Value::Object(extra) = extra {
                map.extend(extra);
            }
        }
        out
    }
}
