//! Verification of one chain of the archive: every batch from the first to the head is there, in place,
//! follows the one before it and matches its own hashes; and for a time window, every event the audit
//! table holds is in the archive and every archived event is in the table. Each break is named.

use std::collections::BTreeMap;

use serde_json::Value;

use super::batch::{Batch, GENESIS};
use super::read_head;
use crate::blobs::Blobs;
use crate::store::schema::SK;
use crate::store::{Query, Records, SkRange, Table};

/// What the verifier found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    pub batches: usize,
    /// Events in the archive within the window.
    pub archived_events: usize,
    /// Events in the table within the window.
    pub table_events: usize,
    pub findings: Vec<String>,
}

impl Verification {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The audit table's partition of a chain.
fn partition(chain: &str) -> String {
    match chain {
        "platform" => crate::domain::keys::audit_pk(None),
        clinic => format!("CLINIC#{clinic}"),
    }
}

/// Whether an event's sort key (`<time>#<id>`) is within `from`..=`to` (sortable times; open ends).
fn within(sk: &str, from: Option<&str>, to: Option<&str>) -> bool {
    from.is_none_or(|f| sk >= f) && to.is_none_or(|t| sk.split('#').next().unwrap_or("") <= t)
}

/// Verifies `chain`'s batches, and its events between the sortable times `from` and `to`.
pub async fn verify(
    records: &dyn Records,
    blobs: &dyn Blobs,
    chain: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Verification, String> {
    let mut out = Verification::default();
    let head = read_head(records, chain).await.map_err(|e| e.to_string())?;
    let last = head.as_ref().map_or(0, |h| h.seq);
    // Archived events in the window: sort key → event id.
    let mut archived: BTreeMap<String, String> = BTreeMap::new();
    let mut prev: Option<String> = Some(GENESIS.to_string());
    for seq in 1..=last {
        let Some(bytes) = blobs.get(&Batch::object_key(chain, seq)).await.map_err(|e| e.to_string())? else {
            out.findings.push(format!("batch {seq} is missing"));
            prev = None;
            continue;
        };
        let batch = match Batch::parse(&bytes) {
            Ok(batch) => batch,
            Err(e) => {
                out.findings.push(format!("batch {seq}: {e}"));
                prev = None;
                continue;
            }
        };
        out.batches += 1;
        if batch.header.seq != seq || batch.header.chain != chain {
            out.findings.push(format!(
                "batch {seq} holds batch {} of chain {}: batches were moved or reordered",
                batch.header.seq, batch.header.chain
            ));
        }
        if prev.as_ref().is_some_and(|p| *p != batch.header.prev_hash) {
            out.findings
                .push(format!("batch {seq} does not follow batch {} (its previous-batch hash differs)", seq - 1));
        }
        out.findings.extend(batch.problems().into_iter().map(|p| format!("batch {seq}: {p}")));
        for line in &batch.lines {
            let Ok(Value::Object(item)) = serde_json::from_str::<Value>(line) else { continue };
            if item.contains_key("tamper") {
                continue;
            }
            let sk = item.get(SK).and_then(Value::as_str).unwrap_or("").to_string();
            if within(&sk, from, to) {
                let id = item.get("eventId").and_then(Value::as_str).unwrap_or("").to_string();
                if archived.insert(sk, id.clone()).is_some() {
                    out.findings.push(format!("event {id} is archived twice"));
                }
            }
        }
        prev = Some(batch.hash());
    }
    if let (Some(head), Some(prev)) = (&head, &prev)
        && head.hash != *prev
    {
        out.findings.push(format!("batch {last} is not the batch the chain's head names"));
    }
    let listed = blobs.list(&format!("audit/{chain}/"), None).await.map_err(|e| e.to_string())?;
    for object in listed.objects {
        let seq = object.key.rsplit('/').next().and_then(|n| n.trim_end_matches(".jsonl").parse::<u64>().ok());
        if seq.is_some_and(|s| s > last) {
            out.findings.push(format!("{} is not in the chain (past its head)", object.key));
        }
    }
    out.archived_events = archived.len();

    let mut in_table: BTreeMap<String, String> = BTreeMap::new();
    let mut after = None;
    loop {
        let query = Query::new(Table::Audit, partition(chain)).sk(SkRange::All).limit(1000).start_after(after);
        let page = records.query(query).await.map_err(|e| e.to_string())?;
        for item in page.items {
            let sk = item.get(SK).and_then(Value::as_str).unwrap_or("").to_string();
            if within(&sk, from, to) {
                in_table.insert(sk, item.get("eventId").and_then(Value::as_str).unwrap_or("").to_string());
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.table_events = in_table.len();
    for (sk, id) in &in_table {
        if !archived.contains_key(sk) {
            out.findings.push(format!("event {id} is in the table but not in the archive"));
        }
    }
    for (sk, id) in &archived {
        if !in_table.contains_key(sk) {
            out.findings.push(format!("event {id} is in the archive but not in the table"));
        }
    }
    Ok(out)
}
