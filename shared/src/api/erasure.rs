//! A patient's requests to erase or restrict their record (GDPR Art. 17 and 18): staff record them, an
//! administrator decides with a reason, and the decision is carried out. A restriction closes the record to
//! all but administrators and stops new writes; an erasure destroys the photos' keys at once, and the rest
//! of the record once the clinic's retention period for it has passed, leaving a tombstone and the trail.

use chrono::NaiveDate;
use serde_json::json;

use super::{clinics, page_body, patients, photos, scope, start_after};
use crate::domain::export::{self, Export, ExportState};
use crate::domain::fields::ParseStr;
use crate::domain::forms::invitation::Invitation;
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::photo::{Photo, PhotoState};
use crate::domain::rights::{
    self, Decision, Lifting, NewDecision, NewRequest, Outcome as Decided, Restriction, RightsKind, RightsRequest,
    RightsState, Tombstone,
};
use crate::domain::scheduling::appointment::Appointment;
use crate::domain::values::{EntityId, ShortText};
use crate::fhir::record::Record;
use crate::http::input::{Input, at_version};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::limits::MAX_TRANSACTION_WRITES;
use crate::store::schema::{Index, PK, SK};
use crate::store::{Cond, Key, Query, SkRange, StoreError, Table, Write, entity_from, query_all, str_attr};

fn facts(patient: EntityId, request: EntityId) -> Facts {
    Facts::patient(patient).with("erasure-request", request)
}

fn location(request: &RightsRequest) -> String {
    format!("/v1/patients/{}/erasure-requests/{}", request.patient_id, request.id)
}

fn request_write(clinic: EntityId, request: &RightsRequest, replaces: u64) -> Guarded {
    Guarded::new(
        Write::put(Table::Records, request.to_item(clinic), Cond::VersionIs(replaces)),
        ApiError::PreconditionFailed,
    )
}

fn patient_write(clinic: EntityId, patient: &Patient, replaces: u64) -> Guarded {
    let changed = ApiError::Conflict("the patient's record changed meanwhile; read the request again and retry".into());
    Guarded::new(Write::put(Table::Records, patient.to_item(clinic), Cond::VersionIs(replaces)), changed)
}

/// The answer of a change to a request: the request as it now stands.
fn answer(writes: Vec<Guarded>, request: &RightsRequest) -> Outcome {
    let reply = Reply::ok(json!(request)).versioned(request.version);
    Outcome::Write(writes, reply, facts(request.patient_id, request.id))
}

/// `POST /v1/patients/{patientId}/erasure-requests`: the patient's request, as staff took it.
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let new = input.form(ctx.rules(), NewRequest::read)?;
    patients::load(&ctx, patient).await?;
    let request = RightsRequest::open(ctx.new_id(), patient, new, ctx.actor(), ctx.now);
    let write = Guarded::new(
        Write::put(Table::Records, request.to_item(ctx.clinic()?), Cond::NotExists),
        ApiError::Conflict("an id collided; retry".into()),
    );
    let reply = Reply::created(json!(request), location(&request)).versioned(1);
    Ok(Outcome::Write(vec![write], reply, facts(patient, request.id)))
}

/// `GET /v1/patients/{patientId}/erasure-requests?limit=&cursor=`: the patient's requests, oldest first.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let params = input.params(ctx.route.query)?;
    match patients::load(&ctx, patient).await {
        // An erased patient's requests stay: they are the clinic's proof that it answered.
        Ok(_) | Err(ApiError::Gone(_)) => {}
        Err(e) => return Err(e),
    }
    let scope = scope(&ctx, &[Some(&patient.to_string())]);
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(rights::patient_prefix(patient)))
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let requests = page.items.into_iter().map(entity_from::<RightsRequest>).collect::<Result<Vec<_>, _>>()?;
    let body = page_body(&ctx, &scope, requests.iter().map(|r| json!(r)).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::patient(patient)))
}

/// `GET /v1/erasure-requests?limit=&cursor=`: the clinic's requests awaiting its action, soonest due first
/// (open ones by the day their answer is due, kept erasures by the day their record may be erased).
pub async fn awaiting(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let scope = scope(&ctx, &[]);
    let query = Query::new(Table::Records, rights::awaiting_index(ctx.clinic()?))
        .index(Index::Gsi1)
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let requests = page.items.into_iter().map(entity_from::<RightsRequest>).collect::<Result<Vec<_>, _>>()?;
    let facts = Facts::listing(requests.iter().map(|r| r.patient_id).collect());
    let body = page_body(&ctx, &scope, requests.iter().map(|r| json!(r)).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), facts))
}

/// A request of the caller's clinic's patient; anything else is not found.
async fn load(ctx: &Ctx, input: &Input) -> Result<RightsRequest, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("requestId")?);
    let item = ctx.app.records.get(Table::Records, &RightsRequest::key(ctx.clinic()?, patient, id)).await?;
    Ok(entity_from(item.ok_or(ApiError::NotFound)?)?)
}

/// `GET /v1/patients/{patientId}/erasure-requests/{requestId}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let request = load(&ctx, &input).await?;
    let reply = Reply::ok(json!(request)).versioned(request.version);
    Ok(Outcome::Read(reply, facts(request.patient_id, request.id)))
}

/// `POST /v1/patients/{patientId}/erasure-requests/{requestId}/decision` with `{"outcome", "reason"}` and
/// `If-Match`: an administrator grants or refuses an open request, and a grant is carried out.
pub async fn decide(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let decided = input.form(ctx.rules(), NewDecision::read)?;
    let expected = input.if_match()?;
    let request = load(&ctx, &input).await?;
    at_version(expected, request.version)?;
    if request.state != RightsState::Open {
        return Err(ApiError::Conflict(format!("the request was decided already: it is {}", request.state)));
    }
    let clinic = ctx.clinic()?;
    let mut next = request.next();
    next.decision =
        Some(Decision { outcome: decided.outcome, reason: decided.reason, by: ctx.actor(), at: ctx.now_text() });
    if decided.outcome == Decided::Refuse {
        // A refusal changes the request alone: it is answered even once the record is erased.
        next.state = RightsState::Refused;
        return Ok(answer(vec![request_write(clinic, &next, request.version)], &next));
    }
    let patient = patients::load(&ctx, request.patient_id).await?;
    match request.kind {
        RightsKind::Restriction => {
            if let Some(held) = &patient.restriction {
                return Err(ApiError::Conflict(format!(
                    "the record is restricted already, by request {}; refuse this one, or lift that one first",
                    held.request_id
                )));
            }
            next.state = RightsState::Restricted;
            let restricted = restrict(&ctx, &patient, &next);
            let writes = vec![
                request_write(clinic, &next, request.version),
                patient_write(clinic, &restricted, patient.version),
            ];
            Ok(answer(writes, &next))
        }
        RightsKind::Erasure => erase(&ctx, patient, request, next).await,
    }
}

/// `POST /v1/patients/{patientId}/erasure-requests/{requestId}/complete`: an erasure whose record was kept
/// for its retention period is finished once that period has passed; one that stopped midway is finished.
pub async fn complete(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let request = load(&ctx, &input).await?;
    if !matches!(request.state, RightsState::Kept | RightsState::Erasing) {
        return Err(ApiError::Conflict(format!(
            "only an erasure whose record is kept (or that stopped midway) is completed: this request is {}",
            request.state
        )));
    }
    let patient = patients::load(&ctx, request.patient_id).await?;
    let next = request.next();
    erase(&ctx, patient, request, next).await
}

/// `POST /v1/patients/{patientId}/erasure-requests/{requestId}/lift` with `{"reason"}`: a restriction in
/// force is lifted (the patient is told before, Art. 18(3)).
pub async fn lift(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let reason: ShortText = input.form(ctx.rules(), |form| {
        form.only(&["reason"]);
        form.req("reason")
    })?;
    let request = load(&ctx, &input).await?;
    if request.kind != RightsKind::Restriction || request.state != RightsState::Restricted {
        return Err(ApiError::Conflict(format!(
            "only a restriction in force is lifted: this request is {}",
            request.state
        )));
    }
    let patient = patients::load(&ctx, request.patient_id).await?;
    if let Some(held) = patient.restriction.as_ref().filter(|r| r.request_id != request.id) {
        return Err(ApiError::Conflict(format!(
            "the record is held restricted by erasure request {} until its retention ends",
            held.request_id
        )));
    }
    let clinic = ctx.clinic()?;
    let mut next = request.next();
    next.state = RightsState::Lifted;
    next.lifted = Some(Lifting { reason, by: ctx.actor(), at: ctx.now_text() });
    let opened =
        Patient { restriction: None, version: patient.version + 1, updated_at: ctx.now_text(), ..patient.clone() };
    let writes = vec![request_write(clinic, &next, request.version), patient_write(clinic, &opened, patient.version)];
    Ok(answer(writes, &next))
}

/// The patient restricted by `request`, one version on.
fn restrict(ctx: &Ctx, patient: &Patient, request: &RightsRequest) -> Patient {
    let restriction = Restriction { request_id: request.id, kind: request.kind, since: ctx.now_text() };
    Patient { restriction: Some(restriction), version: patient.version + 1, ..patient.clone() }
}

/// What an erasure finds of a patient's record.
struct Holdings {
    /// Every item of the record: the chart partition and its history, invitations' links and drafts.
    items: Vec<Key>,
    /// Photos not erased yet.
    photos: Vec<Photo>,
    /// Exports whose ZIP may still be in the bucket.
    exports: Vec<Export>,
    appointments: Vec<Appointment>,
    /// The day of the last care: the latest chart entry's change, photo, submission or appointment held.
    last_care: NaiveDate,
}

fn day_of(text: &str) -> Option<NaiveDate> {
    text.get(..10)?.parse().ok()
}

async fn survey(ctx: &Ctx, clinic: EntityId, patient: &Patient) -> Result<Holdings, ApiError> {
    let records = ctx.app.records.as_ref();
    let mut held = Holdings {
        items: Vec::new(),
        photos: Vec::new(),
        exports: Vec::new(),
        appointments: Vec::new(),
        last_care: day_of(&patient.created_at).unwrap_or(NaiveDate::MIN),
    };
    let mut cared = |text: &str| {
        if let Some(day) = day_of(text) {
            held.last_care = held.last_care.max(day);
        }
    };
    let partitions = [keys::chart_pk(clinic, patient.id), keys::chart_history_pk(clinic, patient.id)];
    let mut items = Vec::new();
    for partition in partitions {
        items.extend(query_all(records, Query::new(Table::Records, partition).limit(100)).await?);
    }
    let mut keys = Vec::new();
    let mut photos = Vec::new();
    let mut exports = Vec::new();
    for item in items {
        let (pk, sk) =
            (str_attr(&item, PK).unwrap_or_default().to_string(), str_attr(&item, SK).unwrap_or_default().to_string());
        if sk.starts_with("INVITATION#") {
            let invitation: Invitation = entity_from(item.clone())?;
            keys.extend([Invitation::link_key(&invitation.token_hash), Invitation::draft_key(&invitation.token_hash)]);
        } else if sk.starts_with(export::PREFIX) {
            exports.push(entity_from::<Export>(item.clone())?);
        } else if pk == keys::chart_pk(clinic, patient.id) {
            match Record::from_item(item)? {
                Some(Record::Entry(entry)) => cared(&entry.updated_at),
                Some(Record::Photo(photo)) => {
                    cared(&photo.created_at);
                    if photo.state != PhotoState::Erased {
                        photos.push(photo);
                    }
                }
                Some(Record::Submission(submission)) => cared(&submission.submitted_at),
                None => {}
            }
        }
        keys.push(Key::new(pk, sk));
    }
    let index =
        Query::new(Table::Records, Appointment::patient_index(clinic, patient.id)).index(Index::Gsi1).limit(100);
    let mut appointments = Vec::new();
    for item in query_all(records, index).await? {
        let appointment: Appointment = entity_from(item)?;
        if appointment.status.holds_time() && appointment.start <= ctx.now {
            cared(&crate::ids::sortable_time(appointment.start));
        }
        appointments.push(appointment);
    }
    Ok(Holdings { items: keys, photos, exports, appointments, ..held })
}

/// Applies writes a transaction at a time; a write whose condition fails stops it, said as `on_fail`.
async fn apply(ctx: &Ctx, writes: Vec<Write>, on_fail: &str) -> Result<(), ApiError> {
    for chunk in writes.chunks(MAX_TRANSACTION_WRITES) {
        match ctx.app.records.transact(chunk.to_vec()).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                return Err(ApiError::Conflict(on_fail.into()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Carries out a granted erasure. First the request is marked `erasing` and the record restricted, so
/// nothing new is written to it meanwhile. The photos' keys are destroyed; then, if the clinic's retention
/// period for the record has passed, every item of it is deleted and a tombstone left; if not, the record
/// stays restricted until it has, and the request says until when and why.
async fn erase(
    ctx: &Ctx,
    patient: Patient,
    request: RightsRequest,
    mut next: RightsRequest,
) -> Result<Outcome, ApiError> {
    let clinic = ctx.clinic()?;
    let held = survey(ctx, clinic, &patient).await?;
    let upcoming = held.appointments.iter().filter(|a| a.status.holds_time() && a.start > ctx.now).count();
    if upcoming > 0 {
        return Err(ApiError::Conflict(format!(
            "the patient has {upcoming} upcoming appointment(s): cancel them before the record is erased"
        )));
    }
    if held.exports.iter().any(|e| matches!(e.state, ExportState::Queued | ExportState::Running)) {
        // Its ZIP would be written after the erasure, with nothing left to delete it by.
        return Err(ApiError::Conflict(
            "an export of the record is being built: try again once it is ready (a few minutes)".into(),
        ));
    }
    let retention = clinics::load(ctx, clinic).await?.record_retention;
    let kept_until = retention.as_ref().map(|r| r.kept_until(held.last_care, patient.details.birth_date.0.0));
    if request.state == RightsState::Kept && kept_until.is_none_or(|until| until >= ctx.now.date_naive()) {
        let until =
            kept_until.map_or_else(|| "no retention period is configured".into(), |d| format!("it is kept until {d}"));
        return Err(ApiError::Conflict(format!("the record may not be erased yet: {until}")));
    }
    // The claim: erasing, and the record closed while it is (a request stopped midway holds it already).
    // What the record holds is read again once nothing new can be written to it.
    let (patient, held) = if request.state == RightsState::Erasing {
        (patient, held)
    } else {
        let mut claimed = next.clone();
        claimed.state = RightsState::Erasing;
        let restricted = restrict(ctx, &patient, &claimed);
        let writes = vec![
            Write::put(Table::Records, claimed.to_item(clinic), Cond::VersionIs(request.version)),
            Write::put(Table::Records, restricted.to_item(clinic), Cond::VersionIs(patient.version)),
        ];
        apply(ctx, writes, "the request or the record changed meanwhile; read the request again").await?;
        next = claimed.next();
        let held = survey(ctx, clinic, &restricted).await?;
        (restricted, held)
    };
    let replaces = next.version - 1;
    // A request completed after its record was kept counts on from what it did then.
    let mut result = next.erasure.take().unwrap_or_default();
    result.photos_erased += held.photos.len() as u64;
    let mut objects = Vec::new();
    let reason =
        ShortText::parse_str(&format!("erasure request {}", request.id), &ctx.rules()).map_err(ApiError::Internal)?;
    let mut shreds = Vec::new();
    for photo in &held.photos {
        let (erased, photo_objects) = photos::shred(ctx, photo, &reason)?;
        objects.extend(photo_objects);
        shreds.push(Write::put(Table::Records, erased.to_item(clinic), Cond::VersionIs(photo.version)));
    }
    let stopped = "a photo changed during the erasure; complete the request to finish it";
    apply(ctx, shreds, stopped).await?;
    let due = kept_until.is_some_and(|until| until < ctx.now.date_naive());
    let mut writes = Vec::new();
    if due {
        // The exports' ZIPs hold the record opened: they go before anything that names them.
        let bucket = crate::exports::bucket(ctx)?;
        for export in &held.exports {
            bucket.delete(&export.object_key()).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
        }
        let mut deletes: Vec<Write> = held
            .appointments
            .iter()
            .filter(|a| a.note.is_some())
            .map(|a| {
                let scrubbed = Appointment { note: None, version: a.version + 1, ..a.clone() };
                Write::put(Table::Records, scrubbed.to_item(clinic), Cond::VersionIs(a.version))
            })
            .collect();
        deletes.extend(held.items.iter().map(|key| Write::Delete {
            table: Table::Records,
            key: key.clone(),
            cond: Cond::Always,
        }));
        deletes.push(Write::Delete {
            table: Table::Records,
            key: Key::new(keys::clinic_pk(clinic), keys::mrn_sk(&patient.mrn)),
            cond: Cond::Always,
        });
        result.items_deleted += held.items.len() as u64 + 1;
        (result.kept_until, result.kept_because) = (None, None);
        apply(ctx, deletes, "an appointment changed during the erasure; complete the request to finish it").await?;
        // A write that passed the restriction's check just before the claim may have landed since.
        if !survey(ctx, clinic, &patient).await?.items.is_empty() {
            return Err(ApiError::Conflict(
                "something was written to the record during the erasure; complete the request to finish it".into(),
            ));
        }
        result.erased_at = Some(ctx.now_text());
        next.state = RightsState::Erased;
        let tombstone = Tombstone { patient_id: patient.id, request_id: request.id, erased_at: ctx.now_text() };
        writes.push(Guarded::new(
            Write::put(Table::Records, tombstone.to_item(clinic), Cond::Always),
            ApiError::Conflict("the tombstone could not be written".into()),
        ));
        writes.push(Guarded::new(
            Write::Delete {
                table: Table::Records,
                key: patient_key(clinic, &patient),
                cond: Cond::VersionIs(patient.version),
            },
            ApiError::Conflict("the patient's record changed meanwhile; complete the request to finish it".into()),
        ));
    } else {
        next.state = RightsState::Kept;
        result.kept_until = kept_until;
        result.kept_because = Some(match (&retention, kept_until) {
            (Some(rule), Some(until)) => rule.because(until),
            _ => "the clinic has configured no retention period for its records (clinic setting recordRetention): the record is kept, restricted, until it does and the period has passed".into(),
        });
    }
    next.erasure = Some(result);
    writes.insert(0, request_write(clinic, &next, replaces));
    let reply = Reply::ok(json!(next)).versioned(next.version);
    Ok(Outcome::WriteThenDelete(writes, reply, facts(next.patient_id, next.id), objects))
}

fn patient_key(clinic: EntityId, patient: &Patient) -> Key {
    Key::new(keys::clinic_pk(clinic), keys::patient_sk(patient.id))
}
