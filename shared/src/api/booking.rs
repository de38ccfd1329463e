//! The public side of online booking (see `domain::scheduling::booking`): a clinic's booking page, what it
//! offers online, its free times (never who is booked, never who performs), holding a time, and
//! confirming it from the link sent to the phone. No answer says whether someone is a patient.

use chrono::Duration;
use serde_json::json;

use super::appointments::{candidates, claimants_of, day_writes, days_for, place, reminder_write};
use super::availability::Plan;
use super::catalogue::load_item;
use super::chart::query_all;
use crate::domain::clinic::Clinic;
use crate::domain::forms::invitation::{new_token, plausible_token, token_hash};
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::scheduling::CatalogueStatus;
use crate::domain::scheduling::appointment::Appointment;
use crate::domain::scheduling::booking::{
    BookingRequest, BookingSlug, BookingStatus, HOLD_MINUTES, HOLDS_PER_CLINIC_MINUTE, HORIZON_DAYS, HoldRequest,
    MAX_DAYS_PER_CALL, PatientMatch,
};
use crate::domain::scheduling::claims::{Block, Day};
use crate::domain::scheduling::service::Service;
use crate::domain::values::EntityId;
use crate::http::caller::Caller;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::page::Page;
use crate::http::pipeline::{Ctx, count_per_minute};
use crate::http::problem::ApiError;
use crate::messages::Channel;
use crate::messages::outbox::{Draft, Envelope, QueuedMessage};
use crate::messages::templates::{Template, Values, spell_time};
use crate::store::{Cond, Index, Query, SkRange, Table, Write, entity_from, entity_item};

const SCRIPT: &str = include_str!("../pages/booking.js");
const STYLE: &str = include_str!("../pages/booking.css");

static ASSEMBLED: std::sync::LazyLock<Page> =
    std::sync::LazyLock::new(|| Page::assemble("Book an appointment", SCRIPT, STYLE));

/// `GET /book/{clinicSlug}` and `GET /book/confirm/{token}`: the page (it asks the API for everything);
/// an address that cannot be one is 404.
pub async fn page(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let plausible = match (input.path.get("clinicSlug"), input.path.get("token")) {
        (Some(slug), _) => input.path_value::<BookingSlug>("clinicSlug", &ctx.rules()).is_ok() && !slug.is_empty(),
        (None, Some(token)) => plausible_token(token),
        (None, None) => false,
    };
    if !plausible {
        return Err(ApiError::NotFound);
    }
    Ok(Outcome::Read(ASSEMBLED.reply(), Facts::none()))
}

/// The request as the clinic's own: the public caller, with the clinic the page belongs to.
fn in_clinic(ctx: Ctx, clinic: EntityId) -> Ctx {
    Ctx { caller: Caller { clinic: Some(clinic), ..ctx.caller.clone() }, ..ctx }
}

/// The clinic whose booking address the path names, and the request as that clinic's; 404 for an address
/// no clinic has (or one that has stopped booking online).
async fn clinic_of(ctx: Ctx, input: &Input) -> Result<(Ctx, Clinic), ApiError> {
    let slug: BookingSlug = input.path_value("clinicSlug", &ctx.rules()).map_err(|_| ApiError::NotFound)?;
    let owner = ctx.app.records.get(Table::Records, &slug.key()).await?.ok_or(ApiError::NotFound)?;
    let clinic = owner.get("clinicId").and_then(|c| c.as_str()).and_then(EntityId::parse).ok_or(ApiError::NotFound)?;
    let ctx = in_clinic(ctx, clinic);
    let profile = super::clinics::load(&ctx, clinic).await?;
    if profile.booking_slug.as_ref() != Some(&slug) {
        return Err(ApiError::NotFound);
    }
    Ok((ctx, profile))
}

/// A service patients may book online, or 404 (retired, staff-only and unknown ones alike).
async fn bookable(ctx: &Ctx, clinic: EntityId, id: EntityId) -> Result<Service, ApiError> {
    let service: Option<Service> = load_item(ctx, Service::key(clinic, id)).await?;
    service
        .filter(|s| s.details.bookable_online && s.details.status == CatalogueStatus::Active)
        .ok_or(ApiError::NotFound)
}

/// `GET /v1/booking/{clinicSlug}`: the clinic's name and zone and what it offers online.
pub async fn offer(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let (ctx, clinic) = clinic_of(ctx, &input).await?;
    let query = Query::new(Table::Records, keys::clinic_pk(clinic.id)).sk(SkRange::Prefix(keys::SERVICE_PREFIX.into()));
    let services: Vec<Service> =
        query_all(&ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let offered: Vec<_> = services
        .iter()
        .filter(|s| s.details.bookable_online && s.details.status == CatalogueStatus::Active)
        .map(|s| {
            json!({"id": s.id, "name": s.details.name, "durationMinutes": s.details.duration_minutes,
                   "price": s.details.price})
        })
        .collect();
    let body = json!({
        "clinicName": clinic.name, "timeZone": clinic.time_zone, "language": clinic.language,
        "services": offered, "holdMinutes": HOLD_MINUTES, "horizonDays": HORIZON_DAYS,
        "maxDaysPerCall": MAX_DAYS_PER_CALL,
    });
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("clinic", clinic.id)))
}

/// `GET /v1/booking/{clinicSlug}/availability?serviceId=&from=&to=`: free starts over at most 14 local
/// dates within the booking horizon, with nobody's name.
pub async fn availability(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let (service_id, from, to) = super::availability::asked(&params, &ctx, MAX_DAYS_PER_CALL)?;
    let (ctx, clinic) = clinic_of(ctx, &input).await?;
    let zone = clinic.time_zone.zone();
    let last = (ctx.now + Duration::days(HORIZON_DAYS)).with_timezone(&zone).date_naive();
    if from > last {
        return Err(ApiError::field_rule("from", format!("must be within {HORIZON_DAYS} days")));
    }
    let service = bookable(&ctx, clinic.id, service_id).await?;
    let plan = Plan::load(&ctx, zone, service, from, to.min(last)).await?;
    let horizon = ctx.now + Duration::days(HORIZON_DAYS);
    let items: Vec<_> = plan
        .slots(&ctx, &plan.performers, from, to.min(last))
        .await?
        .into_keys()
        .filter(|start| *start <= horizon)
        .map(|start| json!({"start": plan.local_text(start)}))
        .collect();
    let body = json!({"serviceId": service_id, "timeZone": zone.name(), "items": items});
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("service", service_id)))
}

/// `POST /v1/booking/{clinicSlug}/holds`: holds a time for 15 minutes and texts the phone given a link
/// that confirms it. The answer is the same for patients and strangers.
pub async fn hold(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let request = input.form(ctx.rules(), HoldRequest::read)?;
    if request.start > ctx.now + Duration::days(HORIZON_DAYS) {
        return Err(ApiError::unsuitable(
            "start",
            format!("is more than {HORIZON_DAYS} days ahead: online booking opens later"),
        ));
    }
    let (ctx, clinic) = clinic_of(ctx, &input).await?;
    count_per_minute(&ctx, &format!("HOLDS#{}", clinic.id), HOLDS_PER_CLINIC_MINUTE).await?;
    let service = bookable(&ctx, clinic.id, request.service_id)
        .await
        .map_err(|_| ApiError::unknown("serviceId", "is not a service of this clinic that can be booked online"))?;
    let zone = clinic.time_zone.zone();
    let date = request.start.with_timezone(&zone).date_naive();
    let plan = Plan::load(&ctx, zone, service, date, date).await?;
    let candidates = candidates(&plan, None, None)?;
    let placed = place(&ctx, &plan, &candidates, request.start, None).await?;
    let (token, hash) = new_token();
    let lapses_at = ctx.now + Duration::minutes(HOLD_MINUTES);
    let held = BookingRequest {
        id: ctx.new_id(),
        clinic_id: clinic.id,
        service_id: request.service_id,
        slot: placed.slot(request.start, &plan),
        requester: request.requester,
        token_hash: hash,
        lapses_at,
        status: BookingStatus::Held,
        patient_id: None,
        matched: None,
        created_at: ctx.now_text(),
        version: 1,
    };
    let block =
        Block { start: placed.held_from, end: placed.held_until, appointment_id: held.id, lapses_at: Some(lapses_at) };
    let collision = || ApiError::Conflict("an id collided; retry".into());
    let mut writes = vec![Guarded::new(Write::put(Table::Records, held.to_item(), Cond::NotExists), collision())];
    for (claimant, days) in placed.claims {
        writes.extend(day_writes(clinic.id, &claimant, days, ctx.now, |day: &mut Day| day.blocks.push(block.clone())));
    }
    let when = spell_time(held.slot.start, zone, clinic.language);
    let link = format!("{}/book/confirm/{token}", super::invitations::origin(&ctx)?);
    let message = held_text(&ctx, &clinic, &held, &when, link)?;
    writes.push(Guarded::new(message.queue_write(), collision()));
    let mut reply = Reply::ok(json!({
        "status": "held", "start": plan.local_text(held.slot.start), "when": when,
        "heldUntil": crate::ids::sortable_time(lapses_at),
        "detail": format!("a text message with a link to confirm is on its way to the phone number given; the time is held for {HOLD_MINUTES} minutes"),
    }));
    reply.status = 202;
    Ok(Outcome::Write(writes, reply, Facts::resource("booking", held.id)))
}

/// The text that carries a hold's confirmation link to the phone the request gives.
fn held_text(
    ctx: &Ctx,
    clinic: &Clinic,
    request: &BookingRequest,
    when: &str,
    link: String,
) -> Result<QueuedMessage, ApiError> {
    Ok(QueuedMessage::queue(
        Draft {
            envelope: Envelope {
                id: format!("{}-held", request.id),
                clinic_id: clinic.id,
                patient_id: None,
                channel: Channel::Sms,
                to: request.requester.phone.as_str().to_string(),
                template: Template::BookingHeld,
                language: clinic.language,
                values: Values {
                    first_name: request.requester.given_name.as_str().to_string(),
                    clinic_name: clinic.name.as_str().to_string(),
                    when: Some(when.to_string()),
                    amount: None,
                },
            },
            link: Some(link),
            queued_at: ctx.now_text(),
            due: ctx.now,
            expires_at: None,
        },
        &ctx.app.keys()?.stored_secrets,
    ))
}

/// The one patient of the clinic the requester is, by name, birth date and phone; none when nobody or
/// several are.
async fn matching_patient(ctx: &Ctx, clinic: EntityId, request: &BookingRequest) -> Result<Option<Patient>, ApiError> {
    let phone = request.requester.phone.as_str();
    let query = Query::new(Table::Records, keys::patient_phone_index(clinic, phone)).index(Index::Gsi3);
    let found: Vec<Patient> = query_all(ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let mut same = found.into_iter().filter(|p| request.requester.is(p));
    Ok(match (same.next(), same.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    })
}

/// `POST /v1/booking/confirmations/{token}`: the link's page confirms the hold it names. The time becomes
/// an appointment of the patient the requester is (or of a new patient), its reminders are planned, and a
/// text confirms it, with a link to the service's forms if it has any. Confirming twice answers the same.
pub async fn confirm(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let token = input.path.get("token").map(String::as_str).unwrap_or_default();
    if !plausible_token(token) {
        return Err(ApiError::NotFound);
    }
    let key = BookingRequest::link_key(&token_hash(token));
    let request: BookingRequest = load_item(&ctx, key).await?.ok_or(ApiError::NotFound)?;
    let ctx = in_clinic(ctx, request.clinic_id);
    let clinic = super::clinics::load(&ctx, request.clinic_id).await?;
    let service: Service =
        load_item(&ctx, Service::key(clinic.id, request.service_id)).await?.ok_or(ApiError::NotFound)?;
    let when = spell_time(request.slot.start, clinic.time_zone.zone(), clinic.language);
    let summary = |forms: bool| {
        json!({"status": "confirmed", "clinicName": clinic.name, "service": service.details.name,
               "start": request.slot.start.with_timezone(&clinic.time_zone.zone()).to_rfc3339(), "when": when,
               "forms": forms})
    };
    if request.status == BookingStatus::Confirmed {
        let facts = Facts::resource("booking", request.id);
        return Ok(Outcome::Read(Reply::ok(summary(!service.details.form_template_ids.is_empty())), facts));
    }
    if ctx.now >= request.lapses_at {
        return Err(ApiError::Gone(
            "this booking was not confirmed in time and its time was released: book again".into(),
        ));
    }
    let mut writes = Vec::new();
    let (patient, matched) = match matching_patient(&ctx, clinic.id, &request).await? {
        // A restricted record takes nothing new (GDPR Art. 18): the clinic books it, by phone.
        Some(patient) if patient.restriction.is_some() => {
            return Err(ApiError::Conflict("this booking cannot be confirmed online: please call the clinic".into()));
        }
        Some(patient) => (patient, PatientMatch::Existing),
        None => {
            let (patient, registration) = super::patients::register(&ctx, request.requester.details()).await?;
            writes.extend(registration);
            (patient, PatientMatch::Registered)
        }
    };
    let appointment = Appointment::booked(
        request.id,
        patient.id,
        request.service_id,
        request.slot.clone(),
        None,
        ctx.actor(),
        ctx.now_text(),
    );
    let collision = || ApiError::Conflict("an id collided; retry".into());
    writes.push(Guarded::new(Write::put(Table::Records, appointment.to_item(clinic.id), Cond::NotExists), collision()));
    // Its blocks hold for good from now on.
    let keep = |day: &mut Day| {
        for block in day.blocks.iter_mut().filter(|b| b.appointment_id == request.id) {
            block.lapses_at = None;
        }
    };
    for claimant in claimants_of(&appointment) {
        let days = days_for(&ctx, &claimant, appointment.held_from, appointment.held_until).await?;
        writes.extend(day_writes(clinic.id, &claimant, days, ctx.now, keep));
    }
    writes.extend(reminder_write(&ctx, None, &appointment, &clinic.reminder_hours));
    let confirmed = BookingRequest {
        status: BookingStatus::Confirmed,
        patient_id: Some(patient.id),
        matched: Some(matched),
        version: request.version + 1,
        ..request.clone()
    };
    let retry = ApiError::Conflict("the booking changed meanwhile; retry".into());
    writes.push(Guarded::decided_on_reads(
        Write::put(Table::Records, confirmed.to_item(), Cond::VersionIs(request.version)),
        retry,
    ));
    writes.extend(super::appointments::confirmation(&ctx, &clinic, &patient, &appointment, &service).await?);
    let body = summary(!service.details.form_template_ids.is_empty());
    let facts = Facts::patient(patient.id).with("appointment", appointment.id).with("booking", request.id);
    Ok(Outcome::Write(writes, Reply::ok(body), facts))
}

/// The item that gives a slug to its clinic (written by `PATCH /v1/clinic`).
pub fn slug_owner(slug: &BookingSlug, clinic: EntityId) -> crate::store::Item {
    entity_item(&slug.key(), &json!({"clinicId": clinic, "version": 1}))
}
