//! Availability, computed and never stored: the start times of a service on given local dates where its
//! performer and every room and device it needs are working for the whole of it, buffers included.
//! Working hours are local wall-clock spans; each becomes the instants it covers in the clinic's zone, so
//! a 09:00 start is 09:00 local on the day the clocks change, and a local time that does not exist that
//! day (02:30 when the clocks spring forward) is never offered. An ambiguous one (01:30 when they fall
//! back) is offered once, at its first occurrence.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::claims::Block;
use super::hours::{Span, WorkingHours};

/// A stretch of time between two instants.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The instant a local time names on `date`; a time the clocks skip moves to the first one after the gap.
fn instant(zone: Tz, date: NaiveDate, minutes: u32) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    let mut local: NaiveDateTime = midnight + Duration::minutes(i64::from(minutes));
    for _ in 0..=180 {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    None
}

/// The instants a day's spans cover.
fn windows(zone: Tz, date: NaiveDate, spans: &[Span]) -> Vec<Window> {
    spans
        .iter()
        .filter_map(|s| Some((instant(zone, date, s.start.minutes())?, instant(zone, date, s.end.minutes())?)))
        .filter(|(start, end)| start < end)
        .collect()
}

/// The stretches both lists cover.
fn intersect(a: &[Window], b: &[Window]) -> Vec<Window> {
    let mut out = Vec::new();
    for (a_start, a_end) in a {
        for (b_start, b_end) in b {
            let (start, end) = ((*a_start).max(*b_start), (*a_end).min(*b_end));
            if start < end {
                out.push((start, end));
            }
        }
    }
    out
}

/// What a service needs of the calendar, and where.
pub struct Need<'a> {
    pub zone: Tz,
    pub interval_minutes: u32,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// The clinic's opening hours (none set: no limit of their own).
    pub clinic: Option<&'a WorkingHours>,
    /// Each room's or device's hours (none set: it is there whenever the clinic is open).
    pub resources: Vec<Option<&'a WorkingHours>>,
    /// The time its rooms and devices are already claimed for.
    pub resource_busy: Vec<Block>,
}

impl Need<'_> {
    /// When the performer with `hours`, claimed for `busy`, and everything else the service needs, is free
    /// for it on each local date from `from` to `to`: the start instants after `now`, in order.
    pub fn starts(
        &self,
        hours: &WorkingHours,
        busy: &[Block],
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let before = Duration::minutes(i64::from(self.buffer_before_minutes));
        let after = Duration::minutes(i64::from(self.duration_minutes + self.buffer_after_minutes));
        let mut out = Vec::new();
        for date in from.iter_days().take_while(|d| *d <= to) {
            let mut free = windows(self.zone, date, hours.on(date));
            if let Some(clinic) = self.clinic {
                free = intersect(&free, &windows(self.zone, date, clinic.on(date)));
            }
            for resource in self.resources.iter().flatten() {
                free = intersect(&free, &windows(self.zone, date, resource.on(date)));
            }
            if free.is_empty() {
                continue;
            }
            for minutes in (0..24 * 60).step_by(self.interval_minutes.max(5) as usize) {
                let Some(midnight) = date.and_hms_opt(0, 0, 0) else { continue };
                let local = midnight + Duration::minutes(i64::from(minutes));
                let start = match self.zone.from_local_datetime(&local) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                    LocalResult::None => continue,
                };
                let (held_from, held_until) = (start - before, start + after);
                let fits = free.iter().any(|(s, e)| *s <= held_from && held_until <= *e)
                    && !busy.iter().chain(&self.resource_busy).any(|b| b.overlaps(held_from, held_until));
                if start > now && fits && out.last().is_none_or(|last| *last < start) {
                    out.push(start);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::{Context, ParseStr};
    use crate::domain::scheduling::hours::LocalTime;

    fn span(start: &str, end: &str) -> Span {
        let ctx = Context::timeless();
        Span { start: LocalTime::parse_str(start, &ctx).unwrap(), end: LocalTime::parse_str(end, &ctx).unwrap() }
    }

    fn sundays(spans: Vec<Span>) -> WorkingHours {
        WorkingHours { weekly: [("sunday".to_string(), spans)].into(), overrides: Vec::new() }
    }

    fn need(zone: Tz, interval: u32, duration: u32) -> Need<'static> {
        Need {
            zone,
            interval_minutes: interval,
            duration_minutes: duration,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            clinic: None,
            resources: Vec::new(),
            resource_busy: Vec::new(),
        }
    }

    fn local(zone: Tz, starts: &[DateTime<Utc>]) -> Vec<String> {
        starts.iter().map(|s| s.with_timezone(&zone).format("%H:%M%:z").to_string()).collect()
    }

    const LONG_AGO: &str = "2000-01-01T00:00:00Z";

    #[test]
    fn nine_oclock_stays_nine_oclock_local_when_the_clocks_change() {
        let now = LONG_AGO.parse().unwrap();
        for (zone, change, week_before) in [
            (chrono_tz::America::Los_Angeles, "2027-03-14", "2027-03-07"),
            (chrono_tz::America::Los_Angeles, "2027-11-07", "2027-10-31"),
            (chrono_tz::Europe::Stockholm, "2027-03-28", "2027-03-21"),
            (chrono_tz::Europe::Stockholm, "2027-10-31", "2027-10-24"),
        ] {
            let hours = sundays(vec![span("09:00", "10:00")]);
            for day in [change, week_before] {
                let date: NaiveDate = day.parse().unwrap();
                let starts = need(zone, 60, 60).starts(&hours, &[], date, date, now);
                let times: Vec<String> = local(zone, &starts).iter().map(|t| t[..5].to_string()).collect();
                assert_eq!(times, ["09:00"], "{zone} {day}");
            }
            let (on, before): (NaiveDate, NaiveDate) = (change.parse().unwrap(), week_before.parse().unwrap());
            let at = |d| need(zone, 60, 60).starts(&hours, &[], d, d, now)[0];
            // The same local time is a different offset from UTC across the change.
            assert_ne!((at(on) - at(before)).num_minutes() % (24 * 60), 0, "{zone} {change}");
        }
    }

    #[test]
    fn a_local_time_the_clocks_skip_is_never_offered_and_a_repeated_one_once() {
        let now = LONG_AGO.parse().unwrap();
        let zone = chrono_tz::America::Los_Angeles;
        let hours = sundays(vec![span("00:00", "05:00")]);
        let spring: NaiveDate = "2027-03-14".parse().unwrap();
        let offered = local(zone, &need(zone, 30, 30).starts(&hours, &[], spring, spring, now));
        assert!(!offered.iter().any(|t| t.starts_with("02:")), "{offered:?}");
        assert_eq!(offered.first().map(String::as_str), Some("00:00-08:00"));
        assert!(offered.contains(&"03:00-07:00".to_string()), "{offered:?}");
        // Four real hours of work that day: eight half-hour starts.
        assert_eq!(offered.len(), 8, "{offered:?}");
        let autumn: NaiveDate = "2027-11-07".parse().unwrap();
        let offered = local(zone, &need(zone, 30, 30).starts(&hours, &[], autumn, autumn, now));
        assert_eq!(offered.iter().filter(|t| t.starts_with("01:30")).count(), 1, "{offered:?}");
    }

    #[test]
    fn the_whole_block_with_its_buffers_must_fit_where_everyone_is_free() {
        let now = LONG_AGO.parse().unwrap();
        let zone = chrono_tz::Europe::Stockholm;
        let performer = sundays(vec![span("09:00", "12:00"), span("13:00", "17:00")]);
        let room = sundays(vec![span("10:00", "16:00")]);
        let mut need = need(zone, 30, 60);
        need.buffer_before_minutes = 15;
        need.buffer_after_minutes = 15;
        need.resources = vec![Some(&room)];
        let day: NaiveDate = "2027-06-06".parse().unwrap();
        let offered: Vec<String> =
            local(zone, &need.starts(&performer, &[], day, day, now)).iter().map(|t| t[..5].into()).collect();
        // 10:15 is the first start whose buffer starts in the room's hours; the lunch break splits the day.
        assert_eq!(offered, ["10:30", "13:30", "14:00", "14:30"]);
        let later: DateTime<Utc> = "2027-06-06T12:00:00Z".parse().unwrap();
        let offered = local(zone, &need.starts(&performer, &[], day, day, later));
        assert_eq!(offered, ["14:30+02:00"], "only starts after now");
    }
}
