//! The audit archive: the audit table's stream, written as chained, hashed batches of JSON lines to the
//! archive bucket (S3 with Object Lock on AWS, files in the data directory locally), each event exactly
//! once however often the stream delivers it; an overwritten or removed event is tampering (unless the
//! retention job removed it after verifying it here), archived with its old image, counted in an alarm
//! metric and recorded as an event of its own.

pub mod batch;
pub mod local_stream;
pub mod retire;
pub mod verify;

/// A delivery of the audit table's stream, as Lambda hands it over.
pub use aws_lambda_events::dynamodb::Event as StreamEvent;

use std::sync::Arc;

use serde_json::{Value, json};

use self::batch::{Batch, GENESIS, canonical_line};
use crate::blobs::Blobs;
use crate::domain::audit::{AccessEvent, Outcome, Resource};
use crate::domain::values::EntityId;
use crate::store::schema::{PK, SK};
use crate::store::{Cond, Item, Key, Records, StoreError, Table, Write, entity_item, str_attr};

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
    /// Removals by the retention job (events it verified in the archive first).
    pub retired: usize,
}

/// At most this many lines a batch: with the chain's head, one transaction of markers (100 writes). The
/// stream hands the function deliveries of this size, so a delivery is one batch per chain.
pub const BATCH_LINES: usize = 99;

/// The chain an event belongs to: its clinic, or `platform`.
fn chain_of(item: &Item) -> String {
    item.get("clinicId").and_then(Value::as_str).unwrap_or("platform").to_string()
}

fn text(item: &Item, name: &str) -> String {
    str_attr(item, name).unwrap_or("").to_string()
}

/// Whether an audit item is an event itself, not a listed patient's copy of one.
fn is_original(item: &Item) -> bool {
    !text(item, PK).contains("#LISTED")
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

/// One line for a chain, and (for a tamper report) the event that records it, written with its batch.
struct Line {
    id: String,
    text: String,
    tamper_event: Option<AccessEvent>,
}

/// At most this many tamper reports a batch: each also writes its event in the batch's transaction.
const TAMPER_LINES: usize = 49;

impl Archive {
    /// Archives what one delivery of the stream holds; `now` stamps batches and tamper events. Safe to run
    /// again on the same records: a line already in a batch is not written twice, and neither is the
    /// event that records a tampering (it commits with the batch that holds its line).
    pub async fn handle(
        &self,
        records: Vec<StreamRecord>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ArchiveReport, String> {
        let mut report = ArchiveReport::default();
        // Lines by chain, in stream order.
        let mut chains: Vec<(String, Vec<Line>)> = Vec::new();
        let mut watermarks: std::collections::HashMap<String, Option<retire::Watermark>> = Default::default();
        for record in records {
            // A removal the retention job made, below its chain's watermark, is retirement.
            if let Change::Remove(old) = &record.change {
                let chain = chain_of(old);
                if !watermarks.contains_key(&chain) {
                    let mark =
                        retire::read_watermark(self.records.as_ref(), &chain).await.map_err(|e| e.to_string())?;
                    watermarks.insert(chain.clone(), mark);
                }
                if watermarks[&chain].as_ref().is_some_and(|m| text(old, SK) < m.before) {
                    report.retired += 1;
                    continue;
                }
            }
            let (chain, line) = match &record.change {
                Change::Insert(item) if is_original(item) => {
                    (chain_of(item), Line { id: text(item, SK), text: canonical_line(item), tamper_event: None })
                }
                Change::Insert(_) => continue,
                Change::Modify { old, new } => {
                    let entry = json!({"tamper": "modify", "oldImage": old, "newImage": new});
                    (chain_of(old), tamper_line(&record.sequence, entry, old, now))
                }
                Change::Remove(old) => {
                    let entry = json!({"tamper": "remove", "oldImage": old});
                    (chain_of(old), tamper_line(&record.sequence, entry, old, now))
                }
            };
            match chains.iter_mut().find(|(c, _)| *c == chain) {
                Some((_, lines)) => lines.push(line),
                None => chains.push((chain, vec![line])),
            }
        }
        let stamp = crate::ids::sortable_time(now);
        for (chain, lines) in chains {
            let (tampers, inserts): (Vec<Line>, Vec<Line>) = lines.into_iter().partition(|l| l.tamper_event.is_some());
            for chunk in inserts.chunks(BATCH_LINES).chain(tampers.chunks(TAMPER_LINES)) {
                self.archive_chunk(&chain, chunk, &stamp, &mut report).await?;
            }
        }
        if report.tampered > 0 {
            println!("{}", tamper_metric_line(report.tampered));
            tracing::error!(count = report.tampered, "audit events were overwritten or removed");
        }
        Ok(report)
    }

    /// Writes the lines not archived yet as the chain's next batch: the object first (named by its hash,
    /// so a racing writer never replaces it), then, in one transaction on the head's version, the head,
    /// the lines' markers and the events of any tampering. A failed transaction leaves an object nobody
    /// names, and the next attempt writes the batch again.
    async fn archive_chunk(
        &self,
        chain: &str,
        lines: &[Line],
        stamp: &str,
        report: &mut ArchiveReport,
    ) -> Result<(), String> {
        let store = |e: StoreError| e.to_string();
        for _attempt in 0..3 {
            let mut fresh = Vec::new();
            for line in lines {
                if self.records.get(Table::Records, &marker_key(chain, &line.id)).await.map_err(store)?.is_none() {
                    fresh.push(line);
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
            let batch = Batch::new(chain, seq, &prev, fresh.iter().map(|l| l.text.clone()).collect(), stamp);
            let hash = batch.hash();
            self.blobs
                .put(&Batch::object_key(chain, seq, &hash), batch.to_bytes(), "application/x-ndjson")
                .await
                .map_err(|e| e.to_string())?;
            let version = head.as_ref().map_or(1, |h| h.version + 1);
            let mut head_item =
                entity_item(&head_key(chain), &json!({"seq": seq, "hash": hash, "version": version, "chain": chain}));
            head_item.extend(retire::chain_listing(chain).map(|(name, value)| (name.to_string(), json!(value))));
            let mut writes = vec![Write::put(Table::Records, head_item, cond)];
            for line in &fresh {
                let marker = entity_item(&marker_key(chain, &line.id), &json!({"seq": seq}));
                writes.push(Write::put(Table::Records, marker, Cond::NotExists));
            }
            writes.extend(fresh.iter().filter_map(|l| l.tamper_event.as_ref()).map(AccessEvent::to_write));
            match self.records.transact(writes).await {
                Ok(()) => {
                    let tampered = fresh.iter().filter(|l| l.tamper_event.is_some()).count();
                    report.tampered += tampered;
                    report.archived += fresh.len() - tampered;
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

/// The archive line of a tampering, with the event that records it.
fn tamper_line(sequence: &str, entry: Value, old: &Item, now: chrono::DateTime<chrono::Utc>) -> Line {
    Line { id: format!("TAMPER#{sequence}"), text: entry.to_string(), tamper_event: Some(tamper_event(old, now)) }
}

/// The event that records an overwritten or removed audit event (ids only: which event, where).
fn tamper_event(old: &Item, now: chrono::DateTime<chrono::Utc>) -> AccessEvent {
    let clinic = old.get("clinicId").and_then(Value::as_str).and_then(EntityId::parse);
    AccessEvent {
        request_id: text(old, "requestId"),
        resources: vec![Resource::new("audit-event", text(old, "eventId"))],
        patient_id: old.get("patientId").and_then(Value::as_str).and_then(EntityId::parse),
        outcome: Outcome::Error,
        error_code: Some("tampered".into()),
        reason: Some("an audit event was overwritten or removed".into()),
        ..AccessEvent::by_system("audit-archive", "audit.tamper", clinic, crate::ids::sortable_time(now))
    }
}
