//! An appointment: a patient, a service, a start, the performer and the rooms and devices it holds, and
//! where it stands. Kept in the clinic's partition, found by id, by the clinic's day, by the performer's
//! day and by the patient, each through its own index.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::chart::Actor;
use crate::domain::fields::{Form, Issue};
use crate::domain::keys;
use crate::domain::safety::gate::{ACKNOWLEDGEMENTS, Acknowledgement};
use crate::domain::values::{EntityId, ShortText, UserId};
use crate::store::schema::Index;
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// Where an appointment stands.
    AppointmentStatus {
        Booked = "booked",
        Confirmed = "confirmed",
        Arrived = "arrived",
        InTreatment = "in-treatment",
        Completed = "completed",
        Cancelled = "cancelled",
        NoShow = "no-show",
    }
}

impl AppointmentStatus {
    /// Whether it still holds its time.
    pub fn holds_time(self) -> bool {
        !matches!(self, AppointmentStatus::Cancelled | AppointmentStatus::NoShow)
    }
}

/// What a booking asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub patient_id: EntityId,
    pub service_id: EntityId,
    pub start: DateTime<Utc>,
    pub staff_id: Option<UserId>,
    pub note: Option<ShortText>,
    /// Blocking safety alerts acknowledged, for a service that names its treatment.
    pub acknowledged: Vec<Acknowledgement>,
}

impl Booking {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["patientId", "serviceId", "start", "staffId", "note", ACKNOWLEDGEMENTS]);
        let patient_id = form.req("patientId");
        let service_id = form.req("serviceId");
        let start = read_start(form);
        let staff_id = form.opt("staffId");
        let note = form.opt("note");
        let acknowledged = Acknowledgement::read_all(form);
        Some(Self {
            patient_id: patient_id?,
            service_id: service_id?,
            start: start?,
            staff_id,
            note,
            acknowledged: acknowledged?,
        })
    }
}

/// The `start` of a booking or a move: an RFC 3339 time.
pub fn read_start(form: &Form<'_>) -> Option<DateTime<Utc>> {
    let text: ShortText = form.req("start")?;
    match DateTime::parse_from_rfc3339(text.as_str()) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            form.reject("start", Issue::Shape("must be an RFC 3339 time such as 2027-03-14T09:00:00-07:00".into()));
            None
        }
    }
}

/// Who cancelled, when, why, and whether it was inside the clinic's cancellation window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub by: Actor,
    pub at: String,
    pub reason: ShortText,
    pub late: bool,
}

/// Where and with whom a booking holds its time: its start and end, the time it holds (the buffers
/// before and after included), the performer, and the rooms and devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub held_from: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub staff_id: UserId,
    pub resource_ids: Vec<EntityId>,
}

/// An appointment as kept and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub id: EntityId,
    pub patient_id: EntityId,
    pub service_id: EntityId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The time it holds: the buffers before and after included.
    pub held_from: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub staff_id: UserId,
    pub resource_ids: Vec<EntityId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
    pub status: AppointmentStatus,
    pub booked_by: Actor,
    pub booked_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
    /// Where it was before each reschedule, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Move>,
    /// Each step of its status walk after booking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_changes: Vec<StatusChange>,
    /// The treatments charted in it, once completed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub treatment_ids: Vec<EntityId>,
    pub version: u64,
}

/// Where an appointment was before it was moved, who moved it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    pub start: DateTime<Utc>,
    pub staff_id: UserId,
    pub by: Actor,
    pub at: String,
}

/// One step of the status walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub status: AppointmentStatus,
    pub by: Actor,
    pub at: String,
}

impl AppointmentStatus {
    /// Whether the walk may go from here to `next` (`cancelled` is the cancel route's).
    pub fn may_become(self, next: AppointmentStatus) -> bool {
        use AppointmentStatus::*;
        matches!(
            (self, next),
            (Booked, Confirmed | Arrived | NoShow)
                | (Confirmed, Arrived | NoShow)
                | (Arrived, InTreatment)
                | (InTreatment, Completed)
        )
    }

    /// Whether it may still move to another time.
    pub fn movable(self) -> bool {
        matches!(self, AppointmentStatus::Booked | AppointmentStatus::Confirmed)
    }
}

impl Appointment {
    /// A new appointment in `slot`, booked by `by` at `at` (a sortable time): nothing moved or changed yet.
    pub fn booked(
        id: EntityId,
        patient_id: EntityId,
        service_id: EntityId,
        slot: Slot,
        note: Option<ShortText>,
        by: Actor,
        at: String,
    ) -> Self {
        Self {
            id,
            patient_id,
            service_id,
            start: slot.start,
            end: slot.end,
            held_from: slot.held_from,
            held_until: slot.held_until,
            staff_id: slot.staff_id,
            resource_ids: slot.resource_ids,
            note,
            status: AppointmentStatus::Booked,
            booked_by: by,
            booked_at: at,
            cancellation: None,
            moves: Vec::new(),
            status_changes: Vec::new(),
            treatment_ids: Vec::new(),
            version: 1,
        }
    }
}

/// The sort-key prefix of appointments in the clinic's partition.
pub const PREFIX: &str = "APPT#";

impl Appointment {
    pub fn key(clinic: EntityId, id: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{PREFIX}{id}"))
    }

    /// The clinic's appointments by start (index 2), the performer's (index 3), the patient's (index 1).
    pub fn clinic_index(clinic: EntityId) -> String {
        format!("{}#APPTS", keys::clinic_pk(clinic))
    }

    pub fn staff_index(clinic: EntityId, user: &UserId) -> String {
        format!("{}#APPTS#STAFF#{user}", keys::clinic_pk(clinic))
    }

    pub fn patient_index(clinic: EntityId, patient: EntityId) -> String {
        format!("{}#APPTS#PATIENT#{patient}", keys::clinic_pk(clinic))
    }

    /// The sort key every index orders it by: its start, then its id.
    pub fn index_sk(&self) -> String {
        format!("{}#{}", crate::ids::sortable_time(self.start), self.id)
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        let mut item = entity_item(&Self::key(clinic, self.id), self);
        let sk = self.index_sk();
        for (index, pk) in [
            (Index::Gsi1, Self::patient_index(clinic, self.patient_id)),
            (Index::Gsi2, Self::clinic_index(clinic)),
            (Index::Gsi3, Self::staff_index(clinic, &self.staff_id)),
        ] {
            let (pk_attr, sk_attr) = index.attrs();
            item.insert(pk_attr.into(), pk.into());
            item.insert(sk_attr.into(), sk.clone().into());
        }
        item
    }
}
