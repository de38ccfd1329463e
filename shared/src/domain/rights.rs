//! A patient's request to erase or restrict their record (GDPR Art. 17 and 18), the clinic's decision on
//! it, and what the decision did. Requests sit in the clinic's partition (`RIGHTS#<patient>#<id>`), so
//! they and the trail outlive an erased record; an erased patient leaves a tombstone (`ERASED#<patient>`)
//! that holds ids only.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::chart::{Actor, Stamp};
use super::fields::{Form, Issue};
use super::keys;
use super::values::{EntityId, LongText, PastInstant, ShortText};
use crate::ids::sortable_time;
use crate::store::schema::Index;
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// What the patient asks for.
    RightsKind { Erasure = "erasure", Restriction = "restriction" }
}

crate::string_enum! {
    /// Where a request stands.
    ///
    /// `open` → `refused`; a restriction `open` → `restricted` → `lifted`; an erasure `open` → `erasing` →
    /// `erased`, or → `kept` (photos erased, the record restricted until its retention ends) → `erasing`
    /// → `erased`. A request left `erasing` (its call stopped) is finished by deciding or completing again.
    RightsState {
        Open = "open",
        Refused = "refused",
        Restricted = "restricted",
        Lifted = "lifted",
        Erasing = "erasing",
        Kept = "kept",
        Erased = "erased",
    }
}

crate::string_enum! {
    /// What the clinic decides.
    Outcome { Grant = "grant", Refuse = "refuse" }
}

/// How long a clinic has to answer (Art. 12(3)): a month from the request.
pub const ANSWER_MONTHS: u32 = 1;

/// The sort-key prefix of requests in the clinic's partition.
pub const PREFIX: &str = "RIGHTS#";

/// The partition of the clinic's index of requests awaiting its action, soonest due first.
pub fn awaiting_index(clinic: EntityId) -> String {
    format!("{}#RIGHTS", keys::clinic_pk(clinic))
}

/// The sort key of every request of one patient: `RIGHTS#<patient>#`.
pub fn patient_prefix(patient: EntityId) -> String {
    format!("{PREFIX}{patient}#")
}

/// The clinic's decision, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub outcome: Outcome,
    pub reason: ShortText,
    pub by: Actor,
    pub at: String,
}

/// What an erasure did, and what it kept and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureResult {
    /// Photos whose keys were destroyed.
    pub photos_erased: u64,
    /// Items of the record deleted (chart entries and their history, submissions, invitations, exports,
    /// photo records, the demographics).
    pub items_deleted: u64,
    /// Until when the record is kept (its retention period); none when no period is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_until: Option<NaiveDate>,
    /// Why what is kept is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_because: Option<String>,
    /// When the record itself was erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
}

/// One request, from the patient's asking to what the decision did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RightsRequest {
    pub id: EntityId,
    pub patient_id: EntityId,
    pub kind: RightsKind,
    pub state: RightsState,
    /// What the patient said, in their words or staff's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounds: Option<LongText>,
    /// When the patient asked (it starts the month the clinic has to answer).
    pub received_at: PastInstant,
    /// The day the answer is due by.
    pub answer_due: NaiveDate,
    pub recorded: Stamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<ErasureResult>,
    /// Who lifted a restriction, when and why (Art. 18(3): the patient is told before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted: Option<Lifting>,
    pub version: u64,
}

/// A restriction in force on a patient's record: by which request, since when, and whether it holds an
/// erased record's remains until their retention ends (`kind` erasure) or answers a request to restrict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restriction {
    pub request_id: EntityId,
    pub kind: RightsKind,
    pub since: String,
}

/// A restriction's lifting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifting {
    pub reason: ShortText,
    pub by: Actor,
    pub at: String,
}

/// What staff record of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    pub kind: RightsKind,
    pub grounds: Option<LongText>,
    pub received_at: Option<PastInstant>,
}

impl NewRequest {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["kind", "grounds", "receivedAt"]);
        let kind = form.req("kind");
        let grounds = form.opt("grounds");
        let received_at = form.opt("receivedAt");
        Some(Self { kind: kind?, grounds, received_at })
    }
}

/// What an administrator decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDecision {
    pub outcome: Outcome,
    pub reason: ShortText,
}

impl NewDecision {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["outcome", "reason"]);
        let outcome = form.req("outcome");
        let reason = form.req("reason");
        Some(Self { outcome: outcome?, reason: reason? })
    }
}

impl RightsRequest {
    /// A new request, open, recorded by `by` at `now`.
    pub fn open(id: EntityId, patient: EntityId, new: NewRequest, by: Actor, now: DateTime<Utc>) -> Self {
        let received_at = new.received_at.unwrap_or_else(|| PastInstant::at(now));
        let answer_due = received_at.date().checked_add_months(Months::new(ANSWER_MONTHS)).unwrap_or(NaiveDate::MAX);
        RightsRequest {
            id,
            patient_id: patient,
            kind: new.kind,
            state: RightsState::Open,
            grounds: new.grounds,
            received_at,
            answer_due,
            recorded: Stamp { by, at: sortable_time(now) },
            decision: None,
            erasure: None,
            lifted: None,
            version: 1,
        }
    }

    pub fn key(clinic: EntityId, patient: EntityId, id: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{}{id}", patient_prefix(patient)))
    }

    /// The stored item: in the index of requests awaiting action while one is due.
    pub fn to_item(&self, clinic: EntityId) -> Item {
        let mut item = entity_item(&Self::key(clinic, self.patient_id, self.id), self);
        if let Some(due) = self.action_due() {
            let (pk, sk) = Index::Gsi1.attrs();
            item.insert(pk.into(), awaiting_index(clinic).into());
            item.insert(sk.into(), format!("{due}#{}", self.id).into());
        }
        item
    }

    /// When the clinic must act on it next: answer an open request (or finish an erasure that stopped) by
    /// the day the answer is due, complete a kept erasure the day after its retention ends (last when no
    /// period is configured); none once it is done with.
    pub fn action_due(&self) -> Option<NaiveDate> {
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
        match self.state {
            RightsState::Open | RightsState::Erasing => Some(self.answer_due),
            RightsState::Kept => {
                Some(self.erasure.as_ref().and_then(|e| e.kept_until).and_then(|d| d.succ_opt()).unwrap_or(last))
            }
            RightsState::Refused | RightsState::Restricted | RightsState::Lifted | RightsState::Erased => None,
        }
    }

    /// The same request one version on.
    pub fn next(&self) -> Self {
        Self { version: self.version + 1, ..self.clone() }
    }
}

/// How long the clinic must keep a record where it practises, as its administrators configure it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// Where the duty comes from, as the clinic names it (e.g. `DE`, `GB-ENG`, `US-CA`).
    pub jurisdiction: ShortText,
    /// Years a record is kept after the patient's last care.
    pub years: u32,
    /// The age until which a patient's record is kept at least (the rule for records of minors: an adult's
    /// is past it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minors_until_age: Option<u32>,
}

/// The longest retention period a clinic may configure, in years.
pub const MAX_RETENTION_YEARS: u32 = 100;

impl Retention {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["jurisdiction", "years", "minorsUntilAge"]);
        let jurisdiction = form.req("jurisdiction");
        let years = whole(form, "years", true, 1, MAX_RETENTION_YEARS, "years");
        let minors = whole(form, "minorsUntilAge", false, 18, 30, "years of age");
        Some(Self { jurisdiction: jurisdiction?, years: years??, minors_until_age: minors? })
    }

    /// The last day the record must be kept: `years` after the last care, and at least until the patient
    /// reaches `minors_until_age`.
    pub fn kept_until(&self, last_care: NaiveDate, birth: NaiveDate) -> NaiveDate {
        let add_years =
            |day: NaiveDate, years: u32| day.checked_add_months(Months::new(years * 12)).unwrap_or(NaiveDate::MAX);
        let by_care = add_years(last_care, self.years);
        let by_age = self.minors_until_age.map_or(NaiveDate::MIN, |age| add_years(birth, age));
        by_care.max(by_age)
    }

    /// Why a record is kept until `until`, in words for the request.
    pub fn because(&self, until: NaiveDate) -> String {
        let minors = self.minors_until_age.map(|a| format!(", and for minors until age {a}")).unwrap_or_default();
        format!(
            "{}: health records are kept {} years after the last care{minors} (GDPR Art. 17(3)(c)); the record is restricted until {until}",
            self.jurisdiction.as_str(),
            self.years
        )
    }
}

/// A whole number of `unit` from `min` to `max`: none when absent and not `required`, an error noted when
/// malformed (the outer `None`).
fn whole(form: &Form<'_>, field: &str, required: bool, min: u32, max: u32, unit: &str) -> Option<Option<u32>> {
    if !required && !form.given(field) {
        return Some(None);
    }
    let value = form.number(field, required, f64::from(min), f64::from(max), unit)?;
    if value.fract() != 0.0 {
        form.reject(field, Issue::Rule(format!("must be a whole number of {unit}")));
        return None;
    }
    Some(Some(value as u32))
}

/// The tombstone an erased patient leaves: ids only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub patient_id: EntityId,
    pub request_id: EntityId,
    pub erased_at: String,
}

impl Tombstone {
    pub fn key(clinic: EntityId, patient: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("ERASED#{patient}"))
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic, self.patient_id), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn retention(years: u32, minors: Option<u32>) -> Retention {
        let jurisdiction = serde_json::from_value(serde_json::json!("DE")).unwrap();
        Retention { jurisdiction, years, minors_until_age: minors }
    }

    #[test]
    fn a_record_is_kept_its_years_after_the_last_care() {
        let kept = retention(10, None).kept_until(day("2020-03-31"), day("1980-01-01"));
        assert_eq!(kept, day("2030-03-31"));
    }

    #[test]
    fn a_minor_s_record_is_kept_until_the_age_the_clinic_set_when_that_is_later() {
        let rule = retention(8, Some(25));
        assert_eq!(rule.kept_until(day("2020-01-01"), day("2005-06-01")), day("2030-06-01"));
        // An adult's care is counted by the years alone.
        assert_eq!(rule.kept_until(day("2020-01-01"), day("1990-06-01")), day("2028-01-01"));
    }

    fn request() -> RightsRequest {
        let now = DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z").unwrap().to_utc();
        let by =
            Actor { user_id: serde_json::from_value("a-1".into()).unwrap(), role: crate::domain::role::Role::Admin };
        let id = EntityId::parse("01JD0000000000000000000001").unwrap();
        let new = NewRequest { kind: RightsKind::Erasure, grounds: None, received_at: None };
        RightsRequest::open(id, id, new, by, now)
    }

    #[test]
    fn the_answer_is_due_a_month_after_the_request() {
        assert_eq!(request().answer_due, day("2026-02-28"));
    }

    #[test]
    fn a_request_awaits_the_clinic_until_it_is_done_with() {
        let mut request = request();
        assert_eq!(request.action_due(), Some(day("2026-02-28")));
        request.state = RightsState::Kept;
        request.erasure = Some(ErasureResult::default());
        assert_eq!(request.action_due(), Some(day("9999-12-31")), "no period: last");
        request.erasure = Some(ErasureResult { kept_until: Some(day("2030-03-31")), ..ErasureResult::default() });
        assert_eq!(request.action_due(), Some(day("2030-04-01")), "the day after its retention ends");
        assert!(request.to_item(request.id).contains_key(Index::Gsi1.attrs().0));
        request.state = RightsState::Erased;
        assert_eq!(request.action_due(), None);
        assert!(!request.to_item(request.id).contains_key(Index::Gsi1.attrs().0));
    }
}
