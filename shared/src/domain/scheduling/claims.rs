//! Claims on a calendar's time, the thing that makes a double booking impossible by construction.
//!
//! Each calendar (a staff member, a room or device) has one item per UTC day it is booked on, listing the
//! blocks (buffers included) claimed that day, with a version. A booking reads the day items of every
//! calendar it needs, checks that its block overlaps none, and commits the appointment together with each
//! day item written on the version it read (or on its absence). Two bookings that touch one calendar's
//! day cannot both commit: the second finds the version moved, reads again, and either fits beside the
//! first or is refused. A cancel releases its blocks the same way.
//!
//! Why a day item and not an item per time quantum: a quantum item per 5 minutes would make a 8-hour
//! service with four rooms 480 writes, far past DynamoDB's 100 a transaction, while day items make at
//! most two days (a block across midnight) times five calendars: 10 writes. Any overlap is caught exactly
//! (blocks are compared as instants, not rounded to a grid), and availability reads one query per
//! calendar for a range of days. The cost is that bookings of one calendar on one day commit one at a
//! time: a loser that does not overlap is retried at once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::keys;
use crate::domain::values::{EntityId, UserId};

/// A calendar that can be claimed: a staff member's or a room's or device's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Claimant {
    Staff(UserId),
    Resource(EntityId),
}

impl Claimant {
    /// The partition of its day items.
    pub fn partition(&self, clinic: EntityId) -> String {
        match self {
            Claimant::Staff(user) => format!("{}#CLAIMS#STAFF#{user}", keys::clinic_pk(clinic)),
            Claimant::Resource(id) => format!("{}#CLAIMS#RESOURCE#{id}", keys::clinic_pk(clinic)),
        }
    }
}

/// The sort key of a claimant's day item.
pub fn day_sk(day: NaiveDate) -> String {
    format!("DAY#{day}")
}

/// One claimed block of time, by the appointment that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub appointment_id: EntityId,
    /// When an unconfirmed online booking's hold stops holding the time (see `booking`): from then on the
    /// block counts for nothing, and the next write of its day drops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapses_at: Option<DateTime<Utc>>,
}

impl Block {
    /// Whether it still holds its time at `now`.
    pub fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.lapses_at.is_none_or(|lapses| now < lapses)
    }

    /// Whether two blocks share any instant (touching ends do not).
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }
}

/// A claimant's claims on one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub blocks: Vec<Block>,
    pub version: u64,
}

impl Day {
    /// Drops the blocks that no longer hold their time at `now`.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        self.blocks.retain(|b| b.holds_at(now));
    }

    /// The first block that overlaps `start..end`, if any.
    pub fn clash(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<&Block> {
        self.blocks.iter().find(|b| b.overlaps(start, end))
    }
}

/// The UTC days a block touches.
pub fn days_of(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<NaiveDate> {
    let last = (end - chrono::Duration::nanoseconds(1)).date_naive();
    start.date_naive().iter_days().take_while(|d| *d <= last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_that_touch_do_not_overlap_and_any_shared_instant_does() {
        let id = EntityId(ulid::Ulid::nil());
        let block = Block {
            start: at("2027-01-04T10:00:00Z"),
            end: at("2027-01-04T11:00:00Z"),
            appointment_id: id,
            lapses_at: None,
        };
        assert!(!block.overlaps(at("2027-01-04T11:00:00Z"), at("2027-01-04T12:00:00Z")));
        assert!(!block.overlaps(at("2027-01-04T09:00:00Z"), at("2027-01-04T10:00:00Z")));
        assert!(block.overlaps(at("2027-01-04T10:59:00Z"), at("2027-01-04T12:00:00Z")));
        assert!(block.overlaps(at("2027-01-04T09:00:00Z"), at("2027-01-04T13:00:00Z")));
        assert!(block.overlaps(at("2027-01-04T10:15:00Z"), at("2027-01-04T10:30:00Z")));
    }

    #[test]
    fn a_block_across_midnight_claims_both_days() {
        let days = days_of(at("2027-01-04T23:30:00Z"), at("2027-01-05T00:30:00Z"));
        assert_eq!(days.len(), 2);
        assert_eq!(days_of(at("2027-01-04T23:00:00Z"), at("2027-01-05T00:00:00Z")).len(), 1);
    }
}
