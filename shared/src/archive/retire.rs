//! Retention: events older than the table's window leave the audit table, but only after the verifier has
//! confirmed, in the same run, that the archive holds each of them unchanged. The chain's watermark moves
//! first (with an `audit.retire` event), so the archive takes the removals that follow as retirement, not
//! tampering; and each event leaves pointers to its line in the archive (by trail, patient and actor), so
//! the trail and the access logs read on from the archive.

use serde_json::{Value, json};

use super::verify::{Depth, Window, verify};
use super::{Archive, text};
use crate::domain::audit::{AccessEvent, Resource};
use crate::domain::keys;
use crate::domain::values::{EntityId, UserId};
use crate::store::limits::MAX_TRANSACTION_WRITES;
use crate::store::schema::{Index, PK, SK};
use crate::store::{Cond, Item, Key, Query, Records, SkRange, StoreError, Table, Write, entity_item, query_all};

/// How long events stay in the audit table by default (`VELLUM_AUDIT_RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
/// The shortest window allowed: the stream keeps a change for a day, so the archive has it well before.
pub const MIN_RETENTION_DAYS: i64 = 7;
/// At most this many events leave the table in one run per chain; the next run goes on.
pub const EVENTS_PER_RUN: usize = 20_000;

/// The partition that lists every chain's head (on the records table's first index).
pub const CHAINS_INDEX: &str = "ARCHIVE-CHAINS";

/// A chain's retirement watermark: events before `before` may have left the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watermark {
    pub before: String,
    pub version: u64,
}

fn watermark_key(chain: &str) -> Key {
    Key::new(format!("ARCHIVE#{chain}"), "RETIRED")
}

pub async fn read_watermark(records: &dyn Records, chain: &str) -> Result<Option<Watermark>, StoreError> {
    Ok(records.get(Table::Records, &watermark_key(chain)).await?.map(|item| Watermark {
        before: text(&item, "before"),
        version: item.get("version").and_then(Value::as_u64).unwrap_or(0),
    }))
}

/// Where a retired event is pointed to from: the chain's trail, a patient's log, an actor's events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pointers {
    Trail,
    Patient(EntityId),
    Actor(UserId),
}

impl Pointers {
    /// The records partition of these pointers for `chain`; each item's sort key is the event's.
    pub fn partition(&self, chain: &str) -> String {
        match self {
            Pointers::Trail => format!("RETIRED#{chain}#TRAIL"),
            Pointers::Patient(patient) => format!("RETIRED#{chain}#PATIENT#{patient}"),
            Pointers::Actor(user) => format!("RETIRED#{chain}#ACTOR#{user}"),
        }
    }
}

/// What one run did (counts only).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetireReport {
    pub chains: usize,
    pub retired: usize,
    /// Chains whose verification failed: nothing of theirs left the table.
    pub refused: Vec<String>,
}

impl RetireReport {
    pub fn to_json(&self) -> Value {
        json!({"chains": self.chains, "retired": self.retired, "refused": self.refused.len()})
    }
}

/// Every chain the archive has a head for.
pub async fn chains(records: &dyn Records) -> Result<Vec<String>, StoreError> {
    let query = Query::new(Table::Records, CHAINS_INDEX).index(Index::Gsi1).sk(SkRange::All).limit(1000);
    Ok(query_all(records, query).await?.iter().map(|item| text(item, "chain")).filter(|c| !c.is_empty()).collect())
}

/// The index attributes that list a chain's head under `CHAINS_INDEX`.
pub fn chain_listing(chain: &str) -> [(&'static str, String); 2] {
    let (pk, sk) = Index::Gsi1.attrs();
    [(pk, CHAINS_INDEX.to_string()), (sk, chain.to_string())]
}

/// Retires, in every chain, the events older than `retention_days` before `now`.
pub async fn retire(
    archive: &Archive,
    now: chrono::DateTime<chrono::Utc>,
    retention_days: i64,
) -> Result<RetireReport, String> {
    let cutoff = crate::ids::sortable_time(now - chrono::Duration::days(retention_days));
    let mut report = RetireReport::default();
    for chain in chains(archive.records.as_ref()).await.map_err(|e| e.to_string())? {
        report.chains += 1;
        match retire_chain(archive, &chain, &cutoff, now).await? {
            Some(count) => report.retired += count,
            None => report.refused.push(chain),
        }
    }
    if !report.refused.is_empty() {
        tracing::error!(
            chains = report.refused.len(),
            "the archive did not verify: nothing of those chains was retired"
        );
    }
    Ok(report)
}

/// Retires one chain's events before `cutoff`: the count, or `None` when the archive did not verify.
async fn retire_chain(
    archive: &Archive,
    chain: &str,
    cutoff: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<usize>, String> {
    let records = archive.records.as_ref();
    let store = |e: StoreError| e.to_string();
    let old = Query::new(Table::Audit, audit_partition(chain)).sk(SkRange::Between("0".into(), cutoff.into()));
    let mut due = records.query(old.limit(EVENTS_PER_RUN)).await.map_err(store)?.items;
    due.retain(|item| text(item, SK).as_str() < cutoff);
    if due.is_empty() {
        return Ok(Some(0));
    }
    // Every event up to the cutoff must be in the archive, unchanged, in a whole chain.
    let window = Window { to: Some(cutoff), ..Window::default() };
    let found = verify(records, archive.blobs.as_ref(), chain, window, Depth::Whole).await?;
    if !found.passed() {
        return Ok(None);
    }
    let mark = read_watermark(records, chain).await.map_err(store)?;
    if mark.as_ref().is_none_or(|m| m.before.as_str() < cutoff) {
        let version = mark.as_ref().map_or(1, |m| m.version + 1);
        let cond = mark.as_ref().map_or(Cond::NotExists, |m| Cond::VersionIs(m.version));
        let item = entity_item(&watermark_key(chain), &json!({"before": cutoff, "version": version}));
        let event = retire_event(chain, cutoff, now);
        records.transact(vec![Write::put(Table::Records, item, cond), event.to_write()]).await.map_err(store)?;
    }
    let mut retired = 0;
    for chunk in due.chunks(MAX_TRANSACTION_WRITES / 2) {
        let mut pointers = Vec::new();
        let mut removals = Vec::new();
        for event in chunk {
            let sk = text(event, SK);
            let Some((seq, name)) = found.located.get(&sk) else {
                return Err(format!("a verified event of chain {chain} has no place in the archive"));
            };
            for at in pointers_of(event) {
                let pointer = entity_item(&Key::new(at.partition(chain), &sk), &json!({"seq": seq, "batch": name}));
                pointers.push(Write::put(Table::Records, pointer, Cond::Always));
            }
            // Unconditional: a rerun after a failure finds some already gone.
            removals.push(Write::Delete {
                table: Table::Audit,
                key: Key::new(text(event, PK), &sk),
                cond: Cond::Always,
            });
            if let Some(clinic) = EntityId::parse(chain) {
                for patient in listed(event) {
                    let copy = Key::new(keys::audit_listed_pk(clinic, patient), &sk);
                    removals.push(Write::Delete { table: Table::Audit, key: copy, cond: Cond::Always });
                }
            }
        }
        // Pointers first (a rerun writes them again), then the events and their copies.
        for writes in pointers.chunks(MAX_TRANSACTION_WRITES) {
            records.transact(writes.to_vec()).await.map_err(store)?;
        }
        for writes in removals.chunks(MAX_TRANSACTION_WRITES) {
            records.transact(writes.to_vec()).await.map_err(store)?;
        }
        retired += chunk.len();
    }
    Ok(Some(retired))
}

fn audit_partition(chain: &str) -> String {
    match chain {
        "platform" => keys::audit_pk(None),
        clinic => format!("CLINIC#{clinic}"),
    }
}

/// The patients an event listed (each has a copy of it in their log).
fn listed(event: &Item) -> Vec<EntityId> {
    let Some(Value::Array(ids)) = event.get("listedPatients") else { return Vec::new() };
    ids.iter().filter_map(Value::as_str).filter_map(EntityId::parse).collect()
}

/// Every place a retired event is pointed to from.
fn pointers_of(event: &Item) -> Vec<Pointers> {
    let mut at = vec![Pointers::Trail];
    let patient = event.get("patientId").and_then(Value::as_str).and_then(EntityId::parse);
    at.extend(patient.into_iter().chain(listed(event)).map(Pointers::Patient));
    let actor = event.get("userIdentity").and_then(|u| u.get("userId")).and_then(Value::as_str);
    let ctx = crate::domain::fields::Context::timeless();
    if let Some(user) = actor.and_then(|a| <UserId as crate::domain::fields::ParseStr>::parse_str(a, &ctx).ok()) {
        at.push(Pointers::Actor(user));
    }
    at.dedup();
    at
}

/// The event that records a retirement, in the chain's own trail.
fn retire_event(chain: &str, cutoff: &str, now: chrono::DateTime<chrono::Utc>) -> AccessEvent {
    let time = crate::ids::sortable_time(now);
    AccessEvent {
        resources: vec![Resource::new("audit-chain", chain)],
        reason: Some(format!("events before {cutoff} verified in the archive leave the table")),
        ..AccessEvent::by_system("audit-retire", "audit.retire", EntityId::parse(chain), time)
    }
}
