//! The chart summary: what a practitioner must see before treating, built from the patient's current
//! entries (one query) and limited to the sections the caller's role may read.

use serde_json::{Map, Value, json};

use super::allergy::{AllergyStatus, Severity};
use super::condition::ConditionStatus;
use super::medication::MedicationStatus;
use super::{ChartKind, Entry};
use crate::domain::fields::{Context, ParseStr};

/// How many notes and treatments the summary shows, newest first.
pub const RECENT: usize = 5;

fn parsed<T: ParseStr>(entry: &Entry, field: &str) -> Option<T> {
    entry.text(field).and_then(|s| T::parse_str(s, &Context::timeless()).ok())
}

fn newest_first(entries: &mut [&Entry], field: &str) {
    entries.sort_by(|a, b| (b.text(field), &b.recorded_at).cmp(&(a.text(field), &a.recorded_at)));
}

/// The allergy section: worst first, and whether allergies were asked about at all.
fn allergies(entries: &[&Entry]) -> Value {
    let active: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| parsed::<AllergyStatus>(e, "status") == Some(AllergyStatus::Active))
        .collect();
    let (none_known, mut known): (Vec<&Entry>, Vec<&Entry>) =
        active.into_iter().partition(|e| e.data.get("noKnownAllergies") == Some(&Value::Bool(true)));
    known.sort_by_key(|e| {
        let rank = parsed::<Severity>(e, "severity").map_or(0, Severity::rank);
        (std::cmp::Reverse(rank), e.text("substance").unwrap_or("").to_lowercase())
    });
    let assessment = if !known.is_empty() {
        "allergies-recorded"
    } else if !none_known.is_empty() {
        "no-known-allergies"
    } else {
        "not-yet-asked"
    };
    json!({"assessment": assessment, "items": known.iter().map(|e| e.to_json()).collect::<Vec<_>>()})
}

/// Builds the summary; `may_read` says which kinds the caller's role sees (the others are left out, not emptied).
pub fn build(patient: Value, entries: &[Entry], may_read: impl Fn(ChartKind) -> bool) -> Value {
    let of = |kind: ChartKind| -> Vec<&Entry> { entries.iter().filter(|e| e.kind == kind && e.is_valid()).collect() };
    let list = |items: Vec<&Entry>| Value::Array(items.iter().map(|e| e.to_json()).collect());
    let mut out = Map::new();
    out.insert("patient".into(), patient);
    let mut sections = Vec::new();
    for kind in ChartKind::ALL.iter().copied().filter(|k| may_read(*k)) {
        let mut items = of(kind);
        let (name, value) = match kind {
            ChartKind::Allergy => ("allergies", allergies(&items)),
            ChartKind::Medication => {
                items.retain(|e| parsed::<MedicationStatus>(e, "status").is_some_and(MedicationStatus::is_current));
                items.sort_by_key(|e| e.text("name").unwrap_or("").to_lowercase());
                ("medications", list(items))
            }
            ChartKind::Condition => {
                items.retain(|e| parsed::<ConditionStatus>(e, "status").is_some_and(ConditionStatus::is_active));
                ("conditions", list(items))
            }
            ChartKind::Vitals => {
                newest_first(&mut items, "measuredAt");
                ("latestVitals", items.first().map_or(Value::Null, |e| e.to_json()))
            }
            ChartKind::Note => {
                newest_first(&mut items, "encounterDate");
                items.truncate(RECENT);
                ("recentNotes", list(items))
            }
            ChartKind::Treatment => {
                newest_first(&mut items, "performedAt");
                items.truncate(RECENT);
                ("recentTreatments", list(items))
            }
            ChartKind::AestheticProfile => {
                items.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
                ("aestheticProfile", items.first().map_or(Value::Null, |e| e.to_json()))
            }
        };
        sections.push(name);
        out.insert(name.into(), value);
    }
    out.insert("sections".into(), json!(sections));
    Value::Object(out)
}
