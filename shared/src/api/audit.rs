//! The audit trail, read back: the clinic's events, one patient's access log, and the archive's
//! verification for operators.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{page_body, scope, start_after};
use crate::archive::batch::Batch;
use crate::archive::retire::{Pointers, read_watermark};
use crate::archive::verify::{Depth, Window, settled_before};
use crate::domain::audit::AccessEvent;
use crate::domain::keys;
use crate::domain::values::{EntityId, UserId};
use crate::http::input::{Input, Params};
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::ids::sortable_time;
use crate::store::schema::{Index, PK, SK};
use crate::store::{Item, Key, Query, SkRange, Table, str_attr};

fn instant(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.to_utc())
                .map_err(|_| ApiError::field(name, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"))
        })
        .transpose()
}

/// A time range with open ends.
type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The `from` and `to` of a request, in order.
fn window(params: &Params) -> Result<Span, ApiError> {
    let (from, to) = (instant(params, "from")?, instant(params, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::field_rule("from", "must not be after to"));
    }
    Ok((from, to))
}

/// Where a listing reads: the table's partition (on `index`), and the pointers to the events of it that
/// the retention job moved out of the table.
struct Source {
    partition: String,
    index: Option<Index>,
    retired: Pointers,
}

/// The cursor field that says a listing has gone on from the table to the archive.
const IN_ARCHIVE: &str = "inArchive";

/// Reads one page of events, newest first, within `from`..`to`: from the table, then, once the table's
/// part is read and events of the window have left the table, from the archive.
async fn events(ctx: &Ctx, params: &Params, source: Source, actor: Option<&UserId>) -> Result<Value, ApiError> {
    let (from, to) = window(params)?;
    let (from, to) = (from.map(sortable_time), to.map(sortable_time));
    let scope = scope(ctx, &[Some(&source.partition), from.as_deref(), to.as_deref(), actor.map(UserId::as_str)]);
    let keep = |e: &AccessEvent| actor.is_none_or(|a| e.user_identity.user_id == *a);
    let start = start_after(ctx, params, &scope)?;
    let (found, next) = page(ctx, &source, (from, to), params.limit()?, start, keep).await?;
    page_body(ctx, &scope, found.iter().map(|e| json!(e)).collect(), next)
}

/// One page of a patient's access log, newest first, after `start` (a position this function gave): the
/// events, and where the next page starts.
pub async fn patient_log_page(
    ctx: &Ctx,
    patient: EntityId,
    limit: usize,
    start: Option<Item>,
) -> Result<(Vec<AccessEvent>, Option<Item>), ApiError> {
    page(ctx, &patient_source(ctx.clinic()?, patient), (None, None), limit, start, |_| true).await
}

/// One page of a source's events within a window of sortable times, newest first, those `keep` keeps:
/// from the table, then (the position says so) from the archive.
async fn page(
    ctx: &Ctx,
    source: &Source,
    (from, to): (Option<String>, Option<String>),
    limit: usize,
    mut start: Option<Item>,
    keep: impl Fn(&AccessEvent) -> bool,
) -> Result<(Vec<AccessEvent>, Option<Item>), ApiError> {
    // Sort keys start with the time; "~" sorts after every time that shares the bound's prefix.
    let range =
        SkRange::Between(from.clone().unwrap_or_else(|| "0".into()), format!("{}~", to.as_deref().unwrap_or("9")));
    let chain = ctx.clinic()?.to_string();
    if start.as_mut().and_then(|s| s.remove(IN_ARCHIVE)).is_some() {
        let start = start.filter(|s| !s.is_empty());
        let (found, next) = archived_events(ctx, &chain, &source.retired, range, limit, start, keep).await?;
        let next = next.map(|mut n| {
            n.insert(IN_ARCHIVE.into(), json!(true));
            n
        });
        return Ok((found, next));
    }
    let mut query = Query::new(Table::Audit, source.partition.clone()).sk(range).backward().limit(limit);
    if let Some(index) = source.index {
        query = query.index(index);
    }
    let page = ctx.app.records.query(query.start_after(start)).await?;
    let found = match source.index {
        None => page.items,
        // The audit table's indexes hold keys only: each event is read whole by its key.
        Some(_) => whole_events(ctx, &page.items).await?,
    };
    let found = found.iter().filter_map(AccessEvent::from_item).filter(|e| keep(e)).collect();
    let mut next = page.next;
    if next.is_none() {
        let mark = read_watermark(ctx.app.records.as_ref(), &chain).await?;
        if mark.is_some_and(|m| from.as_deref().is_none_or(|f| f < m.before.as_str())) {
            next = Some(serde_json::Map::from_iter([(IN_ARCHIVE.to_string(), json!(true))]));
        }
    }
    Ok((found, next))
}

/// One event of the clinic's trail by its sort key, from the table or, once retired, the archive.
pub async fn event_at(ctx: &Ctx, sort_key: &str) -> Result<Option<AccessEvent>, ApiError> {
    let clinic = ctx.clinic()?;
    let key = Key::new(keys::audit_pk(Some(clinic)), sort_key);
    if let Some(item) = ctx.app.records.get(Table::Audit, &key).await? {
        return Ok(AccessEvent::from_item(&item));
    }
    if ctx.app.archive.is_none() {
        return Ok(None);
    }
    let exactly = SkRange::Between(sort_key.to_string(), sort_key.to_string());
    let (found, _) = archived_events(ctx, &clinic.to_string(), &Pointers::Trail, exactly, 1, None, |_| true).await?;
    Ok(found.into_iter().next())
}

/// The events an index found by their keys, read whole (ten at a time), in the index's order.
async fn whole_events(ctx: &Ctx, keys: &[Item]) -> Result<Vec<Item>, ApiError> {
    let mut events = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(10) {
        let reads = chunk.iter().map(|k| {
            let key = Key::new(str_attr(k, PK).unwrap_or_default(), str_attr(k, SK).unwrap_or_default());
            async move { ctx.app.records.get(Table::Audit, &key).await }
        });
        events.extend(futures_util::future::try_join_all(reads).await?.into_iter().flatten());
    }
    Ok(events)
}

/// One page of retired events, read through their pointers from the archive's batches (each batch read
/// once a page, and checked against its name).
async fn archived_events(
    ctx: &Ctx,
    chain: &str,
    pointers: &Pointers,
    range: SkRange,
    limit: usize,
    start: Option<Item>,
    keep: impl Fn(&AccessEvent) -> bool,
) -> Result<(Vec<AccessEvent>, Option<Item>), ApiError> {
    let archive =
        ctx.app.archive.as_ref().ok_or_else(|| ApiError::Unavailable("the audit archive is not configured".into()))?;
    let query = Query::new(Table::Records, pointers.partition(chain)).sk(range).backward().limit(limit);
    let page = ctx.app.records.query(query.start_after(start)).await?;
    let mut batches: HashMap<String, Batch> = HashMap::new();
    let mut items = Vec::new();
    for pointer in &page.items {
        let sk = str_attr(pointer, SK).unwrap_or_default();
        let seq = pointer.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let name = str_attr(pointer, "batch").unwrap_or_default().to_string();
        if !batches.contains_key(&name) {
            let key = Batch::object_key(chain, seq, &name);
            let missing = || ApiError::Unavailable(format!("archived batch {seq} of the trail is missing"));
            let bytes =
                archive.get(&key).await.map_err(|e| ApiError::Unavailable(e.to_string()))?.ok_or_else(missing)?;
            let batch = Batch::parse(&bytes).ok().filter(|b| b.hash() == name).ok_or_else(|| {
                ApiError::Unavailable(format!("archived batch {seq} does not match its hash; verify the chain"))
            })?;
            batches.insert(name.clone(), batch);
        }
        let event = batches[&name]
            .lines
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|line| match line {
                Value::Object(item) if str_attr(&item, SK) == Some(sk) => AccessEvent::from_item(&item),
                _ => None,
            })
            .next()
            .ok_or_else(|| ApiError::Unavailable(format!("archived batch {seq} lacks an event its pointer names")))?;
        if keep(&event) {
            items.push(event);
        }
    }
    Ok((items, page.next))
}

/// A patient's events: the patient index of the table, and the pointers of the patient's retired events.
fn patient_source(clinic: EntityId, patient: EntityId) -> Source {
    Source {
        partition: keys::audit_patient_index(clinic, patient),
        index: Some(Index::Gsi1),
        retired: Pointers::Patient(patient),
    }
}

/// `GET /v1/audit?patientId=&actor=&from=&to=&limit=&cursor=`
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let clinic = ctx.clinic()?;
    let patient = match params.get("patientId") {
        None => None,
        Some(raw) => Some(EntityId::parse(raw).ok_or_else(|| ApiError::field("patientId", "must be a patient id"))?),
    };
    let actor = params.parsed::<UserId>("actor", &ctx.rules())?;
    let body = match (patient, &actor) {
        (Some(p), _) => events(&ctx, &params, patient_source(clinic, p), actor.as_ref()).await?,
        (None, Some(a)) => {
            let source = Source {
                partition: keys::audit_actor_index(Some(clinic), a),
                index: Some(Index::Gsi2),
                retired: Pointers::Actor(a.clone()),
            };
            events(&ctx, &params, source, None).await?
        }
        (None, None) => {
            let source = Source { partition: keys::clinic_pk(clinic), index: None, retired: Pointers::Trail };
            events(&ctx, &params, source, None).await?
        }
    };
    let mut facts = Facts::none();
    if let Some(p) = patient {
        facts.resources.push(crate::domain::audit::Resource::new("patient", p));
    }
    Ok(Outcome::Read(Reply::ok(body), facts))
}

/// `GET /v1/patients/{patientId}/access-log`
pub async fn access_log(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = input.entity("patientId")?;
    let params = input.params(ctx.route.query)?;
    match super::patients::load(&ctx, id).await {
        // An erased patient's trail stays: ids only, and who erased what.
        Ok(_) | Err(ApiError::Gone(_)) => {}
        Err(e) => return Err(e),
    }
    let body = events(&ctx, &params, patient_source(ctx.clinic()?, id), None).await?;
    Ok(Outcome::Read(Reply::ok(body), Facts::patient(id)))
}

/// How much earlier than a window a batch may have been written and still hold events of it: the time an
/// event may wait in the stream, with room for clocks that differ.
const ARCHIVE_DELAY_HOURS: i64 = 25;

/// `GET /v1/operator/audit-verification?clinicId=&from=&to=`: the chain from its head down to the batches
/// written before the window, and the window's events in the table and the archive, compared.
pub async fn verify(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let clinic = match params.get("clinicId") {
        None => return Err(ApiError::field("clinicId", "is required: a clinic id, or platform")),
        Some("platform") => None,
        Some(raw) => {
            Some(EntityId::parse(raw).ok_or_else(|| ApiError::field("clinicId", "must be a clinic id, or platform"))?)
        }
    };
    let (from, to) = window(&params)?;
    if let Some(clinic) = clinic {
        super::clinics::load(&ctx, clinic).await?;
    }
    let archive =
        ctx.app.archive.as_ref().ok_or_else(|| ApiError::Unavailable("the audit archive is not configured".into()))?;
    let chain = clinic.map_or_else(|| "platform".to_string(), |c| c.to_string());
    let since = from.map(|f| sortable_time(f - chrono::Duration::hours(ARCHIVE_DELAY_HOURS)));
    let depth = since.as_deref().map_or(Depth::Whole, Depth::WrittenSince);
    let (from, to) = (from.map(sortable_time), to.map(sortable_time));
    let settled = settled_before(ctx.now);
    let window = Window { from: from.as_deref(), to: to.as_deref(), settled_before: Some(&settled) };
    let found = crate::archive::verify::verify(ctx.app.records.as_ref(), archive.as_ref(), &chain, window, depth)
        .await
        .map_err(ApiError::Unavailable)?;
    let body = json!({
        "clinicId": chain,
        "from": from,
        "to": to,
        "passed": found.passed(),
        "batches": found.batches,
        "archivedEvents": found.archived_events,
        "tableEvents": found.table_events,
        "unreferencedBatches": found.unreferenced,
        "pendingEvents": found.pending,
        "findings": found.findings,
    });
    let facts = Facts { clinic, ..Facts::resource("audit-chain", &chain) };
    Ok(Outcome::Read(Reply::ok(body), facts))
}
