//! Verification of one chain of the archive: walking back from the batch its head names, every batch is
//! there under its own hash, in its place, matches its line hashes and root, and names the one before it,
//! down to the first; and for a time window, the table and the archive hold the same events with the same
//! content (events the retention job removed from the table excepted). Each break is named. Objects the
//! walk does not reach (a batch whose commit failed and was written again) are counted, not breaks.

use std::collections::BTreeMap;

use serde_json::Value;

use super::batch::{Batch, GENESIS, canonical_line};
use super::read_head;
use crate::blobs::Blobs;
use crate::crypto::sha256_hex;
use crate::store::schema::SK;
use crate::store::{Query, Records, SkRange, Table, query_all};

/// What the verifier found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    pub batches: usize,
    /// Events in the archive within the window.
    pub archived_events: usize,
    /// Events in the table within the window.
    pub table_events: usize,
    /// Batch objects the chain does not reach (left by a commit that failed and was retried).
    pub unreferenced: usize,
    /// Recent events in the table that the stream has not brought to the archive yet.
    pub pending: usize,
    /// Archived events of the window that the retention job has removed from the table, as it may.
    pub retired: usize,
    /// Where each archived event of the window is: its sort key → the batch's place and name.
    pub located: BTreeMap<String, (u64, String)>,
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

/// An event's sort key and the hash of its canonical line, if the line is an event's.
fn event_of(item: &serde_json::Map<String, Value>) -> Option<(String, String, String)> {
    let sk = item.get(SK).and_then(Value::as_str)?.to_string();
    let id = item.get("eventId").and_then(Value::as_str).unwrap_or("").to_string();
    Some((sk, id, sha256_hex(canonical_line(item).as_bytes())))
}

/// Where the walk down the chain may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth<'a> {
    /// Down to the chain's first batch.
    Whole,
    /// Down to the first batch written before this sortable time (with it): the batches below it hold
    /// only older events.
    WrittenSince(&'a str),
}

/// The events compared: sortable times, open ends allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// Events written at or after this time may still be on their way through the stream: one the archive
    /// lacks is counted as pending, not as a break. Without it, every event must be archived.
    pub settled_before: Option<&'a str>,
}

/// How long an event may take through the stream into the archive before its absence is a break.
pub const SETTLING_MINUTES: i64 = 15;

/// The settling bound of a verification made at `now`.
pub fn settled_before(now: chrono::DateTime<chrono::Utc>) -> String {
    crate::ids::sortable_time(now - chrono::Duration::minutes(SETTLING_MINUTES))
}

/// Verifies `chain`'s batches as deep as `depth` says, and its events in `window`.
pub async fn verify(
    records: &dyn Records,
    blobs: &dyn Blobs,
    chain: &str,
    window: Window<'_>,
    depth: Depth<'_>,
) -> Result<Verification, String> {
    let Window { from, to, settled_before } = window;
    let mut out = Verification::default();
    let head = read_head(records, chain).await.map_err(|e| e.to_string())?;
    // Every batch object of the chain, by place.
    let mut objects: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = blobs.list(&Batch::chain_prefix(chain), after.as_deref()).await.map_err(|e| e.to_string())?;
        for object in &page.objects {
            if let Some((seq, hash)) = Batch::parse_key(&object.key) {
                objects.entry(seq).or_default().push(hash);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Archived events in the window: sort key → (event id, line hash).
    let mut archived: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut expected = head.as_ref().map(|h| h.hash.clone());
    let mut seq = head.as_ref().map_or(0, |h| h.seq);
    let mut lowest = seq.max(1);
    while seq >= 1 {
        // After a break, the walk goes on with the one object in the place below, if there is just one.
        let name = expected.take().or_else(|| match objects.get(&seq).map(Vec::as_slice) {
            Some([only]) => Some(only.clone()),
            _ => None,
        });
        let Some(name) = name else {
            out.findings.push(format!("batch {seq} is missing, and the chain cannot be followed below it"));
            break;
        };
        let bytes = blobs.get(&Batch::object_key(chain, seq, &name)).await.map_err(|e| e.to_string())?;
        let Some(bytes) = bytes else {
            out.findings.push(format!("batch {seq} is missing"));
            seq -= 1;
            continue;
        };
        let batch = match Batch::parse(&bytes) {
            Ok(batch) => batch,
            Err(e) => {
                out.findings.push(format!("batch {seq}: {e}"));
                seq -= 1;
                continue;
            }
        };
        out.batches += 1;
        let intact = batch.hash() == name;
        if !intact {
            out.findings.push(format!("batch {seq}'s content does not match its name: it was changed or moved"));
        }
        if batch.header.seq != seq || batch.header.chain != chain {
            out.findings.push(format!(
                "batch {seq} holds batch {} of chain {}: batches were moved or reordered",
                batch.header.seq, batch.header.chain
            ));
        }
        if seq == 1 && batch.header.prev_hash != GENESIS {
            out.findings.push("batch 1 does not start the chain".into());
        }
        out.findings.extend(batch.problems().into_iter().map(|p| format!("batch {seq}: {p}")));
        for line in &batch.lines {
            let Ok(Value::Object(item)) = serde_json::from_str::<Value>(line) else { continue };
            if item.contains_key("tamper") {
                continue;
            }
            if let Some((sk, id, hash)) = event_of(&item).filter(|(sk, ..)| within(sk, from, to)) {
                out.located.insert(sk.clone(), (seq, name.clone()));
                if archived.insert(sk, (id.clone(), hash)).is_some() {
                    out.findings.push(format!("event {id} is archived twice"));
                }
            }
        }
        expected = intact.then(|| batch.header.prev_hash.clone());
        lowest = seq;
        seq -= 1;
        if let Depth::WrittenSince(since) = depth
            && batch.header.created_at.as_str() < since
        {
            break;
        }
    }
    let listed: usize = objects.range(lowest..).map(|(_, names)| names.len()).sum();
    out.unreferenced = listed.saturating_sub(out.batches);
    out.archived_events = archived.len();

    let mut in_table: BTreeMap<String, (String, String)> = BTreeMap::new();
    // Sort keys start with the time; "~" sorts after every time that shares the bound's prefix.
    let range = SkRange::Between(from.unwrap_or("0").to_string(), format!("{}~", to.unwrap_or("9")));
    let query = Query::new(Table::Audit, partition(chain)).sk(range).limit(1000);
    for item in query_all(records, query).await.map_err(|e| e.to_string())? {
        if let Some((sk, id, hash)) = event_of(&item).filter(|(sk, ..)| within(sk, from, to)) {
            in_table.insert(sk, (id, hash));
        }
    }
    out.table_events = in_table.len();
    for (sk, (id, hash)) in &in_table {
        match archived.get(sk) {
            None if settled_before.is_some_and(|settled| sk.as_str() >= settled) => out.pending += 1,
            None => out.findings.push(format!("event {id} is in the table but not in the archive")),
            Some((_, archived_hash)) if archived_hash != hash => {
                out.findings.push(format!("event {id} differs between the table and the archive"));
            }
            Some(_) => {}
        }
    }
    let retired_before = super::retire::read_watermark(records, chain).await.map_err(|e| e.to_string())?;
    for (sk, (id, _)) in &archived {
        if in_table.contains_key(sk) {
            continue;
        }
        match &retired_before {
            Some(mark) if sk.as_str() < mark.before.as_str() => out.retired += 1,
            _ => out.findings.push(format!("event {id} is in the archive but not in the table")),
        }
    }
    Ok(out)
}
