//! The audit trail, read back: the clinic's events, one patient's access log, and the archive's
//! verification for operators.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{page_body, scope, start_after};
use crate::archive::verify::{Depth, Window, settled_before};
use crate::domain::audit::AccessEvent;
use crate::domain::keys;
use crate::domain::values::{EntityId, UserId};
use crate::http::input::{Input, Params};
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::ids::sortable_time;
use crate::store::schema::Index;
use crate::store::{Query, SkRange, Table};

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

/// Reads one page of events from `partition` (on `index`), newest first, within `from`..`to`.
async fn events(
    ctx: &Ctx,
    params: &Params,
    partition: String,
    index: Option<Index>,
    actor: Option<&UserId>,
) -> Result<serde_json::Value, ApiError> {
    let (from, to) = window(params)?;
    let (from, to) = (from.map(sortable_time), to.map(sortable_time));
    // Sort keys start with the time; "~" sorts after every time that shares the bound's prefix.
    let range =
        SkRange::Between(from.clone().unwrap_or_else(|| "0".into()), format!("{}~", to.as_deref().unwrap_or("9")));
    let scope = scope(ctx, &[Some(&partition), from.as_deref(), to.as_deref(), actor.map(UserId::as_str)]);
    let mut query = Query::new(Table::Audit, partition).sk(range).backward().limit(params.limit()?);
    if let Some(index) = index {
        query = query.index(index);
    }
    let page = ctx.app.records.query(query.start_after(start_after(ctx, params, &scope)?)).await?;
    let items = page
        .items
        .iter()
        .filter_map(AccessEvent::from_item)
        .filter(|e| actor.is_none_or(|a| e.user_identity.user_id == *a))
        .map(|e| json!(e))
        .collect();
    page_body(ctx, &scope, items, page.next)
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
        (Some(p), _) => {
            events(&ctx, &params, keys::audit_patient_index(clinic, p), Some(Index::Gsi1), actor.as_ref()).await?
        }
        (None, Some(a)) => {
            events(&ctx, &params, keys::audit_actor_index(Some(clinic), a), Some(Index::Gsi2), None).await?
        }
        (None, None) => events(&ctx, &params, keys::clinic_pk(clinic), None, None).await?,
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
    super::patients::load(&ctx, id).await?;
    let body = events(&ctx, &params, keys::audit_patient_index(ctx.clinic()?, id), Some(Index::Gsi1), None).await?;
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
