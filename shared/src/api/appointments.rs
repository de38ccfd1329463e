//! Appointments: booking, which claims the performer's and every room's and device's time in the same
//! transaction that writes the appointment (see `domain::scheduling::claims`); the lists by day, by
//! performer and by patient; one appointment; and cancelling, which releases the claims the same way.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde_json::{Value, json};

use super::availability::{Plan, claims};
use super::catalogue::load_item;
use super::{page_body, patients, scope, start_after};
use crate::domain::scheduling::appointment::{Appointment, AppointmentStatus, Booking, Cancellation};
use crate::domain::scheduling::claims::{Block, Claimant, Day, day_sk, days_of};
use crate::domain::scheduling::service::Service;
use crate::domain::values::{Date, EntityId, ShortText, UserId};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::Index;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from, entity_item};

/// How far ahead an appointment may be booked.
pub const HORIZON_DAYS: i64 = 365;
/// A cancel this close to the start is late.
pub const LATE_CANCEL_HOURS: i64 = 24;
/// How many free starts a refused booking suggests, and over how many days.
const SUGGESTIONS: usize = 5;
const SUGGESTION_DAYS: i64 = 7;

/// The writes that move a claimant's day items from what was read to what they become, each on the
/// version read (or on its absence): a concurrent claim makes the request decide again.
fn day_writes(
    clinic: EntityId,
    claimant: &Claimant,
    days: Vec<(NaiveDate, Day)>,
    change: impl Fn(&mut Day),
) -> Vec<Guarded> {
    days.into_iter()
        .map(|(date, mut day)| {
            let cond = if day.version == 0 { Cond::NotExists } else { Cond::VersionIs(day.version) };
            change(&mut day);
            day.version += 1;
            let item = entity_item(&Key::new(claimant.partition(clinic), day_sk(date)), &day);
            let busy = ApiError::Conflict("the calendar kept changing under this request; retry".into());
            Guarded::decided_on_reads(Write::put(Table::Records, item, cond), busy)
        })
        .collect()
}

/// A claimant's day items over exactly the UTC days of a block (absent ones as version 0).
async fn days_for(
    ctx: &Ctx,
    claimant: &Claimant,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Day)>, ApiError> {
    let wanted = days_of(from, until);
    let (Some(first), Some(last)) = (wanted.first(), wanted.last()) else { return Ok(Vec::new()) };
    let read = claims(ctx, claimant, *first, *last).await?;
    Ok(wanted
        .into_iter()
        .map(|date| (date, read.iter().find(|(d, _)| *d == date).map(|(_, day)| day.clone()).unwrap_or_default()))
        .collect())
}

fn clashes(days: &[(NaiveDate, Day)], from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    days.iter().any(|(_, day)| day.clash(from, until).is_some())
}

/// `POST /v1/appointments` with `{"patientId", "serviceId", "start", "staffId"?, "note"?}`.
pub async fn book(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let booking = input.form(ctx.rules(), Booking::read)?;
    let clinic = ctx.clinic()?;
    patients::load(&ctx, booking.patient_id).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::field_rule("patientId", "is not a patient of the clinic"),
        other => other,
    })?;
    let service: Service = load_item(&ctx, Service::key(clinic, booking.service_id))
        .await?
        .ok_or_else(|| ApiError::field_rule("serviceId", "is not a service of the clinic"))?;
    let start = booking.start;
    if start <= ctx.now {
        return Err(ApiError::field_rule("start", "must be in the future"));
    }
    if start > ctx.now + Duration::days(HORIZON_DAYS) {
        return Err(ApiError::field_rule("start", format!("must be within {HORIZON_DAYS} days")));
    }
    let details = service.details.clone();
    let local_zone = super::clinics::load(&ctx, clinic).await?.time_zone.zone();
    let local = start.with_timezone(&local_zone);
    let minutes = local.hour() * 60 + local.minute();
    if local.second() != 0 || local.nanosecond() != 0 || !minutes.is_multiple_of(details.interval_minutes) {
        let message =
            format!("must fall on the service's {}-minute steps from midnight, local time", details.interval_minutes);
        return Err(ApiError::field_rule("start", message));
    }
    let date = local.date_naive();
    let plan = Plan::load(&ctx, service, date, date).await?;
    let candidates = match &booking.staff_id {
        None => plan.performers.clone(),
        Some(user) if plan.performers.contains(user) => vec![user.clone()],
        Some(_) => return Err(ApiError::field_rule("staffId", "does not perform this service")),
    };
    let held_from = start - Duration::minutes(i64::from(details.buffer_before_minutes));
    let end = start + Duration::minutes(i64::from(details.duration_minutes));
    let held_until = end + Duration::minutes(i64::from(details.buffer_after_minutes));
    let mut working = false;
    for user in &candidates {
        // Within the performer's, the clinic's and the rooms' hours, with nobody's time claimed?
        let Some(stored) = super::hours::load(&ctx, &crate::domain::scheduling::Calendar::Staff(user.clone())).await?
        else {
            continue;
        };
        let mut hours_only = plan.need();
        hours_only.resource_busy.clear();
        if !hours_only.starts(&stored.hours, &[], date, date, ctx.now).contains(&start) {
            continue;
        }
        working = true;
        let performer = Claimant::Staff(user.clone());
        let performer_days = days_for(&ctx, &performer, held_from, held_until).await?;
        if clashes(&performer_days, held_from, held_until) {
            continue;
        }
        let mut resource_days = Vec::new();
        for id in &details.resource_ids {
            let claimant = Claimant::Resource(*id);
            let days = days_for(&ctx, &claimant, held_from, held_until).await?;
            if clashes(&days, held_from, held_until) {
                return Err(taken(&ctx, &plan, &candidates, start).await?);
            }
            resource_days.push((claimant, days));
        }
        let appointment = Appointment {
            id: ctx.new_id(),
            patient_id: booking.patient_id,
            service_id: booking.service_id,
            start,
            end,
            held_from,
            held_until,
            staff_id: user.clone(),
            resource_ids: details.resource_ids.clone(),
            note: booking.note.clone(),
            status: AppointmentStatus::Booked,
            booked_by: ctx.actor(),
            booked_at: ctx.now_text(),
            cancellation: None,
            version: 1,
        };
        let block = Block { start: held_from, end: held_until, appointment_id: appointment.id };
        let add = |day: &mut Day| day.blocks.push(block.clone());
        let collision = ApiError::Conflict("a concurrent request interfered; retry".into());
        let mut writes =
            vec![Guarded::new(Write::put(Table::Records, appointment.to_item(clinic), Cond::NotExists), collision)];
        writes.extend(day_writes(clinic, &performer, performer_days, add));
        for (claimant, days) in resource_days {
            writes.extend(day_writes(clinic, &claimant, days, add));
        }
        let reply = Reply::created(json!(appointment), format!("/v1/appointments/{}", appointment.id)).versioned(1);
        let facts = Facts::patient(appointment.patient_id).with("appointment", appointment.id);
        return Ok(Outcome::Write(writes, reply, facts));
    }
    if !working {
        return Err(ApiError::field_rule("start", "is outside the working hours of everyone who performs the service"));
    }
    Err(taken(&ctx, &plan, &candidates, start).await?)
}

/// The refusal of a taken time, with the next free starts of the same performers within a week.
async fn taken(ctx: &Ctx, plan: &Plan, who: &[UserId], after: DateTime<Utc>) -> Result<ApiError, ApiError> {
    let from = after.with_timezone(&plan.zone).date_naive();
    let to = from + Duration::days(SUGGESTION_DAYS - 1);
    let plan = Plan::load(ctx, plan.service.clone(), from, to).await?;
    let slots = plan.slots(ctx, who, from, to).await?;
    let next_free = slots.into_keys().filter(|s| *s > after).take(SUGGESTIONS).map(|s| plan.local_text(s)).collect();
    Ok(ApiError::Taken { next_free })
}

async fn load(ctx: &Ctx, input: &Input) -> Result<Appointment, ApiError> {
    let id = input.entity("appointmentId")?;
    load_item(ctx, Appointment::key(ctx.clinic()?, id)).await?.ok_or(ApiError::NotFound)
}

/// `GET /v1/appointments/{appointmentId}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let appointment = load(&ctx, &input).await?;
    let facts = Facts::patient(appointment.patient_id).with("appointment", appointment.id);
    Ok(Outcome::Read(Reply::ok(json!(appointment)).versioned(appointment.version), facts))
}

/// `POST /v1/appointments/{appointmentId}/cancel` with `{"reason"}` and `If-Match`: its time is released.
pub async fn cancel(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let reason: ShortText = input.form(ctx.rules(), |form| {
        form.only(&["reason"]);
        form.req("reason")
    })?;
    let expected = input.if_match()?;
    let current = load(&ctx, &input).await?;
    if current.version != expected {
        return Err(ApiError::PreconditionFailed);
    }
    if !current.status.holds_time() || current.status == AppointmentStatus::Completed {
        return Err(ApiError::Conflict(format!("the appointment is {}", current.status)));
    }
    let clinic = ctx.clinic()?;
    let late = current.start - ctx.now < Duration::hours(LATE_CANCEL_HOURS);
    let cancellation = Cancellation { by: ctx.actor(), at: ctx.now_text(), reason, late };
    let next = Appointment {
        status: AppointmentStatus::Cancelled,
        cancellation: Some(cancellation),
        version: expected + 1,
        ..current.clone()
    };
    let mut writes = vec![Guarded::new(
        Write::put(Table::Records, next.to_item(clinic), Cond::VersionIs(expected)),
        ApiError::PreconditionFailed,
    )];
    let release = |day: &mut Day| day.blocks.retain(|b| b.appointment_id != current.id);
    let claimants = std::iter::once(Claimant::Staff(current.staff_id.clone()))
        .chain(current.resource_ids.iter().map(|id| Claimant::Resource(*id)));
    for claimant in claimants {
        let days = days_for(&ctx, &claimant, current.held_from, current.held_until).await?;
        let holding: Vec<_> =
            days.into_iter().filter(|(_, d)| d.blocks.iter().any(|b| b.appointment_id == current.id)).collect();
        writes.extend(day_writes(clinic, &claimant, holding, release));
    }
    let facts = Facts::patient(next.patient_id).with("appointment", next.id);
    Ok(Outcome::Write(writes, Reply::ok(json!(next)).versioned(next.version), facts))
}

/// A page of appointments from one index, by start, within local dates `from`..=`to`.
async fn page(ctx: &Ctx, input: &Input, index: Index, partition: String) -> Result<(Value, Vec<EntityId>), ApiError> {
    let params = input.params(ctx.route.query)?;
    let rules = ctx.rules();
    let zone = super::clinics::load(ctx, ctx.clinic()?).await?.time_zone.zone();
    let from: Option<Date> = params.parsed("from", &rules)?;
    let to: Option<Date> = params.parsed("to", &rules)?;
    let bound = |date: NaiveDate| -> String {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        let instant = chrono::TimeZone::from_local_datetime(&zone, &midnight).earliest().map(|t| t.to_utc());
        instant.map(crate::ids::sortable_time).unwrap_or_default()
    };
    if let (Some(f), Some(t)) = (&from, &to) {
        if t.0 < f.0 {
            return Err(ApiError::field_rule("to", "must not be before from"));
        }
        if t.0 - f.0 >= Duration::days(super::availability::MAX_DAYS) {
            return Err(ApiError::field_rule("to", "must be within 31 days of from"));
        }
    }
    let low = from.as_ref().map_or_else(|| "0".to_string(), |f| bound(f.0));
    let high = to.as_ref().map_or_else(|| "9".to_string(), |t| bound(t.0 + Duration::days(1)));
    let scope = scope(ctx, &[Some(&partition), Some(&low), Some(&high)]);
    let query = Query::new(Table::Records, partition)
        .index(index)
        .sk(SkRange::Between(low, high))
        .limit(params.limit()?)
        .start_after(start_after(ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let appointments: Vec<Appointment> = page.items.iter().map(|i| entity_from(i.clone())).collect::<Result<_, _>>()?;
    let patients = appointments.iter().map(|a| a.patient_id).collect();
    let body = page_body(ctx, &scope, appointments.iter().map(|a| json!(a)).collect(), page.next)?;
    Ok((body, patients))
}

/// `GET /v1/appointments?from=&to=&staffId=`: the clinic's (or one performer's) appointments by start.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let clinic = ctx.clinic()?;
    let staff: Option<UserId> = params.parsed("staffId", &ctx.rules())?;
    let (index, partition) = match &staff {
        Some(user) => (Index::Gsi3, Appointment::staff_index(clinic, user)),
        None => (Index::Gsi2, Appointment::clinic_index(clinic)),
    };
    let (body, patients) = page(&ctx, &input, index, partition).await?;
    Ok(Outcome::Read(Reply::ok(body), Facts::listing(patients)))
}

/// `GET /v1/patients/{patientId}/appointments?from=&to=`: a patient's appointments (a patient-record read).
pub async fn of_patient(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    patients::load(&ctx, patient).await?;
    let partition = Appointment::patient_index(ctx.clinic()?, patient);
    let (body, _) = page(&ctx, &input, Index::Gsi1, partition).await?;
    Ok(Outcome::Read(Reply::ok(body), Facts::patient(patient)))
}
