//! `POST /fhir/R4`: a transaction bundle imported all at once or not at all. Each resource passes the checks
//! of the JSON API's create route it stands for, its entries are marked imported from the sending system, and
//! a refusal is an OperationOutcome naming the entry and the path.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::chart_guard::ChartChange;
use super::{chart, patients};
use crate::domain::audit::Resource;
use crate::domain::chart::vitals::Vitals;
use crate::domain::chart::{ChartKind, Data, Entry, Source};
use crate::domain::fields::FieldError;
use crate::domain::patient::{Patient, PatientDetails};
use crate::domain::values::EntityId;
use crate::fhir::import::{self, Incoming, MAX_ENTRIES, PatientRef, Target};
use crate::fhir::{FHIR_JSON, chart_id, record_id};
use crate::http::input::{Input, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::limits::MAX_TRANSACTION_WRITES;

/// What one record of the bundle passed as: a patient's details, or a chart entry's data and source.
enum Checked {
    Patient(Box<PatientDetails>),
    Entry(ChartKind, Data, Source),
}

/// What one record became.
enum Made {
    Patient(Patient),
    Entry(Entry),
}

/// `POST /fhir/R4` with a transaction bundle: a transaction-response bundle, one response per entry.
pub async fn transaction(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let bundle = input.json(ctx.route.body_media())?;
    let given = bundle.get("entry").and_then(Value::as_array).map_or(0, Vec::len);
    if given > MAX_ENTRIES {
        return Err(ApiError::TooMuch(format!(
            "a transaction bundle holds at most {MAX_ENTRIES} entries (this one {given}): it is written all at once; split it"
        )));
    }
    let (incoming, mut errors) = import::read(&bundle);
    let checked = check_all(&ctx, &incoming, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid { errors });
    }
    // Every record at least writes its current item and one more (its history, or a record number's).
    let least = incoming.len() * 2 + 2;
    if least > MAX_TRANSACTION_WRITES {
        return Err(too_many_writes(least));
    }
    check_references(&ctx, &incoming).await?;
    let (made, writes) = write_all(&ctx, &incoming, checked).await?;
    let patients: Vec<EntityId> = made
        .iter()
        .map(|m| match m {
            Made::Patient(p) => p.id,
            Made::Entry(e) => e.patient_id,
        })
        .collect();
    let mut facts = Facts::listing(patients);
    // The data, the event (with its copies in the access logs) and the idempotency record.
    let needed = writes.len() + facts.event_writes() + 1;
    if needed > MAX_TRANSACTION_WRITES {
        return Err(too_many_writes(needed));
    }
    facts.resources.extend(made.iter().filter_map(|m| match m {
        Made::Entry(e) => Some(Resource::new(e.kind.as_str(), e.id)),
        Made::Patient(_) => None,
    }));
    let response = response_bundle(&incoming, &made, given);
    Ok(Outcome::Write(writes, Reply::json_as(FHIR_JSON, response), facts))
}

fn too_many_writes(needed: usize) -> ApiError {
    ApiError::TooMuch(format!(
        "this bundle needs {needed} writes and one transaction takes at most {MAX_TRANSACTION_WRITES}: split it (about {} resources a bundle)",
        MAX_TRANSACTION_WRITES / 2 - 1
    ))
}

/// Each record through its create route's checks, before anything is read or numbered: what passed, and
/// every problem of every entry at its path in the bundle, added to `errors`.
fn check_all(ctx: &Ctx, incoming: &[Incoming], errors: &mut Vec<FieldError>) -> Vec<Checked> {
    let mut checked = Vec::new();
    for record in incoming {
        let body = Value::Object(record.body.clone());
        let read = match record.target {
            Target::Patient => {
                read_form(&body, ctx.rules(), PatientDetails::read).map(|d| Checked::Patient(Box::new(d)))
            }
            Target::Chart(kind) => read_form(&body, ctx.rules(), |form| chart::read_new(kind, form))
                .map(|(data, source, _)| Checked::Entry(kind, data, source)),
        };
        match read.map_err(|e| at_paths(record, e)) {
            Ok(c) => checked.push(c),
            Err(ApiError::Invalid { errors: found }) => errors.extend(found),
            Err(_) => {}
        }
    }
    checked
}

/// That every patient the bundle names is there: a Patient of the bundle by its fullUrl, or a patient of the
/// caller's clinic by id (404 at the reference for any other, another clinic's included).
async fn check_references(ctx: &Ctx, incoming: &[Incoming]) -> Result<(), ApiError> {
    let mut found: Vec<EntityId> = Vec::new();
    let mut errors = Vec::new();
    let in_bundle: Vec<&str> =
        incoming.iter().filter(|i| i.target == Target::Patient).filter_map(|i| i.full_url.as_deref()).collect();
    for record in incoming {
        match &record.patient {
            Some(PatientRef::Existing(id)) if !found.contains(id) => match patients::load(ctx, *id).await {
                Ok(_) => found.push(*id),
                Err(ApiError::NotFound) => {
                    errors.push(FieldError::unknown(reference_path(record), "names no patient of this clinic"))
                }
                Err(e) => return Err(e),
            },
            Some(PatientRef::InBundle(url)) if !in_bundle.contains(&url.as_str()) => {
                errors.push(FieldError::shape(reference_path(record), "names no Patient of this bundle"))
            }
            _ => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid { errors }) }
}

/// Where a chart record's patient reference is in the bundle.
fn reference_path(record: &Incoming) -> String {
    let part = &record.parts[0];
    let element = import::reference_element(part.resource_type).unwrap_or("subject");
    format!("Bundle.entry[{}].resource.{element}.reference", part.index)
}

/// Registers the bundle's patients, then writes each chart record as its create route would (the chart's
/// rules, against what the bundle adds too): what each record became and every write, in one transaction.
async fn write_all(
    ctx: &Ctx,
    incoming: &[Incoming],
    checked: Vec<Checked>,
) -> Result<(Vec<Made>, Vec<Guarded>), ApiError> {
    let mut writes = Vec::new();
    let mut made: Vec<Option<Made>> = Vec::new();
    let mut pending = Vec::new();
    let mut by_url: HashMap<&str, EntityId> = HashMap::new();
    for (record, checked) in incoming.iter().zip(checked) {
        match checked {
            Checked::Patient(details) => {
                let (patient, patient_writes) = patients::register(ctx, *details).await?;
                if let Some(url) = &record.full_url {
                    by_url.insert(url, patient.id);
                }
                writes.extend(patient_writes);
                made.push(Some(Made::Patient(patient)));
            }
            Checked::Entry(kind, data, source) => {
                pending.push((made.len(), record, kind, data, source));
                made.push(None);
            }
        }
    }
    let mut changes: Vec<ChartChange> = Vec::new();
    for (at, record, kind, data, source) in pending {
        let patient = match &record.patient {
            Some(PatientRef::Existing(id)) => *id,
            Some(PatientRef::InBundle(url)) => by_url[url.as_str()],
            None => return Err(ApiError::Internal("a chart record without its patient".into())),
        };
        let clinic = ctx.clinic()?;
        let change = match changes.iter().position(|c| c.patient == patient) {
            Some(i) => &mut changes[i],
            None => {
                changes.push(ChartChange::new(clinic, patient));
                changes.last_mut().expect("just pushed")
            }
        };
        let (entry, entry_writes) =
            chart::new_entry(ctx, change, kind, data, source, Vec::new()).await.map_err(|e| at_paths(record, e))?;
        check_bmi(record, &entry)?;
        writes.extend(entry_writes);
        made[at] = Some(Made::Entry(entry));
    }
    for change in &changes {
        writes.extend(change.guard_writes());
    }
    Ok((made.into_iter().flatten().collect(), writes))
}

/// A BMI the bundle gave is the one the weight and height taken with it give (Vellum derives it).
fn check_bmi(record: &Incoming, entry: &Entry) -> Result<(), ApiError> {
    let Some(part) = record.parts.iter().find(|p| p.bmi.is_some()) else { return Ok(()) };
    let given = part.bmi.unwrap_or_default();
    let derived = serde_json::from_value::<Vitals>(Value::Object(entry.data.clone())).ok().and_then(|v| v.bmi());
    let path = format!("Bundle.entry[{}].resource.valueQuantity.value", part.index);
    match derived {
        Some(derived) if (derived - given).abs() <= 0.1 => Ok(()),
        Some(derived) => Err(ApiError::field_rule(
            &path,
            format!("is {given}, but the weight and height taken at the same time give {derived}"),
        )),
        None => Err(ApiError::field_rule(
            &path,
            "is derived from the body weight and height taken at the same time: give those (Vellum derives the BMI)",
        )),
    }
}

/// A refusal of one record, with each field it names turned into its path in the bundle, and a chart rule's
/// refusal said of its entry; any other (a store failure) as it is.
fn at_paths(record: &Incoming, error: ApiError) -> ApiError {
    let at_entry = |make: fn(String, String) -> FieldError, message: String| ApiError::Invalid {
        errors: vec![make(record.path_of(""), message)],
    };
    match error {
        // The message keeps the field it is about, as Vellum names it: several may come from one element.
        ApiError::Invalid { errors } => ApiError::Invalid {
            errors: errors
                .into_iter()
                .map(|e| {
                    let message = if e.field.is_empty() { e.message } else { format!("{} ({})", e.message, e.field) };
                    FieldError { field: record.path_of(&e.field), message, ..e }
                })
                .collect(),
        },
        ApiError::Conflict(message) => at_entry(FieldError::unsuitable, message),
        ApiError::Unprocessable(message) => at_entry(FieldError::rule, message),
        other => other,
    }
}

/// The transaction-response: for each of the bundle's `given` entries, where what it became is read, and
/// what of it was not kept.
fn response_bundle(incoming: &[Incoming], made: &[Made], given: usize) -> Value {
    let mut entries = vec![Value::Null; given];
    for (record, made) in incoming.iter().zip(made) {
        for part in &record.parts {
            let (location, version, modified) = match made {
                Made::Patient(p) => (format!("Patient/{}", p.id), p.version, p.updated_at.clone()),
                Made::Entry(e) => {
                    let id = match part.measure {
                        Some(measure) => record_id(e.patient_id, e.id, Some(measure)),
                        None => chart_id(e, None),
                    };
                    (format!("{}/{id}", part.resource_type), e.version, e.updated_at.clone())
                }
            };
            let mut response = json!({
                "status": "201 Created",
                "location": format!("{location}/_history/{version}"),
                "etag": format!("W/\"{version}\""),
                "lastModified": modified,
            });
            if !part.not_kept.is_empty() {
                let issues: Vec<Value> = part
                    .not_kept
                    .iter()
                    .map(|element| {
                        json!({ "severity": "warning", "code": "not-supported",
                            "diagnostics": format!("{element} is not kept by Vellum"),
                            "expression": [format!("Bundle.entry[{}].resource.{element}", part.index)] })
                    })
                    .collect();
                response["outcome"] = json!({ "resourceType": "OperationOutcome", "issue": issues });
            }
            if let Some(slot) = entries.get_mut(part.index) {
                *slot = json!({ "response": response });
            }
        }
    }
    json!({ "resourceType": "Bundle", "type": "transaction-response", "entry": entries })
}
