//! A patient's export (GDPR Art. 15 and 20): the job that gathers their record into one ZIP, where it stands,
//! and when its file is deleted. While it has work waiting (to be built, or its file to be deleted) it sits
//! in the index of export work, by when that work is due.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::chart::Actor;
use super::keys;
use super::values::EntityId;
use crate::ids::sortable_time;
use crate::store::schema::Index;
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// Where an export stands.
    ExportState {
        Queued = "queued",
        Running = "running",
        Ready = "ready",
        Failed = "failed",
        Expired = "expired",
    }
}

/// How long the ZIP is kept once ready: then it is deleted, and the export says so.
pub const KEEP_DAYS: i64 = 7;

/// How long a build may run before another run takes it over (its worker stopped).
pub const STALE_AFTER_MINUTES: i64 = 15;

/// The partition of the index of export work.
pub const WORK_PARTITION: &str = "EXPORTWORK";

/// The sort-key prefix of exports in the patient's chart partition.
pub const PREFIX: &str = "EXPORT#";

/// How far a build has come: the stage it is in, and a percentage of the whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub stage: String,
    pub percent: u8,
}

/// What the ZIP holds, by count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contents {
    /// The FHIR resources of `record.json`.
    pub resources: u64,
    pub photos: u64,
    pub consents: u64,
    pub access_events: u64,
}

/// One export of one patient's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub id: EntityId,
    pub patient_id: EntityId,
    pub clinic_id: EntityId,
    pub state: ExportState,
    pub requested_by: Actor,
    pub requested_at: String,
    pub progress: Progress,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub ready_at: Option<String>,
    /// When the ZIP is (or was) deleted.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub contents: Option<Contents>,
    /// The ZIP's size.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Why the build failed (never a value of the record).
    #[serde(default)]
    pub failure: Option<String>,
    pub version: u64,
}

impl Export {
    /// A new export of `patient`, asked for by `requested_by` at `now`: queued.
    pub fn queued(id: EntityId, patient: EntityId, clinic: EntityId, requested_by: Actor, now: DateTime<Utc>) -> Self {
        Export {
            id,
            patient_id: patient,
            clinic_id: clinic,
            state: ExportState::Queued,
            requested_by,
            requested_at: sortable_time(now),
            progress: Progress { stage: "queued".into(), percent: 0 },
            started_at: None,
            ready_at: None,
            expires_at: None,
            contents: None,
            bytes: None,
            failure: None,
            version: 1,
        }
    }

    pub fn key(clinic: EntityId, patient: EntityId, id: EntityId) -> Key {
        Key::new(keys::chart_pk(clinic, patient), format!("{PREFIX}{id}"))
    }

    /// Where the ZIP is kept (in the photo bucket, outside its sealed photos).
    pub fn object_key(&self) -> String {
        format!("exports/{}/{}/{}.zip", self.clinic_id, self.patient_id, self.id)
    }

    /// When its waiting work is due: a queued or running build now (a running one once stale), a ready
    /// file's deletion at its expiry; none once it is done with.
    pub fn work_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let at = |text: &Option<String>| {
            text.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc())
        };
        match self.state {
            ExportState::Queued => Some(now),
            ExportState::Running => at(&self.started_at).map(|t| t + Duration::minutes(STALE_AFTER_MINUTES)),
            ExportState::Ready => at(&self.expires_at),
            ExportState::Failed | ExportState::Expired => None,
        }
    }

    /// The stored item: the export, in the index of export work while it has work waiting.
    pub fn to_item(&self, now: DateTime<Utc>) -> Item {
        let key = Self::key(self.clinic_id, self.patient_id, self.id);
        let mut item = entity_item(&key, self);
        if let Some(due) = self.work_due(now) {
            let (pk, sk) = Index::Gsi1.attrs();
            item.insert(pk.into(), WORK_PARTITION.into());
            item.insert(sk.into(), format!("{}#{}#{}", sortable_time(due), key.pk, key.sk).into());
        }
        item
    }

    /// Whether its ZIP may be downloaded now.
    pub fn downloadable(&self, now: DateTime<Utc>) -> bool {
        self.state == ExportState::Ready && self.work_due(now).is_some_and(|expiry| expiry > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    #[test]
    fn work_is_due_while_it_waits_and_a_ready_file_until_it_expires() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc();
        let actor = Actor { user_id: serde_json::from_value("p-1".into()).unwrap(), role: Role::Practitioner };
        let id = EntityId::parse("01JD0000000000000000000001").unwrap();
        let mut export = Export::queued(id, id, id, actor, now);
        assert_eq!(export.work_due(now), Some(now));
        export.state = ExportState::Running;
        export.started_at = Some(sortable_time(now));
        assert_eq!(export.work_due(now), Some(now + Duration::minutes(STALE_AFTER_MINUTES)));
        export.state = ExportState::Ready;
        export.expires_at = Some(sortable_time(now + Duration::days(KEEP_DAYS)));
        assert!(export.downloadable(now + Duration::days(6)));
        assert!(!export.downloadable(now + Duration::days(7)));
        assert!(export.to_item(now).contains_key(Index::Gsi1.attrs().0));
        export.state = ExportState::Expired;
        assert!(!export.to_item(now).contains_key(Index::Gsi1.attrs().0));
    }
}
