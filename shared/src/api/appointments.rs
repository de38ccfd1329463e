//! Appointments: booking, which claims the performer's and every room's and device's time in the same
//! transaction that writes the appointment (see `domain::scheduling::claims`); the lists by day, by
//! performer and by patient; one appointment; and cancelling, which releases the claims the same way.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde_json::{Value, json};

use super::availability::{Plan, claims};
use super::catalogue::load_item;
use super::{page_body, patients, scope, start_after};
use crate::domain::clinic::Clinic;
use crate::domain::forms::invitation::{Channel as FormsChannel, MAX_HOURS};
use crate::domain::patient::Patient;
use crate::domain::safety::gate::ACKNOWLEDGEMENTS;
use crate::domain::scheduling::Calendar;
use crate::domain::scheduling::appointment::{
    Appointment, AppointmentStatus, Booking, Cancellation, Move, Slot, StatusChange,
};
use crate::domain::scheduling::claims::{Block, Claimant, Day, day_sk, days_of};
use crate::domain::scheduling::service::Service;
use crate::domain::values::{Date, EntityId, ShortText, UserId};
use crate::http::input::{Input, at_version};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::messages::outbox::{self, Draft, Envelope, QueuedMessage};
use crate::messages::reminders::{self, Reminder};
use crate::messages::templates::{Template, Values, spell_time};
use crate::store::schema::Index;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from, entity_item};

/// How far ahead an appointment may be booked.
pub const HORIZON_DAYS: i64 = 365;
/// How many free starts a refused booking suggests, and over how many days.
const SUGGESTIONS: usize = 5;
const SUGGESTION_DAYS: i64 = 7;

/// The writes that move a claimant's day items from what was read to what they become, each on the
/// version read (or on its absence): a concurrent claim makes the request decide again. Lapsed holds
/// (as of `now`) leave each day written.
pub(super) fn day_writes(
    clinic: EntityId,
    claimant: &Claimant,
    days: Vec<(NaiveDate, Day)>,
    now: DateTime<Utc>,
    change: impl Fn(&mut Day),
) -> Vec<Guarded> {
    days.into_iter()
        .map(|(date, mut day)| {
            let cond = if day.version == 0 { Cond::NotExists } else { Cond::VersionIs(day.version) };
            day.prune(now);
            change(&mut day);
            day.version += 1;
            let item = entity_item(&Key::new(claimant.partition(clinic), day_sk(date)), &day);
            let busy = ApiError::Conflict("the calendar kept changing under this request; retry".into());
            Guarded::decided_on_reads(Write::put(Table::Records, item, cond), busy)
        })
        .collect()
}

/// A claimant's day items over exactly the UTC days of a block (absent ones as version 0).
pub(super) async fn days_for(
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

/// Where a service is held from a start: by whom, until when, and the day items it claims (as read).
pub(super) struct Placement {
    pub staff_id: UserId,
    pub end: DateTime<Utc>,
    pub held_from: DateTime<Utc>,
    pub held_until: DateTime<Utc>,
    pub claims: Vec<(Claimant, Vec<(NaiveDate, Day)>)>,
}

impl Placement {
    /// The slot it places a start of `plan`'s service in.
    pub fn slot(&self, start: DateTime<Utc>, plan: &Plan) -> Slot {
        Slot {
            start,
            end: self.end,
            held_from: self.held_from,
            held_until: self.held_until,
            staff_id: self.staff_id.clone(),
            resource_ids: plan.service.details.resource_ids.clone(),
        }
    }
}

/// The first of `candidates` who, with every room and device the service needs, is free to hold it from
/// `start` (the claims of `moving`, an appointment being moved, aside); 409 for a start the calendar does
/// not offer: passed, too far ahead, off the service's steps or outside the hours, or (with the next free
/// starts) taken.
pub(super) async fn place(
    ctx: &Ctx,
    plan: &Plan,
    candidates: &[UserId],
    start: DateTime<Utc>,
    moving: Option<EntityId>,
) -> Result<Placement, ApiError> {
    if start <= ctx.now {
        return Err(ApiError::unsuitable("start", "has passed: choose a free start (GET availability)"));
    }
    if start > ctx.now + Duration::days(HORIZON_DAYS) {
        return Err(ApiError::unsuitable(
            "start",
            format!("is more than {HORIZON_DAYS} days ahead: bookings open later"),
        ));
    }
    let details = &plan.service.details;
    let local = start.with_timezone(&plan.zone);
    let minutes = local.hour() * 60 + local.minute();
    if local.second() != 0 || local.nanosecond() != 0 || !minutes.is_multiple_of(details.interval_minutes) {
        let message = format!(
            "is not on the service's {}-minute steps from midnight, local time: choose a free start (GET availability)",
            details.interval_minutes
        );
        return Err(ApiError::unsuitable("start", message));
    }
    let date = local.date_naive();
    let held_from = start - Duration::minutes(i64::from(details.buffer_before_minutes));
    let end = start + Duration::minutes(i64::from(details.duration_minutes));
    let held_until = end + Duration::minutes(i64::from(details.buffer_after_minutes));
    let clash = |days: &[(NaiveDate, Day)]| {
        days.iter().any(|(_, day)| {
            day.blocks
                .iter()
                .any(|b| Some(b.appointment_id) != moving && b.holds_at(ctx.now) && b.overlaps(held_from, held_until))
        })
    };
    let mut working = false;
    for user in candidates {
        // Within the performer's, the clinic's and the rooms' hours?
        let Some(stored) = super::hours::load(ctx, &Calendar::Staff(user.clone())).await? else { continue };
        let mut hours_only = plan.need();
        hours_only.resource_busy.clear();
        if !hours_only.starts(&stored.hours, &[], date, date, ctx.now).contains(&start) {
            continue;
        }
        working = true;
        let performer = Claimant::Staff(user.clone());
        let performer_days = days_for(ctx, &performer, held_from, held_until).await?;
        if clash(&performer_days) {
            continue;
        }
        let mut claims = vec![(performer, performer_days)];
        for id in &details.resource_ids {
            let claimant = Claimant::Resource(*id);
            let days = days_for(ctx, &claimant, held_from, held_until).await?;
            if clash(&days) {
                return Err(taken(ctx, plan, candidates, start).await?);
            }
            claims.push((claimant, days));
        }
        return Ok(Placement { staff_id: user.clone(), end, held_from, held_until, claims });
    }
    if !working {
        return Err(ApiError::unsuitable(
            "start",
            "is outside the working hours of everyone who performs the service: choose a free start (GET availability)",
        ));
    }
    Err(taken(ctx, plan, candidates, start).await?)
}

/// The performers a request may have: the one it names (who must perform the service), else all of them,
/// `first` first.
pub(super) fn candidates(plan: &Plan, named: Option<&UserId>, first: Option<&UserId>) -> Result<Vec<UserId>, ApiError> {
    match named {
        Some(user) if plan.performers.contains(user) => Ok(vec![user.clone()]),
        Some(_) => Err(ApiError::unsuitable("staffId", "does not perform this service")),
        None => {
            let mut all = plan.performers.clone();
            if let Some(index) = first.and_then(|f| all.iter().position(|u| u == f)) {
                let preferred = all.remove(index);
                all.insert(0, preferred);
            }
            Ok(all)
        }
    }
}

/// `POST /v1/appointments` with `{"patientId", "serviceId", "start", "staffId"?, "note"?,
/// "safetyOverrides"?}`: a service that names its treatment is checked against the patient's chart first.
pub async fn book(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let booking = input.form(ctx.rules(), Booking::read)?;
    let clinic = ctx.clinic()?;
    let patient = patients::load(&ctx, booking.patient_id).await.map_err(|e| match e {
        ApiError::NotFound => ApiError::unknown("patientId", "is not a patient of the clinic"),
        other => other,
    })?;
    let service: Service = load_item(&ctx, Service::key(clinic, booking.service_id))
        .await?
        .ok_or_else(|| ApiError::unknown("serviceId", "is not a service of the clinic"))?;
    let profile = super::clinics::load(&ctx, clinic).await?;
    let zone = profile.time_zone.zone();
    let date = booking.start.with_timezone(&zone).date_naive();
    let plan = Plan::load(&ctx, zone, service.clone(), date, date).await?;
    let candidates = candidates(&plan, booking.staff_id.as_ref(), None)?;
    let placed = place(&ctx, &plan, &candidates, booking.start, None).await?;
    let checked = match &service.details.treatment {
        Some(treatment) => {
            let given = booking.acknowledged;
            Some(super::safety::booking_gate(&ctx, booking.patient_id, treatment, date, given).await?)
        }
        None if !booking.acknowledged.is_empty() => {
            return Err(ApiError::unsuitable(
                ACKNOWLEDGEMENTS,
                "the service names no treatment, so a booking of it raises no safety alert to acknowledge",
            ));
        }
        None => None,
    };
    let slot = placed.slot(booking.start, &plan);
    let appointment = Appointment::booked(
        ctx.new_id(),
        booking.patient_id,
        booking.service_id,
        slot,
        booking.note,
        ctx.actor(),
        ctx.now_text(),
    );
    let block =
        Block { start: placed.held_from, end: placed.held_until, appointment_id: appointment.id, lapses_at: None };
    let add = |day: &mut Day| day.blocks.push(block.clone());
    let collision = ApiError::Conflict("a concurrent request interfered; retry".into());
    let mut writes =
        vec![Guarded::new(Write::put(Table::Records, appointment.to_item(clinic), Cond::NotExists), collision)];
    for (claimant, days) in placed.claims {
        writes.extend(day_writes(clinic, &claimant, days, ctx.now, add));
    }
    writes.extend(reminder_write(&ctx, None, &appointment, &profile.reminder_hours));
    writes.extend(confirmation(&ctx, &profile, &patient, &appointment, &service).await?);
    let mut body = json!(appointment);
    let mut facts = Facts::patient(appointment.patient_id).with("appointment", appointment.id);
    if let Some((record, shown)) = checked {
        // The acknowledgements are kept in the overrides index, not on the appointment, which staff who do
        // not read the chart see.
        let target = super::safety::Target {
            patient: appointment.patient_id,
            kind: "appointment",
            id: appointment.id,
            version: appointment.version,
        };
        writes.extend(super::safety::override_writes(clinic, target, &record, &appointment.booked_at));
        facts.resources.extend(super::safety::override_resources(&record, &appointment.booked_at));
        body["safetyAlerts"] = json!(shown);
    }
    let reply = Reply::created(body, format!("/v1/appointments/{}", appointment.id)).versioned(1);
    Ok(Outcome::Write(writes, reply, facts))
}

/// `POST /v1/appointments/{appointmentId}/reschedule` with `{"start", "staffId"?}` and `If-Match`: the new
/// time is claimed and the old released in one transaction; where it was is kept in `moves`.
pub async fn reschedule(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (start, named) = input.form(ctx.rules(), |form| {
        form.only(&["start", "staffId"]);
        let start = crate::domain::scheduling::appointment::read_start(form);
        let named: Option<UserId> = form.opt("staffId");
        Some((start?, named))
    })?;
    let expected = input.if_match()?;
    let current = load(&ctx, &input).await?;
    at_version(expected, current.version)?;
    if !current.status.movable() {
        return Err(ApiError::Conflict(format!("the appointment is {}", current.status)));
    }
    let clinic = ctx.clinic()?;
    let service: Service =
        load_item(&ctx, Service::key(clinic, current.service_id)).await?.ok_or(ApiError::NotFound)?;
    let profile = super::clinics::load(&ctx, clinic).await?;
    let zone = profile.time_zone.zone();
    let date = start.with_timezone(&zone).date_naive();
    let plan = Plan::load(&ctx, zone, service, date, date).await?;
    let candidates = candidates(&plan, named.as_ref(), Some(&current.staff_id))?;
    let placed = place(&ctx, &plan, &candidates, start, Some(current.id)).await?;
    let moved = Move { start: current.start, staff_id: current.staff_id.clone(), by: ctx.actor(), at: ctx.now_text() };
    let mut moves = current.moves.clone();
    moves.push(moved);
    let next = Appointment {
        start,
        end: placed.end,
        held_from: placed.held_from,
        held_until: placed.held_until,
        staff_id: placed.staff_id.clone(),
        moves,
        version: expected + 1,
        ..current.clone()
    };
    let mut writes = vec![Guarded::new(
        Write::put(Table::Records, next.to_item(clinic), Cond::VersionIs(expected)),
        ApiError::PreconditionFailed,
    )];
    // Every day item it leaves or takes, each written once: its old block out, the new one in.
    let block = Block { start: placed.held_from, end: placed.held_until, appointment_id: current.id, lapses_at: None };
    let mut touched = placed.claims;
    for claimant in claimants_of(&current) {
        for (date, day) in days_for(&ctx, &claimant, current.held_from, current.held_until).await? {
            let known = touched.iter_mut().find(|(c, _)| *c == claimant);
            match known {
                Some((_, days)) if days.iter().any(|(d, _)| *d == date) => {}
                Some((_, days)) => days.push((date, day)),
                None => touched.push((claimant.clone(), vec![(date, day)])),
            }
        }
    }
    for (claimant, days) in touched {
        let claimed: Vec<NaiveDate> = days_of(placed.held_from, placed.held_until);
        let takes = claimant == Claimant::Staff(placed.staff_id.clone())
            || matches!(&claimant, Claimant::Resource(id) if next.resource_ids.contains(id));
        for (date, day) in days {
            let change = |d: &mut Day| {
                d.blocks.retain(|b| b.appointment_id != current.id);
                if takes && claimed.contains(&date) {
                    d.blocks.push(block.clone());
                }
            };
            writes.extend(day_writes(clinic, &claimant, vec![(date, day)], ctx.now, change));
        }
    }
    let reminder = reminders::read(&ctx.app, clinic, current.id).await?;
    writes.extend(reminder_write(&ctx, reminder.as_ref(), &next, &profile.reminder_hours));
    let facts = Facts::patient(next.patient_id).with("appointment", next.id);
    Ok(Outcome::Write(writes, Reply::ok(json!(next)).versioned(next.version), facts))
}

/// The write that keeps an appointment's reminders in step with it (see `messages::reminders`); a
/// dispatcher that took an hour off meanwhile sends the request back to its handler.
pub(super) fn reminder_write(
    ctx: &Ctx,
    current: Option<&Reminder>,
    next: &Appointment,
    hours: &[u32],
) -> Option<Guarded> {
    let clinic = ctx.clinic().ok()?;
    reminders::rewrite(clinic, current, next, hours, ctx.now).map(|write| {
        Guarded::decided_on_reads(
            write,
            ApiError::Conflict("the appointment's reminders changed meanwhile; retry".into()),
        )
    })
}

/// The id of the message that confirms an appointment.
fn confirmation_id(appointment: &Appointment) -> String {
    format!("{}-booked", appointment.id)
}

/// The message that confirms a new appointment to its patient (a text to their phone, else an e-mail; none
/// without either), with a link to the service's pre-visit forms when it has any (valid until the start,
/// two weeks at most): the writes that queue it.
pub(super) async fn confirmation(
    ctx: &Ctx,
    clinic: &Clinic,
    patient: &Patient,
    appointment: &Appointment,
    service: &Service,
) -> Result<Vec<Guarded>, ApiError> {
    let Some((channel, to)) = reminders::contact_of(patient) else { return Ok(Vec::new()) };
    let mut writes = Vec::new();
    let templates = &service.details.form_template_ids;
    let forms = if templates.is_empty() {
        None
    } else {
        let hours = ((appointment.start - ctx.now).num_hours() + 1).clamp(1, MAX_HOURS);
        let (_, link, invitation) =
            super::invitations::invite(ctx, clinic, patient, templates, FormsChannel::Link, hours).await?;
        writes.extend(invitation);
        Some(link)
    };
    let language = reminders::language_for(patient, clinic);
    let message = QueuedMessage::queue(
        Draft {
            envelope: Envelope {
                id: confirmation_id(appointment),
                clinic_id: clinic.id,
                patient_id: Some(patient.id),
                channel,
                to,
                template: Template::BookingConfirmed,
                language,
                values: Values {
                    first_name: reminders::first_name(patient),
                    clinic_name: clinic.name.as_str().to_string(),
                    when: Some(spell_time(appointment.start, clinic.time_zone.zone(), language)),
                    amount: None,
                },
            },
            link: forms,
            // The booking's own time: a cancel finds the message by it.
            queued_at: appointment.booked_at.clone(),
            due: ctx.now,
            expires_at: None,
        },
        &ctx.app.keys()?.stored_secrets,
    );
    writes.push(Guarded::new(message.queue_write(), ApiError::Conflict("an id collided; retry".into())));
    Ok(writes)
}

/// The calendars an appointment claims.
pub(super) fn claimants_of(appointment: &Appointment) -> Vec<Claimant> {
    std::iter::once(Claimant::Staff(appointment.staff_id.clone()))
        .chain(appointment.resource_ids.iter().map(|id| Claimant::Resource(*id)))
        .collect()
}

/// `POST /v1/appointments/{appointmentId}/status` with `{"status", "treatmentIds"?}` and `If-Match`: one
/// step of `booked → confirmed → arrived → in-treatment → completed`, or `no-show` before arrival. A
/// completed appointment may name the treatments charted in it.
pub async fn status(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (status, treatments) = input.form(ctx.rules(), |form| {
        form.only(&["status", "treatmentIds"]);
        let status: Option<AppointmentStatus> = form.req("status");
        let treatments: Option<Vec<EntityId>> = form.list("treatmentIds", 0, 20);
        Some((status?, treatments?))
    })?;
    if status == AppointmentStatus::Cancelled {
        return Err(ApiError::field_rule("status", "cancel with POST .../cancel and a reason"));
    }
    if !treatments.is_empty() && status != AppointmentStatus::Completed {
        return Err(ApiError::field_rule("treatmentIds", "are named only when the appointment is completed"));
    }
    let expected = input.if_match()?;
    let current = load(&ctx, &input).await?;
    at_version(expected, current.version)?;
    if !current.status.may_become(status) {
        return Err(ApiError::Conflict(format!("an appointment that is {} cannot become {status}", current.status)));
    }
    let clinic = ctx.clinic()?;
    for id in &treatments {
        let key = Key::new(
            crate::domain::keys::chart_pk(clinic, current.patient_id),
            crate::domain::keys::chart_entry_sk(crate::domain::chart::ChartKind::Treatment.key_prefix(), *id),
        );
        if ctx.app.records.get(Table::Records, &key).await?.is_none() {
            return Err(ApiError::unknown("treatmentIds", format!("{id} is not a treatment of the patient")));
        }
    }
    let mut changes = current.status_changes.clone();
    changes.push(StatusChange { status, by: ctx.actor(), at: ctx.now_text() });
    let next =
        Appointment { status, status_changes: changes, treatment_ids: treatments, version: expected + 1, ..current };
    let mut writes = vec![Guarded::new(
        Write::put(Table::Records, next.to_item(clinic), Cond::VersionIs(expected)),
        ApiError::PreconditionFailed,
    )];
    // From arrival on (or a no-show) nobody is reminded; a confirmation keeps the reminders as they are.
    if status != AppointmentStatus::Confirmed {
        let reminder = reminders::read(&ctx.app, clinic, next.id).await?;
        writes.extend(reminder_write(&ctx, reminder.as_ref(), &next, &[]));
    }
    let facts = Facts::patient(next.patient_id).with("appointment", next.id);
    Ok(Outcome::Write(writes, Reply::ok(json!(next)).versioned(next.version), facts))
}

/// The refusal of a taken time, with the next free starts of the same performers within a week.
async fn taken(ctx: &Ctx, plan: &Plan, who: &[UserId], after: DateTime<Utc>) -> Result<ApiError, ApiError> {
    let from = after.with_timezone(&plan.zone).date_naive();
    let to = from + Duration::days(SUGGESTION_DAYS - 1);
    let plan = Plan::load(ctx, plan.zone, plan.service.clone(), from, to).await?;
    let slots = plan.slots(ctx, who, from, to).await?;
    let next_free = slots.into_keys().filter(|s| *s > after).take(SUGGESTIONS).map(|s| plan.local_text(s)).collect();
    Ok(ApiError::Taken { next_free })
}

/// An appointment of the caller's clinic, that the caller may act on as its patient's restriction stands.
async fn load(ctx: &Ctx, input: &Input) -> Result<Appointment, ApiError> {
    let id = input.entity("appointmentId")?;
    let appointment: Appointment =
        load_item(ctx, Appointment::key(ctx.clinic()?, id)).await?.ok_or(ApiError::NotFound)?;
    patients::check(ctx, appointment.patient_id).await?;
    Ok(appointment)
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
    at_version(expected, current.version)?;
    if !current.status.holds_time() || current.status == AppointmentStatus::Completed {
        return Err(ApiError::Conflict(format!("the appointment is {}", current.status)));
    }
    let clinic = ctx.clinic()?;
    let window = super::clinics::load(&ctx, clinic).await?.cancellation_window_hours;
    let reminder = reminders::read(&ctx.app, clinic, current.id).await?;
    let late = current.start - ctx.now <= Duration::hours(i64::from(window));
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
    for claimant in claimants_of(&current) {
        let days = days_for(&ctx, &claimant, current.held_from, current.held_until).await?;
        let holding: Vec<_> =
            days.into_iter().filter(|(_, d)| d.blocks.iter().any(|b| b.appointment_id == current.id)).collect();
        writes.extend(day_writes(clinic, &claimant, holding, ctx.now, release));
    }
    writes.extend(reminder_write(&ctx, reminder.as_ref(), &next, &[]));
    // A confirmation that has not left yet is withdrawn: nobody is told of a visit that is off.
    let confirmation = QueuedMessage::key_of(clinic, &current.booked_at, &confirmation_id(&current));
    if let Some(withdraw) = outbox::withdraw(ctx.app.records.as_ref(), &confirmation).await? {
        let moved = ApiError::Conflict("the appointment's messages changed meanwhile; retry".into());
        writes.push(Guarded::decided_on_reads(withdraw, moved));
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
