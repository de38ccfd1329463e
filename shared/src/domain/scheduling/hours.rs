//! Working hours: a weekly pattern of local wall-clock spans (a break is the gap between two spans) and
//! dated overrides (a day off, extra hours, a closed day), for the clinic, a staff member or a resource.
//! Times are the clinic's local time; turning them into instants is the time zone's business
//! (`availability`), so a 09:00 start stays 09:00 on the day the clocks change.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::super::fields::{Context, Form, Issue, ParseStr};
use super::super::values::{Date, ShortText};

/// The most spans in one day.
pub const MAX_SPANS: usize = 6;
/// The most dated overrides kept.
pub const MAX_OVERRIDES: usize = 400;

/// The week's days, as the API names them.
pub const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// A wall-clock time of day on the calendar's 5-minute grain, `HH:MM`; `24:00` ends a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(pub u32);

impl LocalTime {
    /// Minutes since midnight.
    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl ParseStr for LocalTime {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let bad = || "must be a time written HH:MM on a 5-minute step, from 00:00 to 24:00".to_string();
        let (h, m) = s.split_once(':').filter(|(h, m)| h.len() == 2 && m.len() == 2).ok_or_else(bad)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let minutes = h * 60 + m;
        if m >= 60 || minutes > 24 * 60 || !m.is_multiple_of(5) {
            return Err(bad());
        }
        Ok(Self(minutes))
    }

    fn schema() -> serde_json::Value {
        crate::domain::schema::pattern("^(([01][0-9]|2[0-3]):[0-5][05]|24:00)$")
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LocalTime::parse_str(&text, &Context::timeless()).map_err(serde::de::Error::custom)
    }
}

/// One stretch of working time in a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: LocalTime,
    pub end: LocalTime,
}

impl Span {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["start", "end"]);
        let (start, end): (Option<LocalTime>, Option<LocalTime>) = (form.req("start"), form.req("end"));
        let (start, end) = (start?, end?);
        if start >= end {
            form.reject("end", Issue::Rule("must be after start (a span ends by 24:00 of its day)".into()));
            return None;
        }
        Some(Self { start, end })
    }
}

/// Reads a day's spans: in order and not overlapping.
fn day(form: &Form<'_>, field: &str) -> Option<Vec<Span>> {
    let spans = form.objects(field, 0, MAX_SPANS, Span::read)?;
    if spans.windows(2).any(|pair| pair[0].end > pair[1].start) {
        form.reject(field, Issue::Rule("spans must be in order and must not overlap".into()));
        return None;
    }
    Some(spans)
}

/// A date with its own hours (none: a day off, or the clinic closed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub date: Date,
    pub hours: Vec<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<ShortText>,
}

impl Override {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["date", "hours", "note"]);
        let date = form.req("date");
        let hours = day(form, "hours");
        let note = form.opt("note");
        Some(Self { date: date?, hours: hours?, note })
    }
}

/// A calendar's working hours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// By day name; a day left out is not worked.
    pub weekly: BTreeMap<String, Vec<Span>>,
    pub overrides: Vec<Override>,
}

impl WorkingHours {
    /// Reads `{"weekly": {"monday": [{"start", "end"}, ...], ...}, "overrides": [{"date", "hours", "note"?}]}`.
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["weekly", "overrides"]);
        let weekly = form.object("weekly", true, |week| {
            week.only(&DAYS);
            let mut days = BTreeMap::new();
            let mut whole = true;
            for name in DAYS {
                match day(week, name) {
                    Some(spans) if !spans.is_empty() => {
                        days.insert(name.to_string(), spans);
                    }
                    Some(_) => {}
                    None => whole = false,
                }
            }
            whole.then_some(days)
        });
        let overrides = form.objects("overrides", 0, MAX_OVERRIDES, Override::read);
        let overrides = overrides.filter(|list| {
            let unique = list.iter().map(|o| o.date.0).collect::<HashSet<_>>().len() == list.len();
            if !unique {
                form.reject("overrides", Issue::Rule("must not name a date twice".into()));
            }
            unique
        });
        Some(Self { weekly: weekly?, overrides: overrides? })
    }

    /// The spans worked on `date`: its override's if it has one, else its weekday's.
    pub fn on(&self, date: NaiveDate) -> &[Span] {
        if let Some(special) = self.overrides.iter().find(|o| o.date.0 == date) {
            return &special.hours;
        }
        self.weekly.get(day_name(date.weekday())).map_or(&[], Vec::as_slice)
    }
}

fn day_name(day: Weekday) -> &'static str {
    DAYS[day.num_days_from_monday() as usize]
}
