//! A patient's demographics: identity, contact, insurance, and the clinic-unique record number.

use serde::{Deserialize, Serialize};

use super::fields::{Form, Issue};
use super::keys;
use super::rights::Restriction;
use super::values::{BirthDate, CountryCode, Email, EntityId, LanguageTag, Phone, PostalCode, ShortText, search_fold};
use crate::store::schema::Index;
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// Sex assigned at birth.
    SexAtBirth { Female = "female", Male = "male", Intersex = "intersex", Unknown = "unknown" }
}

crate::string_enum! {
    /// Gender identity, as the patient states it.
    GenderIdentity {
        Female = "female",
        Male = "male",
        NonBinary = "non-binary",
        TransgenderFemale = "transgender-female",
        TransgenderMale = "transgender-male",
        Other = "other",
        AskedDeclined = "asked-declined",
    }
}

/// A postal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub lines: Vec<ShortText>,
    pub city: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PostalCode>,
    pub country: CountryCode,
}

impl Address {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["lines", "city", "region", "postalCode", "country"]);
        let lines = form.list("lines", 1, 3);
        let city = form.req("city");
        let region = form.opt("region");
        let postal_code = form.opt("postalCode");
        let country = form.req("country");
        Some(Self { lines: lines?, city: city?, region, postal_code, country: country? })
    }
}

/// Who to call in an emergency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmergencyContact {
    pub name: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationship: Option<ShortText>,
    pub phone: Phone,
}

impl EmergencyContact {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "relationship", "phone"]);
        let name = form.req("name");
        let relationship = form.opt("relationship");
        let phone = form.req("phone");
        Some(Self { name: name?, relationship, phone: phone? })
    }
}

/// The patient's insurance coverage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insurance {
    pub payer: ShortText,
    pub member_id: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<ShortText>,
}

impl Insurance {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["payer", "memberId", "group"]);
        let payer = form.req("payer");
        let member_id = form.req("memberId");
        let group = form.opt("group");
        Some(Self { payer: payer?, member_id: member_id?, group })
    }
}

/// Everything about a patient that staff enter and may change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientDetails {
    pub given_name: ShortText,
    pub family_name: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<ShortText>,
    pub birth_date: BirthDate,
    pub sex_at_birth: SexAtBirth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender_identity: Option<GenderIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<ShortText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_contact: Option<EmergencyContact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance: Option<Insurance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<LanguageTag>,
}

/// Fields the system owns; a client may not set them.
pub const READ_ONLY_FIELDS: &[&str] = &["id", "mrn", "restriction", "createdAt", "updatedAt", "version"];

impl PatientDetails {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        for field in READ_ONLY_FIELDS {
            if form.has(field) {
                form.reject(field, Issue::Shape("is set by Vellum and cannot be written".into()));
            }
        }
        let mut known = vec![
            "givenName",
            "familyName",
            "preferredName",
            "birthDate",
            "sexAtBirth",
            "genderIdentity",
            "pronouns",
            "phone",
            "email",
            "address",
            "emergencyContact",
            "insurance",
            "preferredLanguage",
        ];
        known.extend_from_slice(READ_ONLY_FIELDS);
        form.only(&known);
        let given_name = form.req("givenName");
        let family_name = form.req("familyName");
        let preferred_name = form.opt("preferredName");
        let birth_date = form.req("birthDate");
        let sex_at_birth = form.req("sexAtBirth");
        let gender_identity = form.opt("genderIdentity");
        let pronouns = form.opt("pronouns");
        let phone = form.opt("phone");
        let email = form.opt("email");
        let address = form.object("address", false, Address::read);
        let emergency_contact = form.object("emergencyContact", false, EmergencyContact::read);
        let insurance = form.object("insurance", false, Insurance::read);
        let preferred_language = form.opt("preferredLanguage");
        Some(Self {
            given_name: given_name?,
            family_name: family_name?,
            preferred_name,
            birth_date: birth_date?,
            sex_at_birth: sex_at_birth?,
            gender_identity,
            pronouns,
            phone,
            email,
            address,
            emergency_contact,
            insurance,
            preferred_language,
        })
    }
}

/// A patient as stored and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub id: EntityId,
    pub mrn: String,
    #[serde(flatten)]
    pub details: PatientDetails,
    /// While set, only administrators open the record and nothing new is written to it (GDPR Art. 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<Restriction>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Formats the clinic's n-th medical record number.
pub fn format_mrn(n: i64) -> String {
    format!("{n:08}")
}

impl Patient {
    /// The stored item, with the index keys that name, birth-date and phone search use.
    pub fn to_item(&self, clinic: EntityId) -> Item {
        let mut item = entity_item(&Key::new(keys::clinic_pk(clinic), keys::patient_sk(self.id)), self);
        let mut index = |index: Index, pk: String, sk: String| {
            let (pk_attr, sk_attr) = index.attrs();
            item.insert(pk_attr.into(), pk.into());
            item.insert(sk_attr.into(), sk.into());
        };
        let d = &self.details;
        index(
            Index::Gsi1,
            keys::patient_name_index(clinic),
            format!("{}#{}#{}", search_fold(d.family_name.as_str()), search_fold(d.given_name.as_str()), self.id),
        );
        index(
            Index::Gsi2,
            keys::patient_birth_date_index(clinic, &d.birth_date.0.to_string()),
            keys::patient_sk(self.id),
        );
        if let Some(phone) = &d.phone {
            index(Index::Gsi3, keys::patient_phone_index(clinic, phone.as_str()), keys::patient_sk(self.id));
        }
        item
    }

    /// What a search result shows: enough to pick the right patient, no more.
    pub fn summary(&self) -> serde_json::Value {
        let d = &self.details;
        serde_json::json!({
            "id": self.id,
            "mrn": self.mrn,
            "givenName": d.given_name,
            "familyName": d.family_name,
            "preferredName": d.preferred_name,
            "birthDate": d.birth_date,
            "sexAtBirth": d.sex_at_birth,
            "phone": d.phone,
        })
    }
}

/// Keeps the record number's lookup item in step with the patient.
pub fn mrn_item(clinic: EntityId, mrn: &str, patient: EntityId) -> Item {
    let mut item = Item::new();
    item.insert(crate::store::schema::PK.into(), keys::clinic_pk(clinic).into());
    item.insert(crate::store::schema::SK.into(), keys::mrn_sk(mrn).into());
    item.insert("patientId".into(), patient.to_string().into());
    item
}
