//! Break-glass: opening a part of a patient's record for a while with a stated reason, the lookup the
//! pipeline and the chart summary make, and the administrators' review queue.

use chrono::Duration;
use serde_json::{Value, json};

use super::chart::query_all;
use super::{map_items, page_body, scope, start_after};
use crate::domain::break_glass::{BreakGlass, Queue, Request, Review, Scope};
use crate::domain::keys;
use crate::domain::values::{EntityId, ShortText};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::http::routes;
use crate::ids::sortable_time;
use crate::store::{Cond, Query, SkRange, Table, Write, entity_from};

/// The caller's break-glass for `patient` that is open now, of every scope.
pub async fn open_now(ctx: &Ctx, patient: EntityId) -> Result<Vec<BreakGlass>, ApiError> {
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(keys::break_glass_prefix(&ctx.caller.user)))
        .limit(100);
    let now = ctx.now_text();
    let mut open = Vec::new();
    for item in query_all(ctx, query).await? {
        let grant: BreakGlass = entity_from(item)?;
        if now < grant.expires_at {
            open.push(grant);
        }
    }
    Ok(open)
}

/// The caller's break-glass that opens `scope` of `patient` now, if any.
pub async fn active(ctx: &Ctx, patient: EntityId, scope: Scope) -> Result<Option<BreakGlass>, ApiError> {
    if let Some(grant) = ctx.break_glass.as_ref().filter(|g| g.patient_id == patient && g.opens(scope, &ctx.now_text()))
    {
        return Ok(Some(grant.clone()));
    }
    Ok(open_now(ctx, patient).await?.into_iter().find(|g| g.scope == scope))
}

/// Whether the caller's role reads `scope` without break-glass.
fn role_reads(ctx: &Ctx, scope: Scope) -> bool {
    match scope {
        Scope::Chart(kind) => routes::reads_chart(kind, ctx.caller.role),
        // Clinicians see photos, but not for education beyond a photo's consent.
        Scope::Photos => false,
    }
}

/// `POST /v1/patients/{patientId}/break-glass` with `{"reason", "scope", "minutes"?}`.
pub async fn open(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let request = input.form(ctx.rules(), Request::read)?;
    if role_reads(&ctx, request.scope) {
        return Err(ApiError::unsuitable(
            "scope",
            format!("your role already reads {}: no break-glass is needed", request.scope),
        ));
    }
    super::patients::load(&ctx, patient).await?;
    let clinic = ctx.clinic()?;
    let expires = ctx.now + Duration::minutes(i64::from(request.minutes));
    let grant = BreakGlass {
        id: ctx.new_id(),
        patient_id: patient,
        scope: request.scope,
        reason: request.reason,
        opened_by: ctx.actor(),
        opened_at: ctx.now_text(),
        expires_at: sortable_time(expires),
        review: None,
    };
    let conflict = || ApiError::Conflict("a concurrent request interfered; retry".into());
    let writes = vec![
        Guarded::new(
            Write::put(Table::Records, grant.grant_item(clinic, expires.timestamp()), Cond::NotExists),
            conflict(),
        ),
        Guarded::new(Write::put(Table::Records, grant.queue_item(clinic), Cond::NotExists), conflict()),
    ];
    let reply = Reply::made(json!(grant));
    let facts = Facts::patient(patient).with("break-glass", grant.id).under(vec![grant.mark()]);
    Ok(Outcome::Write(writes, reply, facts))
}

/// `GET /v1/break-glass?status=unreviewed|reviewed&limit=&cursor=`: newest first.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let queue = match params.get("status") {
        None | Some("unreviewed") => Queue::Unreviewed,
        Some("reviewed") => Queue::Reviewed,
        Some(_) => return Err(ApiError::field("status", "must be one of: unreviewed, reviewed")),
    };
    let scope = scope(&ctx, &[Some(if queue == Queue::Reviewed { "reviewed" } else { "unreviewed" })]);
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(keys::break_glass_queue_sk(queue == Queue::Reviewed, None)))
        .backward()
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let entries = map_items(&page, |item| Ok(entity_from::<BreakGlass>(item.clone())?))?;
    let patients = entries.iter().map(|e| e.patient_id).collect();
    let items: Vec<Value> = entries.iter().map(|e| json!(e)).collect();
    let body = page_body(&ctx, &scope, items, page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::listing(patients)))
}

/// `POST /v1/break-glass/{breakGlassId}/review` with `{"note"}`: by an administrator other than the one
/// who broke the glass.
pub async fn review(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = input.entity("breakGlassId")?;
    let note: ShortText = input.form(ctx.rules(), |form| {
        form.only(&["note"]);
        form.req("note")
    })?;
    let clinic = ctx.clinic()?;
    let unreviewed = BreakGlass::queue_key(clinic, Queue::Unreviewed, id);
    let Some(item) = ctx.app.records.get(Table::Records, &unreviewed).await? else {
        let reviewed = BreakGlass::queue_key(clinic, Queue::Reviewed, id);
        return Err(match ctx.app.records.get(Table::Records, &reviewed).await? {
            Some(_) => ApiError::Conflict("this break-glass was already reviewed".into()),
            None => ApiError::NotFound,
        });
    };
    let mut entry: BreakGlass = entity_from(item)?;
    if entry.opened_by.user_id == ctx.caller.user {
        return Err(ApiError::Forbidden("another administrator reviews your own break-glass".into()));
    }
    entry.review = Some(Review { by: ctx.actor(), at: ctx.now_text(), note });
    let already = || ApiError::Conflict("this break-glass was already reviewed".into());
    let writes = vec![
        Guarded::new(Write::Delete { table: Table::Records, key: unreviewed, cond: Cond::Exists }, already()),
        Guarded::new(Write::put(Table::Records, entry.queue_item(clinic), Cond::NotExists), already()),
    ];
    let facts = Facts::patient(entry.patient_id).with("break-glass", id);
    Ok(Outcome::Write(writes, Reply::ok(json!(entry)), facts))
}
