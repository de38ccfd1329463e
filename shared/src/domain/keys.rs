//! Key builders for the single records table and the audit table: the only place keys are spelled.

use super::values::{EntityId, UserId};

pub fn clinic_pk(clinic: EntityId) -> String {
    format!("CLINIC#{clinic}")
}

pub const CLINIC_PROFILE: &str = "PROFILE";
pub const STAFF_PREFIX: &str = "STAFF#";
pub const PATIENT_PREFIX: &str = "PATIENT#";
pub const MEMBERSHIP: &str = "MEMBERSHIP";
/// A clinic's rooms and devices: `RESOURCE#<id>`.
pub const RESOURCE_PREFIX: &str = "RESOURCE#";
/// A clinic's services: `SERVICE#<id>`.
pub const SERVICE_PREFIX: &str = "SERVICE#";
/// A product the clinic added to the safety catalogue, in the clinic's partition.
pub const SAFETY_PRODUCT_PREFIX: &str = "SAFETYPRODUCT#";
pub const MRN_COUNTER: &str = "COUNTER#MRN";
/// The clinic's count of active administrators, which never goes below one once someone joined as one.
pub const ADMIN_COUNT: &str = "COUNTER#ADMINS";

/// A staff invitation, found by the hash of its code: `STAFFCODE#<sha-256 hex>` / `STAFFCODE`.
pub fn staff_code_pk(code_hash: &str) -> String {
    format!("STAFFCODE#{code_hash}")
}
pub const STAFF_CODE: &str = "STAFFCODE";

pub fn staff_sk(user: &UserId) -> String {
    format!("{STAFF_PREFIX}{user}")
}

pub fn patient_sk(patient: EntityId) -> String {
    format!("{PATIENT_PREFIX}{patient}")
}

pub fn mrn_sk(mrn: &str) -> String {
    format!("MRN#{mrn}")
}

/// The membership lookup of a user, whatever clinic they belong to.
pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

/// A break-glass grant in the patient's partition, under the user who opened it:
/// `BREAKGLASS#<user>#<id>`; without an id, the prefix of that user's grants.
pub fn break_glass_sk(user: &UserId, id: EntityId) -> String {
    format!("{}{id}", break_glass_prefix(user))
}

pub fn break_glass_prefix(user: &UserId) -> String {
    format!("BREAKGLASS#{user}#")
}

/// A break-glass in the clinic's review queue: `BREAKGLASS#UNREVIEWED#<id>` until reviewed, then
/// `BREAKGLASS#REVIEWED#<id>`; without an id, the prefix of the queue.
pub fn break_glass_queue_sk(reviewed: bool, id: Option<EntityId>) -> String {
    let queue = if reviewed { "REVIEWED" } else { "UNREVIEWED" };
    format!("BREAKGLASS#{queue}#{}", id.map(|i| i.to_string()).unwrap_or_default())
}

/// Everything in one patient's chart shares this partition.
pub fn chart_pk(clinic: EntityId, patient: EntityId) -> String {
    format!("CLINIC#{clinic}#PATIENT#{patient}")
}

/// Every current chart entry's sort key starts with this, so the chart summary reads the entries alone and
/// never the patient's invitations, submissions (with drawings) or photo records beside them.
pub const CHART_ENTRY_PREFIX: &str = "ENTRY#";

/// The current version of a chart entry, in the patient's chart partition: `ENTRY#<KIND>#<entryId>`.
pub fn chart_entry_sk(kind_prefix: &str, entry: EntityId) -> String {
    format!("{}{entry}", chart_kind_prefix(kind_prefix))
}

/// The current entries of one kind: `ENTRY#<KIND>#`.
pub fn chart_kind_prefix(kind_prefix: &str) -> String {
    format!("{CHART_ENTRY_PREFIX}{kind_prefix}#")
}

/// The guard of a chart rule that spans a patient's entries of one kind: `GUARD#<KIND>`.
pub fn chart_guard_sk(kind_prefix: &str) -> String {
    format!("GUARD#{kind_prefix}")
}

/// Every version of every chart entry of a patient: kept apart so the chart query reads only current entries.
pub fn chart_history_pk(clinic: EntityId, patient: EntityId) -> String {
    format!("CLINIC#{clinic}#PATIENT#{patient}#HISTORY")
}

/// One version of a chart entry: `<KIND>#<entryId>#<version, zero-padded>`.
pub fn chart_history_sk(kind_prefix: &str, entry: EntityId, version: u64) -> String {
    format!("{kind_prefix}#{entry}#{version:08}")
}

/// The versions of one chart entry.
pub fn chart_history_prefix(kind_prefix: &str, entry: EntityId) -> String {
    format!("{kind_prefix}#{entry}#")
}

/// The uses of one product lot in a clinic (the lot-recall index), by folded lot number.
pub fn lot_pk(clinic: EntityId, folded_lot: &str) -> String {
    format!("CLINIC#{clinic}#LOT#{folded_lot}")
}

/// The clinic's safety overrides, newest last (the overrides index).
pub fn overrides_pk(clinic: EntityId) -> String {
    format!("CLINIC#{clinic}#OVERRIDES")
}

/// One acknowledged alert of one version of an entry, in the order they were made.
pub fn override_sk(at: &str, entry: EntityId, version: u64, rule_id: &str) -> String {
    format!("{at}#{entry}#{version:06}#{rule_id}")
}

/// One product line of one treatment within a lot's uses, in treatment-time order.
pub fn lot_use_sk(performed_at: &str, treatment: EntityId, line: usize) -> String {
    format!("{performed_at}#{treatment}#{line:02}")
}

/// A stored response for an idempotent retry, per caller, route and key.
pub fn idempotency_sk(route: &str, user: &UserId, key_hash: &str) -> String {
    format!("IDEM#{route}#{user}#{key_hash}")
}

/// Records table GSI1: patients by folded family then given name, per clinic.
pub fn patient_name_index(clinic: EntityId) -> String {
    format!("CLINIC#{clinic}#PATIENTS")
}

/// Records table GSI2: patients by date of birth, per clinic.
pub fn patient_birth_date_index(clinic: EntityId, date: &str) -> String {
    format!("CLINIC#{clinic}#DOB#{date}")
}

/// Records table GSI3: patients by phone number, per clinic.
pub fn patient_phone_index(clinic: EntityId, phone: &str) -> String {
    format!("CLINIC#{clinic}#PHONE#{phone}")
}

/// Audit partition of a clinic, or of the platform for calls made without one.
pub fn audit_pk(clinic: Option<EntityId>) -> String {
    match clinic {
        Some(c) => clinic_pk(c),
        None => "PLATFORM".to_string(),
    }
}

/// Audit GSI1: events about one patient.
pub fn audit_patient_index(clinic: EntityId, patient: EntityId) -> String {
    format!("CLINIC#{clinic}#PATIENT#{patient}")
}

/// A listed patient's copies of events that listed several patients (found through the patient index
/// only): a partition per patient, so a busy clinic's searches spread their writes.
pub fn audit_listed_pk(clinic: EntityId, patient: EntityId) -> String {
    format!("CLINIC#{clinic}#LISTED#{patient}")
}

/// Audit GSI2: events by one actor.
pub fn audit_actor_index(clinic: Option<EntityId>, user: &UserId) -> String {
    format!("{}#ACTOR#{user}", audit_pk(clinic))
}
