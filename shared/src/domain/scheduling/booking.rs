//! Online booking: a patient without an account asks for a time on the clinic's public page; the time is
//! held for 15 minutes (its claims lapse by themselves, see `claims::Block::lapses_at`) while a link goes
//! by text message to the phone they gave; opening the link confirms it, and only then does it become an
//! appointment of a patient.
//!
//! Matching: at confirmation, a patient of the clinic whose folded given and family names, birth date and
//! phone number all equal the request's, and who is the only one, is the patient booked. Anyone else is
//! registered as a new patient. This is safe to do without staff because the link that confirms goes to
//! the phone the request names: whoever opens it holds that phone, and for a match the phone is the one on
//! record. A near miss (a typo, a new number) registers a new patient rather than guessing; staff merge
//! records if they must. The public answers are the same whether or not someone is a patient.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::appointment::Slot;
use crate::domain::fields::{Form, ParseStr};
use crate::domain::patient::{Patient, PatientDetails, SexAtBirth};
use crate::domain::values::{BirthDate, Email, EntityId, Phone, ShortText, search_fold};
use crate::store::schema::TTL;
use crate::store::{Item, Key, entity_item};

/// How long a request holds its time unconfirmed.
pub const HOLD_MINUTES: i64 = 15;
/// How far ahead patients may book online.
pub const HORIZON_DAYS: i64 = 90;
/// How many days of free times one public call answers.
pub const MAX_DAYS_PER_CALL: i64 = 14;
/// How many holds a clinic takes in a minute from everyone together (a script filling its calendar is
/// stopped long before the calendar is).
pub const HOLDS_PER_CLINIC_MINUTE: i64 = 30;

crate::string_enum! {
    /// Where a request stands.
    BookingStatus { Held = "held", Confirmed = "confirmed" }
}

crate::string_enum! {
    /// How the confirmed request found its patient.
    PatientMatch { Existing = "existing", Registered = "registered" }
}

/// Who asks, as they typed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requester {
    pub given_name: ShortText,
    pub family_name: ShortText,
    pub birth_date: BirthDate,
    pub sex_at_birth: SexAtBirth,
    pub phone: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

impl Requester {
    /// Whether `patient` is this person: names folded, birth date and phone all equal.
    pub fn is(&self, patient: &Patient) -> bool {
        let details = &patient.details;
        search_fold(details.given_name.as_str()) == search_fold(self.given_name.as_str())
            && search_fold(details.family_name.as_str()) == search_fold(self.family_name.as_str())
            && details.birth_date == self.birth_date
            && details.phone.as_ref() == Some(&self.phone)
    }

    /// The details a new patient is registered with.
    pub fn details(&self) -> PatientDetails {
        PatientDetails {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            preferred_name: None,
            birth_date: self.birth_date,
            sex_at_birth: self.sex_at_birth,
            gender_identity: None,
            pronouns: None,
            phone: Some(self.phone.clone()),
            email: self.email.clone(),
            address: None,
            emergency_contact: None,
            insurance: None,
            preferred_language: None,
        }
    }
}

/// What the public page sends to hold a time.
pub struct HoldRequest {
    pub service_id: EntityId,
    pub start: DateTime<Utc>,
    pub requester: Requester,
}

impl HoldRequest {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["serviceId", "start", "givenName", "familyName", "birthDate", "sexAtBirth", "phone", "email"]);
        let service_id = form.req("serviceId");
        let start = super::appointment::read_start(form);
        let given_name = form.req("givenName");
        let family_name = form.req("familyName");
        let birth_date = form.req("birthDate");
        let sex_at_birth = form.req("sexAtBirth");
        let phone = form.req("phone");
        let email = form.opt("email");
        Some(Self {
            service_id: service_id?,
            start: start?,
            requester: Requester {
                given_name: given_name?,
                family_name: family_name?,
                birth_date: birth_date?,
                sex_at_birth: sex_at_birth?,
                phone: phone?,
                email,
            },
        })
    }
}

/// A request, kept under its link's token hash (the only way to reach it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingRequest {
    /// Also the id of the appointment it becomes (its claims name it already).
    pub id: EntityId,
    pub clinic_id: EntityId,
    pub service_id: EntityId,
    #[serde(flatten)]
    pub slot: Slot,
    pub requester: Requester,
    pub token_hash: String,
    /// When the hold lapses unless confirmed.
    pub lapses_at: DateTime<Utc>,
    pub status: BookingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<EntityId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<PatientMatch>,
    pub created_at: String,
    pub version: u64,
}

impl BookingRequest {
    pub fn link_key(token_hash: &str) -> Key {
        Key::new(format!("BOOKING#{token_hash}"), "BOOKING")
    }

    /// The stored item; it goes a day after the hold would have lapsed (the appointment is the record).
    pub fn to_item(&self) -> Item {
        let mut item = entity_item(&Self::link_key(&self.token_hash), self);
        item.insert(TTL.into(), (self.lapses_at + Duration::days(1)).timestamp().into());
        item
    }
}

/// A clinic's public booking handle, in its page's address: 3 to 40 lower-case letters, digits or
/// hyphens, not starting or ending with a hyphen, and not a word the booking routes use themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingSlug(String);

impl BookingSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The item that gives a slug to one clinic.
    pub fn key(&self) -> Key {
        Key::new(format!("BOOKSLUG#{}", self.0), "SLUG")
    }
}

/// Words of the booking routes' own paths (`/book/confirm/…`, `/v1/booking/confirmations/…`).
const RESERVED: &[&str] = &["confirm", "confirmations"];

impl ParseStr for BookingSlug {
    fn parse_str(s: &str, _: &crate::domain::fields::Context) -> Result<Self, String> {
        let ok = (3..=40).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !RESERVED.contains(&s);
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("must be 3 to 40 lower-case letters, digits or hyphens, not starting or ending with a hyphen (and not confirm or confirmations)".into())
        }
    }

    fn schema() -> serde_json::Value {
        let mut slug = crate::domain::schema::pattern("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$");
        slug["not"] = crate::domain::schema::one_of(RESERVED);
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::Context;

    #[test]
    fn a_slug_is_short_lower_case_and_hyphenated_inside() {
        let ok = |s: &str| BookingSlug::parse_str(s, &Context::timeless()).is_ok();
        assert!(ok("glow-clinic") && ok("abc") && ok("a1-b2"));
        assert!(!ok("ab") && !ok("-glow") && !ok("glow-") && !ok("Glow") && !ok("glow clinic") && !ok(&"a".repeat(41)));
        assert!(!ok("confirm") && !ok("confirmations"));
    }
}
