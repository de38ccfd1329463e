//! The spend cap: after each delivery it counts, the meter prices each clinic month it added to on the
//! clinic's plan. At 80 % and at 100 % of the plan's monthly cap it raises the month's flag (once a level,
//! on the flag's version) and, in the same transaction, queues a notice to each of the clinic's active
//! administrators (the clinic's contact address when none has one). A `hard` plan's flag at 100 % stops
//! the clinic's changes, except to the chart, until the month ends or the cap is raised (see the pipeline).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::dollars;
use super::meter::month_totals;
use super::plan::{AtCap, Plan};
use crate::domain::clinic::Clinic;
use crate::domain::keys;
use crate::domain::staff::StaffMember;
use crate::domain::values::EntityId;
use crate::messages::Channel;
use crate::messages::outbox::{Envelope, QueuedMessage};
use crate::messages::templates::{Template, Values};
use crate::store::{Cond, Key, Query, Records, SkRange, StoreError, Table, Write, entity_from, entity_item, query_all};

/// The levels of the cap that raise the flag, in percent.
pub const LEVELS: [u32; 2] = [80, 100];

/// The most administrators a level's notice goes to: the flag and its notices are one transaction, which
/// takes at most 100 writes (a clinic with more administrators than this notifies the first, in staff
/// order, rather than stall the meter on a transaction DynamoDB refuses).
const MOST_NOTICES: usize = 50;
const _: () = assert!(MOST_NOTICES < 100, "the flag and its notices fit in one transaction");

/// A clinic month's flag: the highest level of its cap it reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendFlag {
    /// 80 or 100.
    pub percent: u32,
    pub cap_usd: u32,
    /// The month's spend when it was raised, in dollars.
    pub spend_usd: String,
    pub raised_at: String,
    pub version: u64,
}

impl SpendFlag {
    /// Its key: the clinic's partition, the month (`YYYY-MM`).
    pub fn key(clinic: EntityId, month: NaiveDate) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("SPEND#{}", month.format("%Y-%m")))
    }

    /// Whether it still holds under the plan's cap today: a flag raised under a cap at least as high does
    /// (the spend that reached it reaches a lower one too); one raised under a lower cap is stale (the
    /// operator raised the cap since).
    pub fn holds_under(&self, cap_usd: u32) -> bool {
        self.cap_usd >= cap_usd
    }

    /// Whether it stops a `hard` plan's changes under `cap_usd`.
    pub fn stops_changes(&self, cap_usd: u32) -> bool {
        self.holds_under(cap_usd) && self.percent >= 100
    }

    /// The clinic month's flag, if raised.
    pub async fn read(records: &dyn Records, clinic: EntityId, month: NaiveDate) -> Result<Option<Self>, StoreError> {
        records.get(Table::Records, &Self::key(clinic, month)).await?.map(entity_from).transpose()
    }
}

/// What a clinic's month has cost so far on `plan`, in millionths of a dollar, from the month's totals.
pub async fn month_spend(
    records: &dyn Records,
    plan: &Plan,
    clinic: EntityId,
    month: NaiveDate,
) -> Result<u64, StoreError> {
    let totals = month_totals(records, month, Some(clinic)).await?;
    Ok(totals.values().flatten().map(|(unit, count)| plan.amount(*unit, *count)).sum())
}

/// The level of the cap `spend` reached, if any.
fn level(spend: u64, cap_usd: u32) -> Option<u32> {
    let cap = u64::from(cap_usd) * 1_000_000;
    LEVELS.iter().rev().copied().find(|percent| spend * 100 >= cap * u64::from(*percent))
}

/// Checks a clinic month against its plan's cap; raises its flag and queues the notices when it reached
/// a level it had not. Answers the level raised.
pub async fn check(
    records: &dyn Records,
    clinic: EntityId,
    month: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<u32>, StoreError> {
    let plan = Plan::of(records, clinic).await?;
    let Some(cap_usd) = plan.monthly_cap_usd else { return Ok(None) };
    let spend = month_spend(records, &plan, clinic, month).await?;
    let Some(percent) = level(spend, cap_usd) else { return Ok(None) };
    let flag = SpendFlag::read(records, clinic, month).await?;
    if flag.as_ref().is_some_and(|f| f.holds_under(cap_usd) && f.percent >= percent) {
        return Ok(None);
    }
    let (cond, version) = match &flag {
        Some(f) => (Cond::VersionIs(f.version), f.version + 1),
        None => (Cond::NotExists, 1),
    };
    let raised =
        SpendFlag { percent, cap_usd, spend_usd: dollars(spend), raised_at: crate::ids::sortable_time(now), version };
    let mut writes = vec![Write::put(Table::Records, entity_item(&SpendFlag::key(clinic, month), &raised), cond)];
    let template = match (percent, plan.at_cap) {
        (100, AtCap::Hard) => Template::SpendAtHardCap,
        (100, AtCap::Soft) => Template::SpendAtCap,
        _ => Template::SpendNearCap,
    };
    writes
        .extend(notices(records, clinic, month, template, cap_usd, now).await?.iter().map(QueuedMessage::queue_write));
    match records.transact(writes).await {
        Ok(()) => {
            tracing::info!(clinic_id = %clinic, percent, "spend cap level reached");
            Ok(Some(percent))
        }
        // Another meter raised it first, with its notices.
        Err(StoreError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The notices of a level reached: to each active administrator with an address, else to the clinic.
async fn notices(
    records: &dyn Records,
    clinic: EntityId,
    month: NaiveDate,
    template: Template,
    cap_usd: u32,
    now: DateTime<Utc>,
) -> Result<Vec<QueuedMessage>, StoreError> {
    let Some(profile) = records.get(Table::Records, &Key::new(keys::clinic_pk(clinic), keys::CLINIC_PROFILE)).await?
    else {
        return Ok(Vec::new());
    };
    let profile: Clinic = entity_from(profile)?;
    let staff = Query::new(Table::Records, keys::clinic_pk(clinic)).sk(SkRange::Prefix(keys::STAFF_PREFIX.into()));
    let mut to: Vec<(String, String)> = Vec::new();
    for item in query_all(records, staff).await? {
        let member: StaffMember = entity_from(item)?;
        if let (true, Some(email), true) = (member.is_active_admin(), &member.email, to.len() < MOST_NOTICES) {
            to.push((member.display_name.as_str().to_string(), email.as_str().to_string()));
        }
    }
    if to.is_empty() {
        to.push((profile.name.as_str().to_string(), profile.contact.email.as_str().to_string()));
    }
    let month = month.format("%Y-%m");
    Ok(to
        .into_iter()
        .enumerate()
        .map(|(i, (name, address))| {
            let envelope = Envelope {
                id: format!("spend-{month}-{template}-{i}"),
                clinic_id: clinic,
                patient_id: None,
                channel: Channel::Email,
                to: address,
                template,
                language: profile.language,
                values: Values {
                    first_name: name,
                    clinic_name: profile.name.as_str().to_string(),
                    when: None,
                    amount: Some(format!("${cap_usd}")),
                },
            };
            QueuedMessage::notice(envelope, now)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_reached_at_eighty_then_a_hundred_percent() {
        assert_eq!(level(79_999_999, 100), None);
        assert_eq!(level(80_000_000, 100), Some(80));
        assert_eq!(level(99_999_999, 100), Some(80));
        assert_eq!(level(100_000_000, 100), Some(100));
        assert_eq!(level(250_000_000, 100), Some(100));
    }
}
