//! Metering: what clinics pay for, counted from what already happens. Every call leaves exactly one
//! audit event; the price table below says which unit each event is and what the unit weighs and costs,
//! and the meter (fed by the audit table's stream) adds each event once to its clinic's daily counters.

pub mod export;
pub mod meter;
pub mod plan;
pub mod spend;

use crate::domain::audit::{AccessEvent, Outcome};
use crate::domain::role::Role;
use crate::http::routes::Route;

crate::string_enum! {
    /// What a clinic is billed for (ordered as the price table lists them).
    #[derive(PartialOrd, Ord)]
    Unit {
        RecordRead = "record-read",
        SearchPage = "search-page",
        RecordWrite = "record-write",
        FormSubmitted = "form-submitted",
        PhotoProcessed = "photo-processed",
        EmailSent = "email-sent",
        TextSent = "text-sent",
        TextSentInternational = "text-sent-international",
        ActivePatient = "active-patient",
        RefusedCall = "refused-call",
    }
}

/// A unit's place in the price table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    /// How much of the clinic's per-minute quota one counts for (a read is 1).
    pub weight: u32,
    /// US dollars per unit, in millionths (so amounts stay whole numbers).
    pub micro_usd: u64,
}

impl Unit {
    /// The unit of a name in the price table (`record-read`).
    pub fn named(name: &str) -> Option<Self> {
        Unit::ALL.iter().copied().find(|u| u.as_str() == name)
    }

    /// The list price. A refused call is counted but never billed.
    pub fn price(self) -> Price {
        let (weight, micro_usd) = match self {
            Unit::RecordRead => (1, 20),
            Unit::SearchPage => (5, 100),
            Unit::RecordWrite => (10, 200),
            Unit::FormSubmitted => (20, 5_000),
            Unit::PhotoProcessed => (50, 10_000),
            Unit::EmailSent => (2, 300),
            Unit::TextSent => (5, 15_000),
            // What a text costs to send varies by country, and outside North America it is several times
            // as much (Sweden, Spain, Germany: 0.07 to 0.11 dollars).
            Unit::TextSentInternational => (5, 120_000),
            // Counted by the meter, never by a call: its weight is for the table's sake.
            Unit::ActivePatient => (1, 50_000),
            Unit::RefusedCall => (1, 0),
        };
        Price { weight, micro_usd }
    }
}

/// What an event of a route counts as when it succeeds: `None` for what the platform does on its own
/// account (the operator's calls, a page being loaded, joining a clinic).
pub fn route_unit(route: &Route) -> Option<Unit> {
    match route.name {
        "intake.submit" => Some(Unit::FormSubmitted),
        "calendar-feed.read" => Some(Unit::SearchPage),
        "safety.check" => Some(Unit::RecordRead),
        "clinics.create" | "staff.join" | "intake.page" | "booking.page" | "booking.confirm-page" | "fhir.metadata" => {
            None
        }
        // The operator's calls are the platform's.
        _ if route.roles == [Role::Operator] => None,
        _ if route.is_public() && route.method == "GET" => None,
        _ if route.method != "GET" => Some(Unit::RecordWrite),
        _ if route.pages() || route.query.contains(&"from") => Some(Unit::SearchPage),
        _ => Some(Unit::RecordRead),
    }
}

/// Whether a route serves a patient's chart: the summary, and each kind of entry (signing notes included).
pub fn serves_the_chart(route: &Route) -> bool {
    route.chart.is_some() || route.name == "chart.read"
}

/// Whether a call of `route` counts against its clinic's burst quota (one counter update a call): every
/// metered staff route but a chart's reads and safety checks, which are never held back.
pub fn counts_against_quota(route: &Route) -> bool {
    let chart_read = (route.method == "GET" && serves_the_chart(route)) || route.name == "safety.check";
    !route.is_public() && !chart_read && route_unit(route).is_some()
}

/// Whether a `hard` plan refuses `route` once the month's spend reached its cap: the clinic's staff's
/// changes, except to the chart (what a clinician records of a patient is never held back for money).
pub fn stops_at_hard_cap(route: &Route) -> bool {
    counts_against_quota(route) && route.method != "GET" && !serves_the_chart(route)
}

/// The region a text message to a number outside North America (+1) names in its audit event.
pub const INTERNATIONAL: &str = "international";

/// The region of a text message's number, for its price.
pub fn text_region(phone: &str) -> &'static str {
    if phone.starts_with("+1") { "north-america" } else { INTERNATIONAL }
}

/// The events Vellum's own functions record that a clinic is billed for, by event name.
pub const SYSTEM_EVENTS: &[(&str, Option<Unit>)] = &[
    ("photos.process", Some(Unit::PhotoProcessed)),
    // The unit depends on the channel (see `event_unit`).
    ("messages.send", None),
    ("audit.tamper", None),
    ("audit.retire", None),
    // A patient's export is metered when it is asked for (a change) and when its link is given (a read).
    ("exports.build", None),
    ("exports.delete", None),
];

/// The unit an audit event counts as, if any: its route's (or system event's) unit when it succeeded, a
/// refused call when it was refused or failed on its input.
pub fn event_unit(event: &AccessEvent) -> Option<Unit> {
    let name = event.event_name.as_str();
    if name == "messages.send" {
        // A notice to the clinic's own staff (its spend cap) is on the platform.
        let named = |kind: &str, id: &str| event.resources.iter().any(|r| r.kind == kind && r.id == id);
        let billed = event.outcome == Outcome::Success && event.patient_id.is_some();
        // (A text whose event names no region is billed at the lower price.)
        let unit = match (named("channel", "sms"), named("region", INTERNATIONAL)) {
            (false, _) => Unit::EmailSent,
            (true, false) => Unit::TextSent,
            (true, true) => Unit::TextSentInternational,
        };
        return billed.then_some(unit);
    }
    let unit = match crate::http::routes::named(name) {
        Some(route) => route_unit(route),
        None => SYSTEM_EVENTS.iter().find(|(n, _)| *n == name).and_then(|(_, unit)| *unit),
    };
    match event.outcome {
        Outcome::Success => unit,
        Outcome::Denied | Outcome::Error => unit.map(|_| Unit::RefusedCall),
    }
}

/// Millionths of a dollar, written as dollars.
pub fn dollars(micro: u64) -> String {
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

/// What each unit counts, for the price table in the README.
fn meaning(unit: Unit) -> &'static str {
    match unit {
        Unit::RecordRead => "a read of one record (a patient, a chart, an entry, a photo, a setting)",
        Unit::SearchPage => "a page of a list or search (patients, appointments, free times, the trail, a feed)",
        Unit::RecordWrite => "a change: a registration, a chart entry, a booking, a setting",
        Unit::FormSubmitted => "a patient's forms sent from their link",
        Unit::PhotoProcessed => "an uploaded photo checked, cleaned, rendered and sealed",
        Unit::EmailSent => "an e-mail that left",
        Unit::TextSent => "a text message that left for a North American number (+1)",
        Unit::TextSentInternational => "a text message that left for any other number",
        Unit::ActivePatient => {
            "a patient the clinic served in the month (a call or message about them that succeeded), once a month"
        }
        Unit::RefusedCall => "a call refused (4xx): counted, never billed",
    }
}

/// The price table as the README shows it (a test holds the README to it).
pub fn price_table_markdown() -> String {
    let mut out = String::from("| unit | what counts | weight | price (USD) |\n| --- | --- | --- | --- |\n");
    for unit in Unit::ALL {
        let price = unit.price();
        out.push_str(&format!("| `{unit}` | {} | {} | {} |\n", meaning(*unit), price.weight, dollars(price.micro_usd)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::EntityId;
    use crate::http::routes::ROUTES;

    #[test]
    fn the_readme_shows_the_price_table_of_the_code() {
        let readme = include_str!("../../../README.md");
        let table = price_table_markdown();
        assert!(readme.contains(&table), "the README's price table should read:\n{table}");
    }

    #[test]
    fn every_route_is_in_the_price_table_one_way_or_the_other() {
        for route in ROUTES.iter() {
            let unit = route_unit(route);
            let free = ["clinics.create", "staff.join", "fhir.metadata"].contains(&route.name)
                || route.roles == [Role::Operator]
                || (route.is_public() && route.method == "GET" && route.name != "calendar-feed.read");
            assert_eq!(unit.is_none(), free, "{}", route.name);
        }
        assert_eq!(route_unit(crate::http::routes::named("patients.list").unwrap()), Some(Unit::SearchPage));
        assert_eq!(route_unit(crate::http::routes::named("patients.read").unwrap()), Some(Unit::RecordRead));
        assert_eq!(route_unit(crate::http::routes::named("patients.create").unwrap()), Some(Unit::RecordWrite));
    }

    #[test]
    fn a_message_is_billed_when_it_is_to_a_patient_and_left() {
        let sent = |patient: Option<EntityId>, channel: &str, outcome: Outcome| {
            let mut event = AccessEvent::by_system(
                "messages-dispatch",
                "messages.send",
                Some(EntityId(ulid::Ulid::new())),
                "2026-12-02T10:00:00.000000Z".into(),
            );
            event.patient_id = patient;
            let (channel, phone) = channel.split_once(' ').unwrap_or((channel, ""));
            event.resources = vec![crate::domain::audit::Resource::new("channel", channel)];
            if !phone.is_empty() {
                event.resources.push(crate::domain::audit::Resource::new("region", text_region(phone)));
            }
            event.outcome = outcome;
            event_unit(&event)
        };
        let patient = Some(EntityId(ulid::Ulid::new()));
        assert_eq!(sent(patient, "sms +14155550123", Outcome::Success), Some(Unit::TextSent));
        assert_eq!(sent(patient, "sms +46701234567", Outcome::Success), Some(Unit::TextSentInternational));
        assert_eq!(sent(patient, "email", Outcome::Success), Some(Unit::EmailSent));
        assert_eq!(sent(patient, "email", Outcome::Error), None);
        // A notice to the clinic's administrators (its spend cap) is the platform's.
        assert_eq!(sent(None, "email", Outcome::Success), None);
    }

    #[test]
    fn a_hard_cap_stops_changes_but_never_the_chart_or_a_read() {
        let route = |name: &str| crate::http::routes::named(name).unwrap();
        assert!(stops_at_hard_cap(route("patients.create")));
        assert!(!stops_at_hard_cap(route("allergies.create")));
        assert!(!stops_at_hard_cap(route("notes.sign")));
        assert!(!stops_at_hard_cap(route("patients.read")));
        assert!(!stops_at_hard_cap(route("intake.submit")), "a patient's forms are never refused");
    }

    #[test]
    fn only_a_refused_call_is_free() {
        for unit in Unit::ALL {
            assert_eq!(unit.price().micro_usd == 0, *unit == Unit::RefusedCall, "{unit}");
            assert!(unit.price().weight >= 1);
        }
    }
}
