//! Reminders before appointments: one item per appointment (`REMIND#<appointmentId>`) holding the hours
//! before its start still to remind at, in the index of due work at the earliest of them. Booking writes
//! it, a move rewrites it and a cancel removes it, each in the appointment's own transaction. When one is
//! due the dispatcher queues the message and takes the hour off in one transaction on the reminder's
//! version, so a reminder is queued once however often the dispatcher runs; the outbox then sends it once.
//! Hours that passed unsent while nothing ran are skipped: only the latest due one goes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Channel;
use super::outbox::{Draft, Envelope, QueuedMessage, due_attrs};
use super::templates::{Language, Template, Values, spell_time};
use crate::app::App;
use crate::domain::clinic::Clinic;
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::scheduling::appointment::{Appointment, AppointmentStatus};
use crate::domain::values::EntityId;
use crate::ids::sortable_time;
use crate::store::{Cond, Item, Key, StoreError, Table, Write, entity_from, entity_item};

/// The hours before an appointment still to remind at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub appointment_id: EntityId,
    pub start: DateTime<Utc>,
    /// Earliest first (the most hours before the start).
    pub pending_hours: Vec<u32>,
    pub version: u64,
}

/// The sort-key prefix of reminders in a clinic's partition.
pub const PREFIX: &str = "REMIND#";

impl Reminder {
    pub fn key(clinic: EntityId, appointment: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{PREFIX}{appointment}"))
    }

    /// The reminders of `appointment` still ahead at `now`, from the clinic's hours; none when every one
    /// has passed or the clinic sends none.
    pub fn plan(appointment: &Appointment, hours: &[u32], now: DateTime<Utc>, version: u64) -> Option<Self> {
        let mut pending: Vec<u32> =
            hours.iter().copied().filter(|h| appointment.start - Duration::hours(i64::from(*h)) > now).collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        (!pending.is_empty()).then_some(Self {
            appointment_id: appointment.id,
            start: appointment.start,
            pending_hours: pending,
            version,
        })
    }

    /// When the next reminder is due.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.pending_hours.first().map(|h| self.start - Duration::hours(i64::from(*h)))
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        let key = Self::key(clinic, self.appointment_id);
        let mut item = entity_item(&key, self);
        if let Some(due) = self.next_due() {
            due_attrs(&mut item, due, &key);
        }
        item
    }
}

/// The write that brings an appointment's reminder item from `current` (as read, with its version) to
/// what the appointment `next` needs at `now`: a put, a delete, or nothing.
pub fn rewrite(
    clinic: EntityId,
    current: Option<&Reminder>,
    next: &Appointment,
    hours: &[u32],
    now: DateTime<Utc>,
) -> Option<Write> {
    let key = Reminder::key(clinic, next.id);
    let cond = current.map_or(Cond::NotExists, |c| Cond::VersionIs(c.version));
    let version = current.map_or(1, |c| c.version + 1);
    let wanted = matches!(next.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed)
        .then(|| Reminder::plan(next, hours, now, version))
        .flatten();
    match (current, wanted) {
        (_, Some(reminder)) => Some(Write::put(Table::Records, reminder.to_item(clinic), cond)),
        (Some(_), None) => Some(Write::Delete { table: Table::Records, key, cond }),
        (None, None) => None,
    }
}

/// Reads an appointment's reminder item.
pub async fn read(app: &App, clinic: EntityId, appointment: EntityId) -> Result<Option<Reminder>, StoreError> {
    load(app, Reminder::key(clinic, appointment)).await
}

/// Reads one item of the records table as a `T`.
async fn load<T: serde::de::DeserializeOwned>(app: &App, key: Key) -> Result<Option<T>, StoreError> {
    app.records.get(Table::Records, &key).await?.map(entity_from).transpose()
}

/// Queues the message of the reminder at `key` if one is due at `now`; answers the queued message's key.
pub async fn queue_due(app: &App, key: &Key, now: DateTime<Utc>) -> Result<Option<Key>, StoreError> {
    let keys = app.job_keys()?;
    let Some(clinic) = key.pk.strip_prefix("CLINIC#").and_then(EntityId::parse) else { return Ok(None) };
    let Some(reminder) = load::<Reminder>(app, key.clone()).await? else { return Ok(None) };
    let Some(due) = reminder.next_due().filter(|due| *due <= now) else { return Ok(None) };
    let appointment: Option<Appointment> = load(app, Appointment::key(clinic, reminder.appointment_id)).await?;
    let drop = Write::Delete { table: Table::Records, key: key.clone(), cond: Cond::VersionIs(reminder.version) };
    let live = appointment.filter(|a| {
        matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed)
            && a.start == reminder.start
            && a.start > now
    });
    let Some(appointment) = live else {
        return settle(app, vec![drop]).await.map(|_| None);
    };
    // The latest hour already due is the one sent; earlier ones that passed unsent are skipped.
    let (due_hours, ahead): (Vec<u32>, Vec<u32>) =
        reminder.pending_hours.iter().partition(|h| appointment.start - Duration::hours(i64::from(**h)) <= now);
    let hour = *due_hours.last().unwrap_or(&0);
    let rest = match ahead.is_empty() {
        true => drop,
        false => {
            let next = Reminder { pending_hours: ahead, version: reminder.version + 1, ..reminder.clone() };
            Write::put(Table::Records, next.to_item(clinic), Cond::VersionIs(reminder.version))
        }
    };
    let patient: Option<Patient> =
        load(app, Key::new(keys::clinic_pk(clinic), keys::patient_sk(appointment.patient_id))).await?;
    let profile: Option<Clinic> = load(app, Key::new(keys::clinic_pk(clinic), keys::CLINIC_PROFILE)).await?;
    let (Some(patient), Some(profile)) = (patient, profile) else {
        return settle(app, vec![rest]).await.map(|_| None);
    };
    let Some((channel, to)) = contact_of(&patient) else {
        // Nobody to write to: the hour is taken off all the same.
        return settle(app, vec![rest]).await.map(|_| None);
    };
    let language = language_for(&patient, &profile);
    let message = QueuedMessage::queue(
        Draft {
            envelope: Envelope {
                id: format!("{}-{hour}h", appointment.id),
                clinic_id: clinic,
                patient_id: Some(patient.id),
                channel,
                to,
                template: Template::Reminder,
                language,
                values: Values {
                    first_name: first_name(&patient),
                    clinic_name: profile.name.as_str().to_string(),
                    when: Some(spell_time(appointment.start, profile.time_zone.zone(), language)),
                    amount: None,
                },
            },
            link: None,
            queued_at: sortable_time(due),
            due: now,
            expires_at: None,
        },
        &keys.stored_secrets,
    );
    let message_key = message.key();
    Ok(settle(app, vec![rest, message.queue_write()]).await?.then_some(message_key))
}

/// Commits `writes`; false when another run committed first.
async fn settle(app: &App, writes: Vec<Write>) -> Result<bool, StoreError> {
    match app.records.transact(writes).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// How to reach a patient: a text message to their phone, else an e-mail.
pub fn contact_of(patient: &Patient) -> Option<(Channel, String)> {
    match (&patient.details.phone, &patient.details.email) {
        (Some(phone), _) => Some((Channel::Sms, phone.as_str().to_string())),
        (None, Some(email)) => Some((Channel::Email, email.as_str().to_string())),
        (None, None) => None,
    }
}

/// The patient's language when messages are written in it, else the clinic's.
pub fn language_for(patient: &Patient, clinic: &Clinic) -> Language {
    patient
        .details
        .preferred_language
        .as_ref()
        .and_then(|tag| Language::of_tag(tag.as_str()))
        .unwrap_or(clinic.language)
}

/// What a message calls the patient.
pub fn first_name(patient: &Patient) -> String {
    patient.details.preferred_name.as_ref().unwrap_or(&patient.details.given_name).as_str().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reminders_still_ahead_are_planned_earliest_first() {
        let start: DateTime<Utc> = "2026-12-10T10:00:00Z".parse().expect("time");
        let appointment_json = serde_json::json!({
            "id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "patientId": "01JAAAAAAAAAAAAAAAAAAAAAAB",
            "serviceId": "01JAAAAAAAAAAAAAAAAAAAAAAC", "start": start, "end": start, "heldFrom": start,
            "heldUntil": start, "staffId": "u1", "resourceIds": [], "status": "booked",
            "bookedBy": {"userId": "u1", "role": "admin"}, "bookedAt": "x", "version": 1
        });
        let appointment: Appointment = serde_json::from_value(appointment_json).expect("appointment");
        let now = start - Duration::hours(20);
        let plan = Reminder::plan(&appointment, &[2, 24], now, 1).expect("one ahead");
        assert_eq!(plan.pending_hours, vec![2]);
        assert_eq!(plan.next_due(), Some(start - Duration::hours(2)));
        assert!(Reminder::plan(&appointment, &[24, 2], start - Duration::hours(1), 1).is_none());
        let early = Reminder::plan(&appointment, &[2, 24], start - Duration::hours(48), 1).expect("both ahead");
        assert_eq!(early.pending_hours, vec![24, 2]);
    }
}
