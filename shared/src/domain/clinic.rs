//! A clinic: the tenant every other record belongs to.

use serde::{Deserialize, Serialize};

use super::fields::Form;
use super::staff::NewStaff;
use super::values::{CountryCode, Email, EntityId, Phone, ShortText, TimeZoneName};

/// How the clinic is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClinicContact {
    pub email: Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
}

impl ClinicContact {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["email", "phone"]);
        let email = form.req("email");
        let phone = form.opt("phone");
        Some(Self { email: email?, phone })
    }
}

/// A clinic as stored and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Clinic {
    pub id: EntityId,
    pub name: ShortText,
    pub time_zone: TimeZoneName,
    pub country: CountryCode,
    pub contact: ClinicContact,
    pub plan: String,
    /// A cancel this many hours or fewer before an appointment's start is late.
    #[serde(default = "default_cancellation_window")]
    pub cancellation_window_hours: u32,
    pub created_at: String,
    pub version: u64,
}

/// The cancellation window of a clinic that has not set one.
pub const DEFAULT_CANCELLATION_WINDOW_HOURS: u32 = 24;
/// The longest cancellation window: a week.
pub const MAX_CANCELLATION_WINDOW_HOURS: u32 = 168;

fn default_cancellation_window() -> u32 {
    DEFAULT_CANCELLATION_WINDOW_HOURS
}

/// What an administrator may change of their clinic (its zone and country stay as it was opened with).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClinicSettings {
    pub name: ShortText,
    pub contact: ClinicContact,
    pub cancellation_window_hours: u32,
}

impl ClinicSettings {
    pub fn of(clinic: &Clinic) -> Self {
        Self {
            name: clinic.name.clone(),
            contact: clinic.contact.clone(),
            cancellation_window_hours: clinic.cancellation_window_hours,
        }
    }

    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "contact", "cancellationWindowHours"]);
        let name = form.req("name");
        let contact = form.object("contact", true, ClinicContact::read);
        let window =
            form.number("cancellationWindowHours", true, 0.0, f64::from(MAX_CANCELLATION_WINDOW_HOURS), "hours");
        let window = window.and_then(|hours| {
            if hours.fract() != 0.0 {
                form.reject(
                    "cancellationWindowHours",
                    super::fields::Issue::Rule("must be a whole number of hours".into()),
                );
                return None;
            }
            Some(hours as u32)
        });
        Some(Self { name: name?, contact: contact?, cancellation_window_hours: window? })
    }
}

/// A request to open a clinic, with its first administrator.
#[derive(Clone, Debug)]
pub struct NewClinic {
    pub name: ShortText,
    pub time_zone: TimeZoneName,
    pub country: CountryCode,
    pub contact: ClinicContact,
    pub admin: NewStaff,
}

impl NewClinic {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "timeZone", "country", "contact", "admin"]);
        let name = form.req("name");
        let time_zone = form.req("timeZone");
        let country = form.req("country");
        let contact = form.object("contact", true, ClinicContact::read);
        let admin = form.object("admin", true, NewStaff::read_first_admin);
        Some(Self { name: name?, time_zone: time_zone?, country: country?, contact: contact?, admin: admin? })
    }
}
