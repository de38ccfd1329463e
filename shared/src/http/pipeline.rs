//! The request pipeline every route runs through: identity, role table, membership, body limits,
//! idempotency, the handler, and the audit event that commits with (or before) the data.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
pub use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use chrono::{DateTime, Utc};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode, header};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use tracing::Instrument;

use super::caller::{Caller, RequestMeta, caller, request_meta};
use super::input::Input;
use super::outcome::{Facts, Outcome, Reply};
use super::problem::ApiError;
use super::routes::{Handler, Route, Served};
use crate::app::App;
use crate::crypto::sha256_hex;
use crate::domain::audit::{AccessEvent, Outcome as EventOutcome, Resource, UserIdentity};
use crate::domain::break_glass::{BREAKERS, BreakGlass, Mark};
use crate::domain::fields::Context;
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::role::Role;
use crate::domain::staff::StaffMember;
use crate::domain::values::{EntityId, UserId};
use crate::ids::sortable_time;
use crate::metering::plan::AtCap;
use crate::metering::spend::SpendFlag;
use crate::store::schema::TTL;
use crate::store::{Cond, Item, Key, StoreError, Table, Write, entity_from, entity_item};

/// How long a stored first response answers retries.
const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

/// Everything a handler knows about the call it serves.
#[derive(Clone)]
pub struct Ctx {
    pub app: Arc<App>,
    pub caller: Caller,
    pub route: &'static Route,
    pub meta: RequestMeta,
    pub now: DateTime<Utc>,
    /// The break-glass that opened this route to a role the route table does not name.
    pub break_glass: Option<BreakGlass>,
    /// The patient the call names, as read (and checked against its restriction) with the membership: the
    /// handler's own read of that patient takes it from here.
    pub named_patient: Option<Patient>,
}

impl Ctx {
    /// The caller's clinic; routes that need one refuse callers without.
    pub fn clinic(&self) -> Result<EntityId, ApiError> {
        self.caller.clinic.ok_or_else(|| ApiError::Forbidden("this route needs a clinic member's token".into()))
    }

    pub fn now_text(&self) -> String {
        sortable_time(self.now)
    }

    /// What value rules need to know (today's date).
    pub fn rules(&self) -> Context {
        Context::at(self.now)
    }

    /// The caller as a chart or photo records who did something.
    pub fn actor(&self) -> crate::domain::chart::Actor {
        crate::domain::chart::Actor { user_id: self.caller.user.clone(), role: self.caller.role }
    }

    pub fn new_id(&self) -> EntityId {
        EntityId(self.app.ids.next_id())
    }

    /// The break-glass an event is made under: the one that opened the route, and any the answer used.
    fn marks(&self, facts: &Facts) -> Vec<Mark> {
        let mut marks: Vec<Mark> = self.break_glass.iter().map(BreakGlass::mark).collect();
        for mark in &facts.break_glass {
            if !marks.iter().any(|m| m.id == mark.id) {
                marks.push(mark.clone());
            }
        }
        marks
    }

    fn event(&self, outcome: EventOutcome, facts: &Facts, error: Option<&ApiError>) -> AccessEvent {
        AccessEvent {
            event_id: self.new_id(),
            event_time: self.now_text(),
            event_name: self.route.name.to_string(),
            event_source: self.route.function.to_string(),
            clinic_id: facts.clinic.or(self.caller.clinic),
            user_identity: UserIdentity { user_id: self.caller.user.clone(), role: self.caller.role },
            source_ip_address: self.meta.source_ip.clone(),
            user_agent: self.meta.user_agent.clone(),
            request_id: self.meta.request_id.clone(),
            resources: facts.resources.clone(),
            patient_id: facts.patient,
            listed_patients: facts.listed_patients.clone(),
            outcome,
            error_code: error.map(|e| e.code().to_string()),
            reason: None,
            break_glass: self.marks(facts),
        }
    }
}

/// Reads a response body whole (for hosts and tests that hold a response in memory).
pub async fn read_body(body: Body) -> Vec<u8> {
    axum::body::to_bytes(body, usize::MAX).await.map(|b| b.to_vec()).unwrap_or_default()
}

/// Builds the router for `routes` over `app`: the same router serves Lambda and the local host.
pub fn router(app: Arc<App>, served: impl IntoIterator<Item = &'static Served>) -> Router {
    let mut router = Router::new();
    for Served { route, handler } in served {
        let filter = match route.method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PATCH" => MethodFilter::PATCH,
            "PUT" => MethodFilter::PUT,
            _ => MethodFilter::DELETE,
        };
        let app = app.clone();
        let handler = *handler;
        router = router.route(route.path, on(filter, move |req: Request<Body>| handle(app, route, handler, req)));
    }
    router
        .fallback(|req: Request<Body>| async move { bare_error(&req, ApiError::NotFound) })
        .method_not_allowed_fallback(|req: Request<Body>| async move {
            let mut response = bare_error(&req, ApiError::MethodNotAllowed);
            let allowed = super::routes::methods_of(req.uri().path()).join(", ");
            if let Ok(value) = http::HeaderValue::from_str(&allowed) {
                response.headers_mut().insert(http::header::ALLOW, value);
            }
            response
        })
        // A FHIR client reads its errors as OperationOutcome.
        .layer(axum::middleware::from_fn(crate::fhir::outcome::as_operation_outcome))
}

fn bare_error(req: &Request<Body>, error: ApiError) -> Response {
    let meta = request_meta(req.extensions().get::<RequestContext>());
    error.to_response(&meta.request_id)
}

async fn handle(app: Arc<App>, route: &'static Route, handler: Handler, req: Request<Body>) -> Response {
    let (mut parts, body) = req.into_parts();
    let context = parts.extensions.get::<RequestContext>();
    let meta = request_meta(context);
    let caller = caller(context);
    let span = tracing::info_span!("request", request_id = %meta.request_id, route = route.name);
    async move {
        let params = path_params(&mut parts).await;
        let caller = if route.is_public() { Some(link_caller(&params, meta.source_ip.as_deref())) } else { caller };
        let Some(caller) = caller else {
            tracing::warn!(status = 401, "request without a usable identity");
            return ApiError::Unauthorized("a valid bearer token is required".into()).to_response(&meta.request_id);
        };
        let now = app.clock.now();
        let ctx = Ctx { app, caller, route, meta, now, break_glass: None, named_patient: None };
        let response = run(ctx.clone(), handler, parts, body, params).await;
        tracing::info!(
            status = response.status().as_u16(),
            clinic_id = ctx.caller.clinic.map(|c| c.to_string()).unwrap_or_default(),
            user_id = %ctx.caller.user,
            "request served"
        );
        response
    }
    .instrument(span)
    .await
}

/// The caller behind a public route: for a link, named by the link's hash, so retries and limits are per
/// link; on a clinic's booking page, by the page and the address (hashed), so one visitor's retries never
/// meet another's.
fn link_caller(params: &HashMap<String, String>, source_ip: Option<&str>) -> Caller {
    let name = match (params.get("token"), params.get("clinicSlug")) {
        (Some(token), _) => format!("link-{}", &crate::domain::forms::invitation::token_hash(token)[..16]),
        (None, slug) => {
            let visitor = format!("{}|{}", slug.map(String::as_str).unwrap_or(""), source_ip.unwrap_or("unknown"));
            format!("visitor-{}", &sha256_hex(visitor.as_bytes())[..16])
        }
    };
    let user = <UserId as crate::domain::fields::ParseStr>::parse_str(&name, &Context::timeless())
        .unwrap_or_else(|_| unreachable!("a hex name is a valid user id"));
    Caller { user, role: Role::Patient, clinic: None }
}

/// Adds `amount` under `counter` for the current minute; answers the minute's total so far.
async fn add_this_minute(ctx: &Ctx, counter: &str, amount: i64) -> Result<i64, ApiError> {
    let minute = ctx.now.timestamp() / 60;
    let key = Key::new(format!("RATE#{counter}"), format!("MINUTE#{minute}"));
    let mut set = Item::new();
    set.insert(TTL.into(), json!((minute + 2) * 60));
    let update = crate::store::Update { set, add: vec![("count".into(), amount)] };
    let item = ctx.app.records.update(Table::Records, &key, update, Cond::Always).await?;
    Ok(item.get("count").and_then(Value::as_i64).unwrap_or(0))
}

/// Counts one request under `counter` for the current minute; more than `limit` in the minute is 429.
pub async fn count_per_minute(ctx: &Ctx, counter: &str, limit: i64) -> Result<(), ApiError> {
    if add_this_minute(ctx, counter, 1).await? > limit {
        return Err(ApiError::TooManyRequests);
    }
    Ok(())
}

/// The clinic's burst quota: each metered call adds its unit's weight to the clinic's minute; past the
/// plan's quota it is 429 with the quota's headers. A chart is never held back (its reads are exempt),
/// nor are calls without a clinic (the operator's, the patients' links, which have limits of their own).
/// A `hard` plan whose month reached its cap refuses the clinic's changes here, except to the chart.
async fn quota(ctx: &Ctx) -> Result<(), ApiError> {
    let Some(clinic) = ctx.caller.clinic else { return Ok(()) };
    if !crate::metering::counts_against_quota(ctx.route) {
        return Ok(());
    }
    let Some(unit) = crate::metering::route_unit(ctx.route) else { return Ok(()) };
    let plan = ctx.app.plans.get(ctx.app.records.as_ref(), clinic).await?;
    if let (AtCap::Hard, Some(cap_usd)) = (plan.at_cap, plan.monthly_cap_usd)
        && crate::metering::stops_at_hard_cap(ctx.route)
    {
        let month = crate::metering::meter::month_of(ctx.now.date_naive());
        let flag = SpendFlag::read(ctx.app.records.as_ref(), clinic, month).await?;
        if flag.is_some_and(|f| f.stops_changes(cap_usd)) {
            return Err(ApiError::AtSpendCap { cap_usd });
        }
    }
    let used = add_this_minute(ctx, &format!("QUOTA#{clinic}"), i64::from(unit.price().weight)).await?;
    if used > i64::from(plan.burst_units_per_minute) {
        let retry_after = 60 - (ctx.now.timestamp() % 60) as u32;
        return Err(ApiError::OverQuota { limit: plan.burst_units_per_minute, retry_after });
    }
    Ok(())
}

/// Counts a request to the public routes against its source address (by hash), per minute.
async fn rate_limit(ctx: &Ctx) -> Result<(), ApiError> {
    let address = ctx.meta.source_ip.as_deref().unwrap_or("unknown");
    count_per_minute(ctx, &sha256_hex(address.as_bytes())[..32], ctx.app.link_requests_per_minute).await
}

async fn path_params(parts: &mut Parts) -> HashMap<String, String> {
    match Path::<HashMap<String, String>>::from_request_parts(parts, &()).await {
        Ok(Path(map)) => map,
        Err(_) => HashMap::new(),
    }
}

/// The path parameters of a failed call as audit resources: ids only, anything else redacted.
fn param_resources(params: &HashMap<String, String>) -> Facts {
    let mut facts = Facts::none();
    for (name, value) in params {
        if name == "token" {
            // A link's token is a credential: the trail names the link by its hash only.
            let hash = crate::domain::forms::invitation::token_hash(value);
            facts.resources.push(Resource::new("link", &hash[..16]));
            continue;
        }
        let kind = name.strip_suffix("Id").unwrap_or(name);
        let ctx = Context::timeless();
        let safe = EntityId::parse(value).map(|e| e.to_string()).or_else(|| {
            <UserId as crate::domain::fields::ParseStr>::parse_str(value, &ctx).ok().map(|u| u.to_string())
        });
        if name == "patientId" {
            // Who tried to look shows in the patient's own access log, refusals included.
            facts.patient = EntityId::parse(value);
        }
        facts.resources.push(Resource::new(kind, safe.unwrap_or_else(|| "(malformed)".into())));
    }
    facts.resources.sort_by(|a, b| a.kind.cmp(&b.kind));
    facts
}

async fn run(
    mut ctx: Ctx,
    handler: Handler,
    parts: Parts,
    body: Body,
    mut params: HashMap<String, String>,
) -> Response {
    // A FHIR call names its patient in its id or its search: as `patientId` names it elsewhere, so that a
    // refusal goes into the patient's access log too.
    if crate::fhir::outcome::is_fhir_path(ctx.route.path)
        && let Some(patient) = crate::fhir::named_patient(&params, parts.uri.query())
    {
        params.insert("patientId".into(), patient.to_string());
    }
    if let Err(e) = authorize(&mut ctx, &params).await {
        return fail(&ctx, e, &params).await;
    }
    if ctx.route.is_public()
        && let Err(e) = rate_limit(&ctx).await
    {
        return fail(&ctx, e, &params).await;
    }
    if let Err(e) = quota(&ctx).await {
        return fail(&ctx, e, &params).await;
    }
    if ctx.route.uses_keys()
        && let Err(e) = ctx.app.load_keys().await
    {
        return fail(&ctx, e, &params).await;
    }
    let limit = ctx.route.body_limit();
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return fail(&ctx, ApiError::PayloadTooLarge { limit }, &params).await,
    };
    let input =
        Input { path: params.clone(), query: parts.uri.query().map(str::to_string), headers: parts.headers, body };
    // A body that is not a JSON object of an accepted type is refused before anything else is looked at:
    // no precondition, idempotency key or stored item answers a request that could never succeed.
    if ctx.route.body.is_some()
        && let Err(e) = input.json(ctx.route.body_media()).and_then(|body| match body {
            Value::Object(_) => Ok(()),
            _ => Err(ApiError::BadRequest("the body must be a JSON object".into())),
        })
    {
        return fail(&ctx, e, &params).await;
    }
    let idempotency = if ctx.route.method == "POST" {
        match Idempotency::from_input(&ctx, &input) {
            Ok(i) => i,
            Err(e) => return fail(&ctx, e, &params).await,
        }
    } else {
        None
    };
    let mut idempotency = idempotency;
    if let Some(idem) = &mut idempotency {
        match idem.lookup(&ctx).await {
            Ok(None) => {}
            Ok(Some(stored)) => return replay(&ctx, stored, &idem.key).await,
            Err(e) => return fail(&ctx, e, &params).await,
        }
    }
    for decision in 1..=DECISIONS {
        let last = decision == DECISIONS;
        let mut deciding = ctx.clone();
        if decision > 1 {
            // Deciding again is on fresh reads, the patient's too.
            deciding.named_patient = None;
        }
        let committed = match handler(deciding, input.clone()).await {
            Err(e) => match twin_answer(&ctx, idempotency.as_ref(), &params, e.could_be_a_twins_doing()).await {
                Some(answer) => answer,
                None => fail(&ctx, e, &params).await,
            },
            Ok(Outcome::Read(reply, facts)) => {
                let event = ctx.event(EventOutcome::Success, &facts, None);
                match record(&ctx, &event).await {
                    Ok(()) => respond(&ctx, &reply, false),
                    Err(e) => audit_failed(&ctx, e),
                }
            }
            Ok(Outcome::Write(guarded, reply, facts)) => {
                match commit(&ctx, guarded, reply, facts, idempotency.as_ref(), &params, last).await {
                    Some(response) => response,
                    None => {
                        step_aside(decision).await;
                        continue;
                    }
                }
            }
            Ok(Outcome::WriteThenDelete(guarded, reply, facts, blobs)) => {
                match commit(&ctx, guarded, reply, facts, idempotency.as_ref(), &params, last).await {
                    Some(response) => {
                        if response.status().is_success() {
                            delete_blobs(&ctx, &blobs).await;
                        }
                        response
                    }
                    None => {
                        step_aside(decision).await;
                        continue;
                    }
                }
            }
        };
        return committed;
    }
    unreachable!("the last decision always answers")
}

/// How many times a handler may decide again when a concurrent change overtook the reads it decided on.
pub const DECISIONS: u32 = 8;

/// A random pause of up to 10 ms times the decisions made so far before deciding again, so that requests
/// that overtook each other do not meet again at once (measured in the booking contention benchmark).
async fn step_aside(decision: u32) {
    let [a, b] = crate::crypto::random_bytes::<2>();
    let millis = u64::from(u16::from_le_bytes([a, b])) % (u64::from(decision) * 10);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// Deletes blobs a committed change no longer refers to; a failure is logged (by count, no keys) and left
/// to the bucket's lifecycle rules.
async fn delete_blobs(ctx: &Ctx, keys: &[String]) {
    let Some(ports) = &ctx.app.photos else { return };
    let mut failed = 0;
    for key in keys {
        if ports.blobs.delete(key).await.is_err() {
            failed += 1;
        }
    }
    if failed > 0 {
        tracing::warn!(failed, "objects of an erased photo were left for the lifecycle rules");
    }
}

/// Checks the role table, then (for clinic staff) that the membership exists, is active, and its role; a
/// read the role may not make is let through under the caller's active break-glass for it, if any. Last,
/// a patient the path names is checked against its restriction (see `patients::gate`).
async fn authorize(ctx: &mut Ctx, params: &HashMap<String, String>) -> Result<(), ApiError> {
    let patient = params.get("patientId").and_then(|p| EntityId::parse(p));
    // The patient is read beside the membership, so the check costs no added wait.
    let (member, named) = tokio::join!(membership(ctx), named_patient(ctx, patient));
    if let Some(role) = member? {
        // The stored role wins over the token's: a change of role takes effect at once.
        ctx.caller.role = role;
    }
    allow(ctx, patient).await?;
    if let Some(named) = named? {
        crate::api::patients::gate(ctx, &named)?;
        ctx.named_patient = Some(named);
    }
    Ok(())
}

/// A staff caller's role as their active membership of the clinic says; none for a caller who is not staff.
async fn membership(ctx: &Ctx) -> Result<Option<Role>, ApiError> {
    if !ctx.caller.role.is_staff() {
        return Ok(None);
    }
    let clinic = ctx.clinic()?;
    let key = Key::new(keys::clinic_pk(clinic), keys::staff_sk(&ctx.caller.user));
    let member = match ctx.app.records.get(Table::Records, &key).await? {
        Some(item) => entity_from::<StaffMember>(item)?,
        None => return Err(ApiError::Forbidden("you are not a member of this clinic".into())),
    };
    if member.status != crate::domain::staff::StaffStatus::Active {
        return Err(ApiError::Forbidden("your membership of this clinic is deactivated".into()));
    }
    Ok(Some(member.role))
}

/// The patient of the caller's clinic a call names, if there is one.
async fn named_patient(ctx: &Ctx, patient: Option<EntityId>) -> Result<Option<Patient>, ApiError> {
    let (Some(patient), Some(clinic)) = (patient, ctx.caller.clinic) else { return Ok(None) };
    let key = Key::new(keys::clinic_pk(clinic), keys::patient_sk(patient));
    Ok(ctx.app.records.get(Table::Records, &key).await?.map(entity_from).transpose()?)
}

/// Whether the route table lets the caller's role through, or its active break-glass for the patient.
async fn allow(ctx: &mut Ctx, patient: Option<EntityId>) -> Result<(), ApiError> {
    if ctx.route.allows(ctx.caller.role) {
        return Ok(());
    }
    let refusal = format!("the {} role may not call this route", ctx.caller.role);
    let breakable = ctx.route.break_glass_scope().filter(|_| BREAKERS.contains(&ctx.caller.role));
    let (Some(scope), Some(patient)) = (breakable, patient) else {
        return Err(ApiError::Forbidden(refusal));
    };
    match crate::api::break_glass::active(ctx, patient, scope).await? {
        Some(grant) => {
            ctx.break_glass = Some(grant);
            Ok(())
        }
        None => Err(ApiError::Forbidden(format!(
            "{refusal}; break glass (POST /v1/patients/{patient}/break-glass, scope {scope}) to open it for a while"
        ))),
    }
}

/// Records an access event that stands alone (a read's, a refusal's, a replay's), with its copies in the
/// access logs of the patients it listed, a transaction at most 100 writes long at a time. The answer
/// waits for all of them: a read is never answered without its events.
async fn record(ctx: &Ctx, event: &AccessEvent) -> Result<(), StoreError> {
    let writes = event.to_writes();
    for chunk in writes.chunks(crate::store::limits::MAX_TRANSACTION_WRITES) {
        ctx.app.records.transact(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Answers an error, after recording it in the audit trail.
async fn fail(ctx: &Ctx, error: ApiError, params: &HashMap<String, String>) -> Response {
    if let ApiError::Unavailable(cause) | ApiError::Internal(cause) = &error {
        tracing::error!(code = error.code(), cause = %cause, "request failed");
    }
    let outcome = if error.is_denial() { EventOutcome::Denied } else { EventOutcome::Error };
    let event = ctx.event(outcome, &param_resources(params), Some(&error));
    match record(ctx, &event).await {
        Ok(()) => error.to_response(&ctx.meta.request_id),
        Err(e) => audit_failed(ctx, e),
    }
}

fn audit_failed(ctx: &Ctx, cause: StoreError) -> Response {
    tracing::error!(cause = %cause, "the access event could not be written; no data returned");
    ApiError::Unavailable(cause.to_string()).to_response(&ctx.meta.request_id)
}

fn respond(ctx: &Ctx, reply: &Reply, replayed: bool) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let (media_type, body) = match &reply.binary {
        Some((media_type, bytes)) => (HeaderValue::from_str(media_type).ok(), Body::from(bytes.clone())),
        None => (Some(HeaderValue::from_static("application/json")), Body::from(reply.full_body().to_string())),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Some(media_type) = media_type {
        headers.insert(header::CONTENT_TYPE, media_type);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(id) = HeaderValue::from_str(&ctx.meta.request_id) {
        headers.insert("x-request-id", id);
    }
    if let Some(version) = reply.version
        && let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\""))
    {
        headers.insert(header::ETAG, tag);
    }
    if let Some(location) = reply.location.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    response
}

/// Commits a write with its event (and idempotency record). `None` when a condition the handler decided on
/// failed and it may decide again (not on the `last` decision).
async fn commit(
    ctx: &Ctx,
    guarded: Vec<super::outcome::Guarded>,
    reply: Reply,
    facts: Facts,
    idempotency: Option<&Idempotency>,
    params: &HashMap<String, String>,
    last: bool,
) -> Option<Response> {
    let event = ctx.event(EventOutcome::Success, &facts, None);
    let data_writes = guarded.len();
    let mut writes: Vec<Write> = guarded.iter().map(|g| g.write.clone()).collect();
    writes.extend(event.to_writes());
    if let Some(idem) = idempotency {
        match idem.record(ctx, &reply, &facts) {
            Ok(write) => writes.push(write),
            Err(e) => return Some(fail(ctx, e, params).await),
        }
    }
    let error = match ctx.app.records.transact(writes).await {
        Ok(()) => return Some(respond(ctx, &reply, false)),
        Err(e) => e,
    };
    if let StoreError::ConditionFailed { index } = error
        && guarded.get(index).is_some_and(|g| g.decide_again)
        && !last
    {
        return None;
    }
    if matches!(error, StoreError::ConditionFailed { .. } | StoreError::Conflict)
        && let Some(answer) = twin_answer(ctx, idempotency, params, true).await
    {
        return Some(answer);
    }
    let error = match error {
        StoreError::ConditionFailed { index } if index < data_writes => guarded[index].on_fail.clone(),
        StoreError::ConditionFailed { .. } => ApiError::Conflict("a concurrent request interfered; retry".into()),
        StoreError::Conflict => ApiError::Conflict("a concurrent change interfered; nothing was written; retry".into()),
        other => other.into(),
    };
    Some(fail(ctx, error, params).await)
}

/// How often, and how far apart, a failure a twin could have caused looks again for the twin's answer: a
/// twin still committing (DynamoDB reports a transaction conflict while it runs) is visible moments later.
const TWIN_LOOKS: u32 = 4;
const TWIN_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The answer of a twin of this request (same `Idempotency-Key`, same body) that committed while this one
/// ran, if any: whatever then failed here (a version its twin moved on, a state it changed), the caller
/// gets the twin's answer, as a later retry would. `wait` when the failure is one a twin could cause.
async fn twin_answer(
    ctx: &Ctx,
    idempotency: Option<&Idempotency>,
    params: &HashMap<String, String>,
    wait: bool,
) -> Option<Response> {
    let mut idem = idempotency?.clone();
    for look in 1..=if wait { TWIN_LOOKS } else { 1 } {
        idem.replaces = None;
        match idem.lookup(ctx).await {
            Ok(Some(stored)) => return Some(replay(ctx, stored, &idem.key).await),
            Ok(None) if look < TWIN_LOOKS && wait => tokio::time::sleep(TWIN_WAIT).await,
            Ok(None) => {}
            Err(e) => return Some(fail(ctx, e, params).await),
        }
    }
    None
}

/// The first response of a request, stored under its `Idempotency-Key`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredResponse {
    fingerprint: String,
    reply: Reply,
    /// The reply's secrets, sealed under the app's stored-secrets key and bound to this record's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_secrets: Option<String>,
    facts: Facts,
    version: u64,
}

impl StoredResponse {
    fn seal_secrets(
        app: &App,
        key: &Key,
        secrets: &serde_json::Map<String, Value>,
    ) -> Result<Option<String>, ApiError> {
        if secrets.is_empty() {
            return Ok(None);
        }
        let plain = Value::Object(secrets.clone()).to_string();
        Ok(Some(crate::crypto::seal_text(&app.keys()?.stored_secrets, key.sk.as_bytes(), plain.as_bytes())))
    }

    /// The first reply with its secrets opened again.
    fn into_reply(self, app: &App, key: &Key) -> Result<Reply, ApiError> {
        let mut reply = self.reply;
        if let Some(sealed) = self.sealed_secrets {
            let unreadable = || ApiError::Internal("a stored reply's secrets do not open".into());
            let plain = crate::crypto::open_text(&app.keys()?.stored_secrets, key.sk.as_bytes(), &sealed)
                .ok_or_else(unreadable)?;
            match serde_json::from_slice(&plain) {
                Ok(Value::Object(secrets)) => reply.secrets = secrets,
                _ => return Err(unreadable()),
            }
        }
        Ok(reply)
    }
}

/// A POST's `Idempotency-Key`, scoped to the caller and route.
#[derive(Clone)]
struct Idempotency {
    key: Key,
    fingerprint: String,
    /// The version of an expired record this request may replace.
    replaces: Option<u64>,
}

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters (the OpenAPI document's
/// `IDEMPOTENCY_KEY_PATTERN`).
pub fn is_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

impl Idempotency {
    fn from_input(ctx: &Ctx, input: &Input) -> Result<Option<Self>, ApiError> {
        let Some(raw) = input.headers.get("idempotency-key") else {
            return Ok(None);
        };
        let raw = raw
            .to_str()
            .ok()
            .filter(|k| is_idempotency_key(k))
            .ok_or_else(|| ApiError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters"))?;
        let sk = keys::idempotency_sk(ctx.route.name, &ctx.caller.user, &sha256_hex(raw.as_bytes()));
        let mut path: Vec<_> = input.path.iter().collect();
        path.sort();
        let mut material = ctx.route.name.as_bytes().to_vec();
        for (k, v) in path {
            material.extend_from_slice(format!("\n{k}={v}").as_bytes());
        }
        material.push(b'\n');
        material.extend_from_slice(&input.body);
        let key = Key::new(keys::audit_pk(ctx.caller.clinic), sk);
        Ok(Some(Self { key, fingerprint: sha256_hex(&material), replaces: None }))
    }

    /// The live first response, if any; remembers an expired one so it can be replaced.
    async fn lookup(&mut self, ctx: &Ctx) -> Result<Option<StoredResponse>, ApiError> {
        let Some(item) = ctx.app.records.get(Table::Records, &self.key).await? else {
            return Ok(None);
        };
        let expired = item.get(TTL).and_then(Value::as_i64).is_some_and(|ttl| ttl < ctx.now.timestamp());
        let stored: StoredResponse = entity_from(item)?;
        if expired {
            self.replaces = Some(stored.version);
            return Ok(None);
        }
        if stored.fingerprint != self.fingerprint {
            return Err(ApiError::Unprocessable(
                "this Idempotency-Key was already used for a different request; use a new key".into(),
            ));
        }
        Ok(Some(stored))
    }

    fn record(&self, ctx: &Ctx, reply: &Reply, facts: &Facts) -> Result<Write, ApiError> {
        let stored = StoredResponse {
            fingerprint: self.fingerprint.clone(),
            reply: reply.clone(),
            sealed_secrets: StoredResponse::seal_secrets(&ctx.app, &self.key, &reply.secrets)?,
            facts: facts.clone(),
            version: self.replaces.map_or(1, |v| v + 1),
        };
        let mut item: Item = entity_item(&self.key, &stored);
        item.insert(TTL.into(), json!(ctx.now.timestamp() + IDEMPOTENCY_WINDOW_HOURS * 3600));
        // A live record is never replaced; an expired one only if nobody replaced it meanwhile.
        let cond = self.replaces.map_or(Cond::NotExists, Cond::VersionIs);
        Ok(Write::put(Table::Records, item, cond))
    }
}

/// Answers a retry with the stored first response (and records that it was served again).
async fn replay(ctx: &Ctx, stored: StoredResponse, key: &Key) -> Response {
    let event = ctx.event(EventOutcome::Success, &stored.facts, None);
    let reply = match stored.into_reply(&ctx.app, key) {
        Ok(reply) => reply,
        Err(e) => return fail(ctx, e, &HashMap::new()).await,
    };
    match record(ctx, &event).await {
        Ok(()) => respond(ctx, &reply, true),
        Err(e) => audit_failed(ctx, e),
    }
}
