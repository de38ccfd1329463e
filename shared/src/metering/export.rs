//! The billing export: each closed month as meter events shaped like Stripe's (`event_name`,
//! `payload.stripe_customer_id`, `payload.value`, `identifier`, `timestamp`), one JSON line each, in the
//! audit archive's store under `exports/usage/<YYYY-MM>/` (on AWS its bucket, under Object Lock like the
//! trail; locally the data directory's archive folder). Nothing here calls a payment provider: whoever
//! bills reads the file. An event's identifier names its month, clinic and unit, and a month's file is
//! the same however often it is made, so exporting twice is harmless (and the provider drops an
//! identifier it has seen).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::Unit;
use super::meter::{closes_at, month_totals};
use super::plan::Plan;
use crate::blobs::{BlobError, Blobs};
use crate::domain::values::EntityId;
use crate::store::{Records, StoreError};

/// Where the exports are kept, a folder per month.
pub const PREFIX: &str = "exports/usage/";

/// Why a month was not exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the month {0} is not closed yet")]
    Open(String),
    #[error("month must be written YYYY-MM, not {0}")]
    BadMonth(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blobs(#[from] BlobError),
}

/// What one export did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportReport {
    pub month: String,
    /// Meter events in the file.
    pub events: usize,
    /// Clinics with billable use and a billing customer.
    pub clinics: usize,
    /// Clinics with billable use but no billing customer on their plan: in the manifest, not the file.
    pub without_customer: Vec<EntityId>,
    /// False when the same file was there already.
    pub written: bool,
}

impl ExportReport {
    pub fn to_json(&self) -> Value {
        json!({"month": self.month, "events": self.events, "clinics": self.clinics,
               "withoutCustomer": self.without_customer, "written": self.written})
    }
}

/// The key of a month's file of meter events, and of its manifest.
pub fn keys(month: &str) -> (String, String) {
    (format!("{PREFIX}{month}/meter-events.jsonl"), format!("{PREFIX}{month}/manifest.json"))
}

/// The event name of a unit (`record-write` → `vellum_record_write`).
pub fn event_name(unit: Unit) -> String {
    format!("vellum_{}", unit.as_str().replace('-', "_"))
}

/// The latest month closed at `now`.
pub fn last_closed_month(now: DateTime<Utc>) -> NaiveDate {
    let this = super::meter::month_of(now.date_naive());
    let previous = this.checked_sub_months(chrono::Months::new(1)).unwrap_or(this);
    match now >= closes_at(previous) {
        true => previous,
        false => previous.checked_sub_months(chrono::Months::new(1)).unwrap_or(previous),
    }
}

/// Exports the month that starts on `first`, once it is closed.
pub async fn export(
    records: &dyn Records,
    blobs: &dyn Blobs,
    first: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ExportReport, ExportError> {
    let month = first.format("%Y-%m").to_string();
    if now < closes_at(first) {
        return Err(ExportError::Open(month));
    }
    let clinics = month_totals(records, first, None).await?;
    // The month's last second: the use happened within it.
    let timestamp = closes_at(first).timestamp() - super::meter::GRACE.num_seconds() - 1;
    let mut lines = String::new();
    let (mut events, mut billed, mut without_customer) = (0, 0, Vec::new());
    for (clinic, mut units) in clinics {
        let plan = Plan::of(records, clinic).await?;
        units.sort();
        let billable: Vec<(Unit, u64)> = units
            .into_iter()
            .filter(|(unit, _)| plan.price_of(*unit) > 0)
            .map(|(unit, count)| (unit, plan.billable(unit, count)))
            .filter(|(_, value)| *value > 0)
            .collect();
        if billable.is_empty() {
            continue;
        }
        let Some(customer) = &plan.stripe_customer_id else {
            without_customer.push(clinic);
            continue;
        };
        billed += 1;
        for (unit, value) in billable {
            let event = json!({
                "event_name": event_name(unit),
                "identifier": format!("vellum-{month}-{clinic}-{unit}"),
                "payload": {"stripe_customer_id": customer, "value": value.to_string()},
                "timestamp": timestamp,
            });
            lines.push_str(&event.to_string());
            lines.push('\n');
            events += 1;
        }
    }
    let (events_key, manifest_key) = keys(&month);
    let manifest = json!({
        "month": month, "events": events, "clinics": billed, "withoutCustomer": without_customer,
        "file": events_key, "sha256": crate::crypto::sha256_hex(lines.as_bytes()),
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    // Each object is written only when it differs from the one there (the file first, its manifest last).
    let mut written = false;
    for (key, bytes, content_type) in
        [(events_key, lines.into_bytes(), "application/x-ndjson"), (manifest_key, manifest, "application/json")]
    {
        if blobs.get(&key).await?.as_deref() != Some(bytes.as_slice()) {
            blobs.put(&key, bytes, content_type).await?;
            written = true;
        }
    }
    Ok(ExportReport { month, events, clinics: billed, without_customer, written })
}

/// What the `usage-export` function does with an event: its schedule's exports the latest closed month;
/// one invoked by hand with `{"month": "YYYY-MM"}` exports that month (again).
pub async fn handle(
    records: &dyn Records,
    blobs: &dyn Blobs,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<ExportReport, ExportError> {
    let month = match event.get("month") {
        None => last_closed_month(now),
        Some(month) => month
            .as_str()
            .and_then(super::meter::month_start)
            .ok_or_else(|| ExportError::BadMonth(month.to_string()))?,
    };
    export(records, blobs, month, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_closed_month_waits_for_its_grace_day() {
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(last_closed_month(at("2026-12-01T12:00:00Z")), "2026-10-01".parse().unwrap());
        assert_eq!(last_closed_month(at("2026-12-02T00:00:00Z")), "2026-11-01".parse().unwrap());
        assert_eq!(event_name(Unit::RecordWrite), "vellum_record_write");
    }
}
