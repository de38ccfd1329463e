//! A clinic: the tenant every other record belongs to.

use serde::{Deserialize, Serialize};

use super::fields::{Form, Issue};
use super::rights::Retention;
use super::scheduling::booking::BookingSlug;
use super::staff::NewStaff;
use super::values::{CountryCode, Email, EntityId, Phone, ShortText, TimeZoneName};
use crate::messages::templates::Language;

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
    /// The language of messages to patients who have not given one the clinic writes in.
    #[serde(default = "default_language")]
    pub language: Language,
    /// How many hours before an appointment its reminders go, latest last (none: no reminders).
    #[serde(default = "default_reminder_hours")]
    pub reminder_hours: Vec<u32>,
    /// The address of its public booking page (`/book/<slug>`); none: patients do not book online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_slug: Option<BookingSlug>,
    /// How long its records must be kept where it practises; none: a record is never erased, only its photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_retention: Option<Retention>,
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

fn default_language() -> Language {
    Language::En
}

/// A day before and two hours before, as patients of most clinics expect.
pub fn default_reminder_hours() -> Vec<u32> {
    vec![24, 2]
}

/// The earliest reminder: a week before.
pub const MAX_REMINDER_HOURS: u32 = 168;
/// At most this many reminders per appointment.
pub const MAX_REMINDERS: usize = 3;

/// Reads `reminderHours`: up to three distinct whole hours of 1 to 168, kept earliest first.
fn read_reminder_hours(form: &Form<'_>) -> Option<Vec<u32>> {
    let hours: Vec<f64> = form.list("reminderHours", 0, MAX_REMINDERS)?;
    let mut whole = Vec::with_capacity(hours.len());
    for (i, h) in hours.iter().enumerate() {
        if h.fract() != 0.0 || *h < 1.0 || *h > f64::from(MAX_REMINDER_HOURS) {
            form.reject(
                &format!("reminderHours[{i}]"),
                Issue::Rule(format!("must be a whole number of hours from 1 to {MAX_REMINDER_HOURS}")),
            );
            return None;
        }
        whole.push(*h as u32);
    }
    whole.sort_unstable_by(|a, b| b.cmp(a));
    if whole.windows(2).any(|w| w[0] == w[1]) {
        form.reject("reminderHours", Issue::Rule("must not repeat an hour".into()));
        return None;
    }
    Some(whole)
}

/// What an administrator may change of their clinic (its zone and country stay as it was opened with).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClinicSettings {
    pub name: ShortText,
    pub contact: ClinicContact,
    pub cancellation_window_hours: u32,
    pub language: Language,
    pub reminder_hours: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_slug: Option<BookingSlug>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_retention: Option<Retention>,
}

impl ClinicSettings {
    pub fn of(clinic: &Clinic) -> Self {
        Self {
            name: clinic.name.clone(),
            contact: clinic.contact.clone(),
            cancellation_window_hours: clinic.cancellation_window_hours,
            language: clinic.language,
            reminder_hours: clinic.reminder_hours.clone(),
            booking_slug: clinic.booking_slug.clone(),
            record_retention: clinic.record_retention.clone(),
        }
    }

    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&[
            "name",
            "contact",
            "cancellationWindowHours",
            "language",
            "reminderHours",
            "bookingSlug",
            "recordRetention",
        ]);
        let name = form.req("name");
        let contact = form.object("contact", true, ClinicContact::read);
        let window =
            form.number("cancellationWindowHours", true, 0.0, f64::from(MAX_CANCELLATION_WINDOW_HOURS), "hours");
        let window = window.and_then(|hours| {
            if hours.fract() != 0.0 {
                form.reject("cancellationWindowHours", Issue::Rule("must be a whole number of hours".into()));
                return None;
            }
            Some(hours as u32)
        });
        let language = form.req("language");
        let reminder_hours = read_reminder_hours(form);
        let booking_slug = form.opt("bookingSlug");
        let record_retention = form.object("recordRetention", false, Retention::read);
        Some(Self {
            name: name?,
            contact: contact?,
            cancellation_window_hours: window?,
            language: language?,
            reminder_hours: reminder_hours?,
            booking_slug,
            record_retention,
        })
    }
}

/// A request to open a clinic, with its first administrator.
#[derive(Clone, Debug)]
pub struct NewClinic {
    pub name: ShortText,
    pub time_zone: TimeZoneName,
    pub country: CountryCode,
    pub contact: ClinicContact,
    pub language: Language,
    pub admin: NewStaff,
}

impl NewClinic {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "timeZone", "country", "contact", "language", "admin"]);
        let name = form.req("name");
        let time_zone = form.req("timeZone");
        let country = form.req("country");
        let contact = form.object("contact", true, ClinicContact::read);
        let language = form.opt("language").unwrap_or(Language::En);
        let admin = form.object("admin", true, NewStaff::read_first_admin);
        Some(Self { name: name?, time_zone: time_zone?, country: country?, contact: contact?, language, admin: admin? })
    }
}
