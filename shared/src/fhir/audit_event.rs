//! An access event of the trail as an AuditEvent: the call (its route and action), when, its outcome, who
//! made it and from where, what it touched (ids only, as the trail keeps them), and a break-glass as the
//! purpose.

use serde_json::{Value, json};

use super::{STAFF, patient_reference};
use crate::domain::audit::{AccessEvent, Outcome, Resource};
use crate::domain::role::Role;
use crate::domain::values::EntityId;
use crate::http::routes;

const EVENT_TYPES: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const SOURCE_TYPES: &str = "http://terminology.hl7.org/CodeSystem/security-source-type";
const ACT_REASONS: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// The code system of Vellum's event names (the routes' names, and the system's own events).
pub const EVENT_NAMES: &str = "urn:vellum:event";

/// An event's id: its own and its time (`{eventId}-{YYYYMMDDhhmmss.ffffff}`, 48 characters), so that a read
/// finds it by its key in the trail.
pub fn id(event: &AccessEvent) -> String {
    let digits: String = event.event_time.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
    format!("{}-{digits}", event.event_id)
}

/// The trail's sort key of an event an id names (`{sortable time}#{eventId}`), if it is one.
pub fn sort_key(id: &str) -> Option<String> {
    let (event, time) = id.split_once('-')?;
    let event = EntityId::parse(event)?;
    let (whole, fraction) = time.split_once('.')?;
    let valid =
        whole.len() == 14 && fraction.len() == 6 && (whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    let d = |from: usize, to: usize| &whole[from..to];
    let at = format!("{}-{}-{}T{}:{}:{}.{fraction}Z", d(0, 4), d(4, 6), d(6, 8), d(8, 10), d(10, 12), d(12, 14));
    Some(format!("{at}#{event}"))
}

/// What the call did to what it touched: FHIR's action of its route's method (a system's own event executes).
fn action(event_name: &str) -> &'static str {
    match routes::named(event_name).map(|r| (r.method, r.success_statuses().contains(&201))) {
        Some(("GET", _)) => "R",
        Some(("POST", true)) => "C",
        Some(("PATCH" | "PUT", _)) => "U",
        Some(("DELETE", _)) => "D",
        _ => "E",
    }
}

/// What an event touched, as an entity: a patient by reference, anything else by its kind and id.
fn entity(resource: &Resource) -> Value {
    match (resource.kind.as_str(), EntityId::parse(&resource.id)) {
        ("patient", Some(patient)) => json!({ "what": patient_reference(patient) }),
        (kind, _) => {
            json!({ "what": { "identifier": { "system": format!("urn:vellum:{kind}"), "value": resource.id } } })
        }
    }
}

/// An access event as an AuditEvent.
pub fn audit_event(event: &AccessEvent) -> Value {
    let user = &event.user_identity;
    let who = if user.role == Role::System {
        json!({ "display": format!("Vellum {}", event.event_source) })
    } else {
        json!({ "identifier": { "system": STAFF, "value": user.user_id.as_str() } })
    };
    let mut agent = json!({ "who": who, "requestor": true, "role": [{ "text": user.role.as_str() }] });
    if let Some(address) = &event.source_ip_address {
        agent["network"] = json!({ "address": address, "type": "2" });
    }
    let (outcome, failure) = match event.outcome {
        Outcome::Success => ("0", None),
        Outcome::Denied => ("4", Some("denied")),
        Outcome::Error => ("8", Some("failed")),
    };
    let mut out = json!({
        "resourceType": "AuditEvent",
        "id": id(event),
        // An event is written once and never changed: its only version is the first.
        "meta": { "versionId": "1", "lastUpdated": event.event_time },
        "type": { "system": EVENT_TYPES, "code": "rest", "display": "RESTful Operation" },
        "subtype": [{ "system": EVENT_NAMES, "code": event.event_name }],
        "action": action(&event.event_name),
        "recorded": event.event_time,
        "outcome": outcome,
        "agent": [agent],
        "source": { "observer": { "display": format!("Vellum {}", event.event_source) },
                    "type": [{ "system": SOURCE_TYPES, "code": "4", "display": "Application Server" }] },
    });
    if !event.resources.is_empty() {
        out["entity"] = event.resources.iter().map(entity).collect();
    }
    if let Some(failure) = failure {
        let code = event.error_code.as_deref().unwrap_or("unknown");
        out["outcomeDesc"] = format!("{failure}: {code}").into();
    }
    if !event.break_glass.is_empty() {
        let reasons: Vec<String> =
            event.break_glass.iter().map(|m| format!("{}: {}", m.scope, m.reason.as_str())).collect();
        out["purposeOfEvent"] = json!([{ "coding": [{ "system": ACT_REASONS, "code": "BTG", "display": "break the glass" }],
                                         "text": reasons.join("; ") }]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_the_events_key_and_nothing_else_does() {
        let mut event =
            AccessEvent::by_system("audit-archive", "audit.archive", None, "2026-12-03T22:34:13.240473Z".into());
        event.event_id = EntityId::parse("01JD0000000000000000000001").unwrap();
        let id = id(&event);
        assert_eq!(id, "01JD0000000000000000000001-20261203223413.240473");
        assert!(id.len() <= 64);
        assert_eq!(sort_key(&id).as_deref(), Some("2026-12-03T22:34:13.240473Z#01JD0000000000000000000001"));
        for bad in
            ["01JD0000000000000000000001", "01JD0000000000000000000001-2026120322341.240473", "x-20261203223413.240473"]
        {
            assert_eq!(sort_key(bad), None, "{bad}");
        }
        assert_eq!(audit_event(&event)["action"], "E");
        assert_eq!(action("patients.create"), "C");
        assert_eq!(action("fhir.read"), "R");
    }
}
