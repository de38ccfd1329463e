//! The audit trail, read back: the clinic's events, and one patient's access log.

use chrono::DateTime;
use serde_json::json;

use super::{page_body, scope, start_after};
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

fn instant(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| sortable_time(t.to_utc()))
                .map_err(|_| ApiError::field(name, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"))
        })
        .transpose()
}

/// Reads one page of events from `partition` (on `index`), newest first, within `from`..`to`.
async fn events(
    ctx: &Ctx,
    params: &Params,
    partition: String,
    index: Option<Index>,
    actor: Option<&UserId>,
) -> Result<serde_json::Value, ApiError> {
    let from = instant(params, "from")?;
    let to = instant(params, "to")?;
    if let (Some(f), Some(t)) = (&from, &to)
        && f > t
    {
        return Err(ApiError::field("from", "must not be after to"));
    }
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
