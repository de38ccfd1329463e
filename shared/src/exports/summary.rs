//! The export's readable summary: who the patient is, then each part of their chart in plain lines, their
//! appointments, and what else the ZIP holds.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::chart::{ChartKind, Entry};
use crate::domain::patient::Patient;
use crate::domain::scheduling::appointment::Appointment;
use crate::fhir::record::Record;
use crate::pdf::{CHARS_PER_LINE, Line, document, wrap};

/// An entry's data field as text (a number, a list or an object as it is written).
fn field(entry: &Entry, name: &str) -> Option<String> {
    match entry.data.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// One line for an entry: its own fields that say what it is, in order, those it has.
fn describe(entry: &Entry) -> String {
    let names: &[&str] = match entry.kind {
        ChartKind::Allergy => &["substance", "reaction", "severity", "status"],
        ChartKind::Medication => &["name", "strength", "dose", "frequency", "status"],
        ChartKind::Condition => &["code", "text", "status", "onset"],
        ChartKind::Vitals => &["measuredAt", "bloodPressure", "heartRate", "temperature", "weight", "height"],
        ChartKind::Treatment => &["performedAt", "type", "treatedAreas", "products"],
        ChartKind::Note => &["type", "encounterDate", "subjective", "objective", "assessment", "plan"],
        ChartKind::AestheticProfile => &["concerns", "goals", "fitzpatrick", "pregnancy", "history"],
    };
    let mut parts: Vec<String> = names.iter().filter_map(|n| field(entry, n).map(|v| format!("{n}: {v}"))).collect();
    if entry.data.get("noKnownAllergies") == Some(&Value::Bool(true)) {
        parts.insert(0, "no known allergies".into());
    }
    if !entry.is_valid() {
        parts.push("entered in error".into());
    }
    parts.join("; ")
}

/// A part of the chart's heading.
fn title(kind: ChartKind) -> &'static str {
    match kind {
        ChartKind::Allergy => "Allergies",
        ChartKind::Medication => "Medications",
        ChartKind::Condition => "Conditions",
        ChartKind::Vitals => "Vital signs",
        ChartKind::Note => "Clinical notes",
        ChartKind::Treatment => "Treatments",
        ChartKind::AestheticProfile => "Aesthetic profile",
    }
}

/// The summary as a PDF.
pub fn pdf(
    clinic: &str,
    patient: &Patient,
    records: &[Record],
    appointments: &[Appointment],
    access_events: usize,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let d = &patient.details;
    let mut lines = vec![
        Line::bold(clinic),
        Line::bold(format!("The record of {} {}", d.given_name.as_str(), d.family_name.as_str())),
        Line::plain(format!("Born {}; record number {}", d.birth_date.0, patient.mrn)),
        Line::plain(format!("Exported {}", now.format("%Y-%m-%d %H:%M UTC"))),
        Line::plain(""),
    ];
    let paragraph = |lines: &mut Vec<Line>, text: &str| {
        let mut wrapped = wrap(text, CHARS_PER_LINE - 2).into_iter();
        if let Some(first) = wrapped.next() {
            lines.push(Line::plain(format!("- {first}")));
        }
        lines.extend(wrapped.map(|rest| Line::plain(format!("  {rest}"))));
    };
    for kind in ChartKind::ALL.iter().copied() {
        let entries: Vec<&Entry> = records
            .iter()
            .filter_map(|r| match r {
                Record::Entry(e) if e.kind == kind => Some(e),
                _ => None,
            })
            .collect();
        lines.push(Line::bold(title(kind)));
        if entries.is_empty() {
            lines.push(Line::plain("- none recorded"));
        }
        for entry in entries {
            paragraph(&mut lines, &describe(entry));
        }
        lines.push(Line::plain(""));
    }
    lines.push(Line::bold("Appointments"));
    if appointments.is_empty() {
        lines.push(Line::plain("- none"));
    }
    for a in appointments {
        paragraph(
            &mut lines,
            &format!("{} to {}: {}", a.start.format("%Y-%m-%d %H:%M"), a.end.format("%H:%M UTC"), a.status),
        );
    }
    let photos = records.iter().filter(|r| matches!(r, Record::Photo(_))).count();
    let signatures: usize = records
        .iter()
        .map(|r| match r {
            Record::Submission(s) => s.signatures.len(),
            _ => 0,
        })
        .sum();
    lines.extend([
        Line::plain(""),
        Line::bold("Also in this export"),
        Line::plain(format!("- {photos} photo record(s); the photos themselves are in photos/")),
        Line::plain(format!("- {signatures} signed consent(s), in consents/")),
        Line::plain(format!(
            "- {access_events} access event(s): who opened or changed this record, in access-log.json"
        )),
        Line::plain("- the whole record as FHIR R4 in record.json, and as the clinic's system shows it in chart.json"),
    ]);
    document(&lines, None)
}
