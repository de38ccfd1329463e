//! The audit archive: the audit table's stream, written as chained, hashed batches of JSON lines to the
//! archive bucket (S3 with Object Lock on AWS, files in the data directory locally), each event exactly
//! once however often the stream delivers it; an overwritten or removed event is tampering, archived
//! with its old image, counted in an alarm metric and recorded as an event of its own.

pub mod batch;
pub mod local_stream;
pub mod verify;

/// A delivery of the audit table's stream, as Lambda hands it over.
pub use aws_lambda_events::dynamodb::Event as StreamEvent;

use std::sync::Arc;

use serde_json::{Value, json};

use self::batch::{Batch, GENESIS, canonical_line};
use crate::blobs::Blobs;
use crate::domain::audit::{AccessEvent, Outcome, Resource, UserIdentity};
use crate::domain::role::Role;
use crate::domain::values::{EntityId, UserId};
use crate::store::schema::{PK, SK};
use crate::store::{Cond, Item, Key, Records, StoreError, Table, Write};

/// One change the audit table's stream reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Insert(Item),
    Modify { old: Item, new: Item },
    Remove(Item),
}

/// One record of the stream: the change and the stream's sequence number for it.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    pub sequence: String,
    pub change: Change,
}

/// The records of a DynamoDB stream event, as the archive reads them (images as JSON items).
pub fn from_stream_event(event: StreamEvent) -> Result<Vec<StreamRecord>, String> {
    let image = |item: serde_dynamo::Item| -> Result<Item, String> {
        serde_dynamo::from_item(item).map_err(|e| format!("a stream image could not be read: {e}"))
    };
    event
        .records
        .into_iter()
        .map(|record| {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            let change = match record.event_name.as_str() {
                "INSERT" => Change::Insert(image(record.change.new_image)?),
                "MODIFY" => {
                    Change::Modify { old: image(record.change.old_image)?, new: image(record.change.new_image)? }
                }
                "REMOVE" => Change::Remove(image(record.change.old_image)?),
                other => return Err(format!("an unknown stream event {other}")),
            };
            Ok(StreamRecord { sequence, change })
        })
        .collect()
}

/// What one run of the archive did (counts only).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ArchiveReport {
    pub archived: usize,
    /// Delivered again: already in a batch.
    pub duplicates: usize,
    pub tampered: usize,
    pub batches: usize,
}

/// At most this many lines a batch: with the chain's head, one transaction of markers.
pub const BATCH_LINES: usize = 98;

/// The chain an event belongs to: its clinic, or `platform`.
fn chain_of(item: &Item) -> String {
    item.get("clinicId").and_then(Value::as_str).unwrap_or("platform").to_string()
}

fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Whether an audit item is an event itself, not a listed patient's copy of one.
fn is_original(item: &Item) -> bool {
    !text(item, PK).ends_with("#LISTED")
}

/// The record of a chain's last batch, in the records table.
pub fn head_key(chain: &str) -> Key {
    Key::new(format!("ARCHIVE#{chain}"), "HEAD")
}

/// The marker that one line was archived (an event by its sort key, a tamper report by its stream record).
fn marker_key(chain: &str, line_id: &str) -> Key {
    Key::new(format!("ARCHIVE#{chain}"), format!("LINE#{line_id}"))
}

/// A chain's head: its last batch's number and hash, and the head item's version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    pub version: u64,
}

pub async fn read_head(records: &dyn Records, chain: &str) -> Result<Option<Head>, StoreError> {
    Ok(records.get(Table::Records, &head_key(chain)).await?.map(|item| Head {
        seq: item.get("seq").and_then(Value::as_u64).unwrap_or(0),
        hash: text(&item, "hash"),
        version: item.get("version").and_then(Value::as_u64).unwrap_or(0),
    }))
}

/// The tamper metric, as a CloudWatch embedded-metric log line (the template's alarm watches it).
pub fn tamper_metric_line(count: usize) -> String {
    json!({
        "_aws": {"Timestamp": chrono::Utc::now().timestamp_millis(),
                 "CloudWatchMetrics": [{"Namespace": "Vellum", "Dimensions": [[]], "Metrics": [{"Name": "AuditTampering", "Unit": "Count"}]}]},
        "AuditTampering": count,
    })
    .to_string()
}

/// The archive: where batches go, and the records that hold each chain's head and line markers.
pub struct Archive {
    pub records: Arc<dyn Records>,
    pub blobs: Arc<dyn Blobs>,
}

impl Archive {
    /// Archives what one delivery of the stream holds; `now` stamps batches and tamper events. Safe to run
    /// again on the same records: what is in a batch already is not written twice.
    pub async fn handle(
        &self,
        records: Vec<StreamRecord>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ArchiveReport, String> {
        let mut report = ArchiveReport::default();
        // Lines by chain, in stream order: (line id, line).
        let mut chains: Vec<(String, Vec<(String, String)>)> = Vec::new();
        let mut tampered = Vec::new();
        for record in records {
            let (chain, id, line) = match &record.change {
                Change::Insert(item) if is_original(item) => (chain_of(item), text(item, SK), canonical_line(item)),
                Change::Insert(_) => continue,
                Change::Modify { old, new } => {
                    let entry = json!({"tamper": "modify", "oldImage": old, "newImage": new});
                    tampered.push(old.clone());
                    (chain_of(old), format!("TAMPER#{}", record.sequence), entry.to_string())
                }
                Change::Remove(old) => {
                    let entry = json!({"tamper": "remove", "oldImage": old});
                    tampered.push(old.clone());
                    (chain_of(old), format!("TAMPER#{}", record.sequence), entry.to_string())
                }
            };
            match chains.iter_mut().find(|(c, _)| *c == chain) {
                Some((_, lines)) => lines.push((id, line)),
                None => chains.push((chain, vec![(id, line)])),
            }
        }
        let stamp = crate::ids::sortable_time(now);
        for (chain, lines) in chains {
            for chunk in lines.chunks(BATCH_LINES) {
                self.archive_chunk(&chain, chunk, &stamp, &mut report).await?;
            }
        }
        if !tampered.is_empty() {
            report.tampered = tampered.len();
            println!("{}", tamper_metric_line(tampered.len()));
            tracing::error!(count = tampered.len(), "audit events were overwritten or removed");
            let events: Vec<Write> = tampered.iter().map(|old| tamper_event(old, now).to_write()).collect();
            for chunk in events.chunks(crate::store::limits::MAX_TRANSACTION_WRITES) {
                self.records.transact(chunk.to_vec()).await.map_err(|e| e.to_string())?;
            }
        }
        Ok(report)
    }

    /// Writes the lines not archived yet as the chain's next batch: the object first, then the head and
    /// the lines' markers in one transaction (a failed transaction leaves an object version nobody names,
    /// and the next attempt writes the batch again).
    async fn archive_chunk(
        &self,
        chain: &str,
        lines: &[(String, String)],
        stamp: &str,
        report: &mut ArchiveReport,
    ) -> Result<(), String> {
        let store = |e: StoreError| e.to_string();
        for _attempt in 0..3 {
            let mut fresh = Vec::new();
            for (id, line) in lines {
                if self.records.get(Table::Records, &marker_key(chain, id)).await.map_err(store)?.is_none() {
                    fresh.push((id, line));
                }
            }
            if fresh.is_empty() {
                report.duplicates += lines.len();
                return Ok(());
            }
            let head = read_head(self.records.as_ref(), chain).await.map_err(store)?;
            let (seq, prev, cond) = match &head {
                Some(h) => (h.seq + 1, h.hash.clone(), Cond::VersionIs(h.version)),
                None => (1, GENESIS.to_string(), Cond::NotExists),
            };
            let batch = Batch::new(chain, seq, &prev, fresh.iter().map(|(_, l)| (*l).clone()).collect(), stamp);
            self.blobs
                .put(&Batch::object_key(chain, seq), batch.to_bytes(), "application/x-ndjson")
                .await
                .map_err(|e| e.to_string())?;
            let mut head_item = Item::new();
            let key = head_key(chain);
            head_item.insert(PK.into(), json!(key.pk));
            head_item.insert(SK.into(), json!(key.sk));
            head_item.insert("seq".into(), json!(seq));
            head_item.insert("hash".into(), json!(batch.hash()));
            head_item.insert("version".into(), json!(head.as_ref().map_or(1, |h| h.version + 1)));
            let mut writes = vec![Write::put(Table::Records, head_item, cond)];
            for (id, _) in &fresh {
                let key = marker_key(chain, id);
                let mut marker = Item::new();
                marker.insert(PK.into(), json!(key.pk));
                marker.insert(SK.into(), json!(key.sk));
                marker.insert("seq".into(), json!(seq));
                writes.push(Write::put(Table::Records, marker, Cond::NotExists));
            }
            match self.records.transact(writes).await {
                Ok(()) => {
                    report.archived += fresh.len();
                    report.duplicates += lines.len() - fresh.len();
                    report.batches += 1;
                    return Ok(());
                }
                Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!("the {chain} chain kept moving under the archive; the delivery will be retried"))
    }
}

/// The event that records an overwritten or removed audit event (ids only: which event, where).
fn tamper_event(old: &Item, now: chrono::DateTime<chrono::Utc>) -> AccessEvent {
    let system = <UserId as crate::domain::fields::ParseStr>::parse_str(
        "audit-archive",
        &crate::domain::fields::Context::timeless(),
    )
    .unwrap_or_else(|_| unreachable!("a valid user id"));
    AccessEvent {
        event_id: EntityId(ulid::Ulid::new()),
        event_time: crate::ids::sortable_time(now),
        event_name: "audit.tamper".into(),
        event_source: "audit-archive".into(),
        clinic_id: old.get("clinicId").and_then(Value::as_str).and_then(EntityId::parse),
        user_identity: UserIdentity { user_id: system, role: Role::System },
        source_ip_address: None,
        user_agent: None,
        request_id: text(old, "requestId"),
        resources: vec![Resource::new("audit-event", text(old, "eventId"))],
        patient_id: old.get("patientId").and_then(Value::as_str).and_then(EntityId::parse),
        listed_patients: Vec::new(),
        outcome: Outcome::Error,
        error_code: Some("tampered".into()),
        reason: Some("an audit event was overwritten or removed".into()),
    }
}
