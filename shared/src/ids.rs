//! Identifiers and time: ULID-based ids and the injectable clock and id source.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ulid::Ulid;

/// Where the current time comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still (for replayable events and tests that must not cross a minute).
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Where new ids come from.
pub trait IdSource: Send + Sync {
    fn next_id(&self) -> Ulid;
}

/// Fresh random ULIDs.
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&self) -> Ulid {
        Ulid::new()
    }
}

/// Hands out a fixed sequence of ids first, then random ones (for replayable sample events).
pub struct SequenceIds(Mutex<VecDeque<Ulid>>);

impl SequenceIds {
    pub fn new(ids: impl IntoIterator<Item = Ulid>) -> Self {
        Self(Mutex::new(ids.into_iter().collect()))
    }
}

impl IdSource for SequenceIds {
    fn next_id(&self) -> Ulid {
        let mut queue = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        queue.pop_front().unwrap_or_else(|| RandomIds.next_id())
    }
}

/// A time as a fixed-width, lexically sortable string (microseconds, UTC).
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_times_sort_like_the_instants_they_name() {
        let a = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.5Z").unwrap().to_utc();
        let b = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z").unwrap().to_utc();
        assert!(sortable_time(b) < sortable_time(a));
        assert_eq!(sortable_time(a).len(), sortable_time(b).len());
    }

    #[test]
    fn a_sequence_yields_its_ids_then_random_ones() {
        let first = Ulid::new();
        let ids = SequenceIds::new([first]);
        assert_eq!(ids.next_id(), first);
        assert_ne!(ids.next_id(), first);
    }
}
