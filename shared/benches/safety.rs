//! The safety check's cost, in release mode: the gate a charted treatment passes (the chart read into what
//! the rules look at, then every rule) and the chart summary's standing alerts, over a chart of 200 entries,
//! as a ratio to building the chart summary of the same entries, the baseline measured in the same run.
//! Run with `cargo bench -p vellum --bench safety` (`-- --smoke` for one round); it prints its figures and
//! asserts nothing but that the alerts expected are raised.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{Value, json};
use vellum::domain::chart::summary;
use vellum::domain::chart::treatment::TreatmentType;
use vellum::domain::chart::{ChartKind, Entry};
use vellum::domain::safety::rules::RULES;
use vellum::domain::safety::{Chart, Proposed, check, standing};

const ENTRIES: usize = 200;

fn entry(kind: ChartKind, n: usize, data: Value) -> Entry {
    serde_json::from_value(json!({
        "id": ulid::Ulid::from_parts(n as u64, n as u128).to_string(),
        "kind": kind,
        "patientId": "01JD0000000000000000000002",
        "version": 1,
        "data": data,
        "source": {"type": "staff-entered"},
        "recordedBy": {"userId": "practitioner-1", "role": "practitioner"},
        "recordedAt": "2026-01-01T10:00:00Z",
        "updatedBy": {"userId": "practitioner-1", "role": "practitioner"},
        "updatedAt": "2026-01-01T10:00:00Z",
    }))
    .expect("a chart entry")
}

/// A long-treated patient's chart: a few allergies, medications past and present, conditions, many
/// vital signs, notes and treatments, and the profile.
fn chart() -> Vec<Entry> {
    let substances = ["Lidocaine", "Penicillin", "Latex", "Shellfish", "Sulfa"];
    let medications = ["Naproxen", "Doxycycline", "Isotretinoin", "Metformin", "Sertraline", "Valacyclovir"];
    let conditions = ["L70.0", "E11.9", "I10", "L91.0", "F41.1"];
    let mut entries = vec![entry(
        ChartKind::AestheticProfile,
        0,
        json!({"fitzpatrick": "III", "history": {"coldSores": true}, "pregnancy": {"status": "neither", "recordedOn": "2026-11-01"}}),
    )];
    for n in 1..ENTRIES {
        let (kind, data) = match n % 10 {
            0 => (
                ChartKind::Allergy,
                json!({"substance": substances[n / 10 % 5], "reaction": "hives", "severity": "moderate", "status": "active"}),
            ),
            1 | 2 => {
                let stopped = n % 3 == 0;
                let name = medications[n % 6];
                let data = if stopped {
                    json!({"name": name, "status": "stopped", "stopDate": "2024-05-01"})
                } else {
                    json!({"name": name, "status": "active"})
                };
                (ChartKind::Medication, data)
            }
            3 => (ChartKind::Condition, json!({"code": conditions[n % 5], "status": "active"})),
            4 | 5 => (
                ChartKind::Vitals,
                json!({"measuredAt": format!("2026-{:02}-{:02}T09:00:00Z", n % 11 + 1, n % 27 + 1),
                       "bloodPressure": {"systolic": 110 + n % 40, "diastolic": 70 + n % 25}, "heartRate": 60 + n % 45}),
            ),
            6 | 7 => (
                ChartKind::Note,
                json!({"type": "progress", "encounterDate": "2026-06-01", "plan": "Review in two weeks"}),
            ),
            _ => (
                ChartKind::Treatment,
                json!({"type": "neurotoxin", "performedAt": format!("2026-{:02}-10T10:00:00Z", n % 11 + 1),
                       "treatedAreas": ["glabella"],
                       "products": [{"product": "Botox Cosmetic", "manufacturer": "Allergan", "lotNumber": "C1", "expiryDate": "2027-06-30",
                                     "quantity": {"value": 20, "unit": "units"}}]}),
            ),
        };
        entries.push(entry(kind, n, data));
    }
    entries
}

/// The median of `rounds` timings of `work`.
fn median(rounds: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let rounds = if smoke { 1 } else { 2_000 };
    let entries = chart();
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date");
    let filler = Proposed::Treatment {
        treatment_type: TreatmentType::DermalFiller,
        products: vec![RULES.product("restylane-l").expect("in the catalogue")],
        procedure: None,
    };
    let patient = json!({"id": "01JD0000000000000000000002"});
    let raised = check(&RULES, &Chart::of(&entries), &filler, today);
    assert!(raised.iter().any(|a| a.rule_id == "filler-lidocaine-amide-anesthetic-allergy"), "{raised:?}");

    let baseline = median(rounds, || {
        std::hint::black_box(summary::build(patient.clone(), &entries, |_| true));
    });
    let gate = median(rounds, || {
        std::hint::black_box(check(&RULES, &Chart::of(&entries), &filler, today));
    });
    let standing_alerts = median(rounds, || {
        std::hint::black_box(standing(&RULES, &Chart::of(&entries), today));
    });
    let ratio = |d: Duration| format!("{:.2}", d.as_secs_f64() / baseline.as_secs_f64());
    println!(
        "{} rules, {} standing alerts, a chart of {ENTRIES} entries, {} alerts raised for a lidocaine filler",
        RULES.rules.len(),
        RULES.standing.len(),
        raised.len()
    );
    println!("report: safety: baseline, the chart summary built from the {ENTRIES} entries\t{}\tus", micros(baseline));
    println!(
        "report: safety: a treatment's check over {ENTRIES} entries (chart read + every rule)\t{}\tus",
        micros(gate)
    );
    println!("report: safety: the check as a ratio to the baseline\t{}\tx", ratio(gate));
    println!("report: safety: the standing alerts over {ENTRIES} entries\t{}\tus", micros(standing_alerts));
    println!("report: safety: the standing alerts as a ratio to the baseline\t{}\tx", ratio(standing_alerts));
}
