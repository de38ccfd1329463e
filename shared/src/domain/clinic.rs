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
    pub created_at: String,
    pub version: u64,
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
