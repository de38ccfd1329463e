//! The clinic's calendar: the rooms and devices it books, and the services it offers.

pub mod appointment;
pub mod availability;
pub mod booking;
pub mod claims;
pub mod hours;
pub mod ics;
pub mod resource;
pub mod service;

use serde::{Deserialize, Serialize};

use super::keys;
use super::values::EntityId;
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// Whether a service or resource may still be booked; a retired one stays for the record.
    CatalogueStatus { Active = "active", Retired = "retired" }
}

/// Reads a whole number of minutes within `min..=max` that is a multiple of 5 (the calendar's grain).
pub(crate) fn minutes(form: &super::fields::Form<'_>, field: &str, required: bool, min: u32, max: u32) -> Option<u32> {
    let value = form.number(field, required, f64::from(min), f64::from(max), "minutes")?;
    if value.fract() != 0.0 || !(value as u32).is_multiple_of(5) {
        form.reject(field, super::fields::Issue::Rule("must be a whole number of minutes in steps of 5".into()));
        return None;
    }
    Some(value as u32)
}

/// What a kind of catalogue entry says of itself (resources, services).
pub trait Kind {
    /// Its sort-key prefix in the clinic's partition.
    const PREFIX: &'static str;
}

/// One entry of the catalogue: its id, what the administrator said of it, and its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalogued<D> {
    pub id: EntityId,
    #[serde(flatten)]
    pub details: D,
    pub updated_at: String,
    pub version: u64,
}

impl<D: Kind + Serialize> Catalogued<D> {
    pub fn key(clinic: EntityId, id: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{}{id}", D::PREFIX))
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic, self.id), self)
    }
}

/// Whose working hours: the clinic's opening hours, a staff member's or a room's or device's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Calendar {
    Clinic,
    Staff(super::values::UserId),
    Resource(EntityId),
}

impl Calendar {
    /// The sort key of its working hours in the clinic's partition.
    pub fn hours_sk(&self) -> String {
        match self {
            Calendar::Clinic => "HOURS#CLINIC".into(),
            Calendar::Staff(user) => format!("HOURS#STAFF#{user}"),
            Calendar::Resource(id) => format!("HOURS#RESOURCE#{id}"),
        }
    }
}

/// A calendar's working hours as kept: the hours and their version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredHours {
    #[serde(flatten)]
    pub hours: hours::WorkingHours,
    pub updated_at: String,
    pub version: u64,
}
