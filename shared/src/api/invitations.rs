//! Invitations: staff send a patient (existing, or new by name and contact) a link to one or more forms.
//! The link carries a random token of which only the hash is kept; it expires, can be revoked, and is used
//! up by the submission. An e-mail or text invitation is queued in the outbox with the invitation, and the
//! dispatcher sends it (see `messages`).

use serde_json::{Value, json};

use super::chart::query_all;
use super::{forms, patients};
use crate::domain::clinic::Clinic;
use crate::domain::fields::{Form, Issue};
use crate::domain::forms::invitation::{
    Channel, DEFAULT_HOURS, Invitation, InvitationStatus, InvitedForm, MAX_HOURS, new_token,
};
use crate::domain::keys;
use crate::domain::patient::{Patient, PatientDetails};
use crate::domain::values::EntityId;
use crate::http::input::{Input, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::messages::Channel as MessageChannel;
use crate::messages::outbox::{self, Draft, Envelope, QueuedMessage};
use crate::messages::reminders;
use crate::messages::templates::{Template, Values};
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from};

/// Who the invitation is for.
enum Invitee {
    Existing(EntityId),
    New(Box<PatientDetails>),
}

/// What staff ask for.
struct Request {
    invitee: Invitee,
    templates: Vec<String>,
    channel: Channel,
    hours: i64,
}

fn read_request(form: &Form<'_>) -> Option<Request> {
    form.only(&["patientId", "newPatient", "templateIds", "channel", "expiresInHours"]);
    let patient: Option<EntityId> = form.opt("patientId");
    let new_patient = form.object("newPatient", false, PatientDetails::read);
    let templates: Option<Vec<crate::domain::values::ShortText>> = form.list("templateIds", 1, 10);
    let channel = form.opt("channel").unwrap_or(Channel::Link);
    let hours = match form.number("expiresInHours", false, 1.0, MAX_HOURS as f64, "hours") {
        Some(h) if h.fract() != 0.0 => {
            form.reject("expiresInHours", Issue::Rule("must be a whole number of hours".into()));
            return None;
        }
        Some(h) => h as i64,
        None => DEFAULT_HOURS,
    };
    let invitee = match (patient, new_patient, form.given("patientId"), form.given("newPatient")) {
        (Some(id), None, _, false) => Invitee::Existing(id),
        (None, Some(details), false, _) => Invitee::New(Box::new(details)),
        (_, _, true, true) => {
            form.reject("newPatient", Issue::Rule("give patientId or newPatient, not both".into()));
            return None;
        }
        (_, _, false, false) => {
            form.reject("patientId", Issue::Shape("is required unless newPatient is given".into()));
            return None;
        }
        _ => return None,
    };
    let templates = templates?.into_iter().map(|t| t.as_str().to_string()).collect();
    Some(Request { invitee, templates, channel, hours })
}

/// The origin the patient's link points at: the configured public URL, else the domain API Gateway
/// received the call on. Never the `Host` or `X-Forwarded-*` headers, which a caller can forge.
pub fn origin(ctx: &Ctx) -> Result<String, ApiError> {
    match (&ctx.app.public_url, &ctx.meta.domain_name) {
        (Some(url), _) => Ok(url.clone()),
        (None, Some(domain)) => Ok(format!("https://{domain}")),
        (None, None) => Err(ApiError::Internal("no public URL is configured for patients' links".into())),
    }
}

/// A new invitation of `patient` to the clinic's latest versions of `templates` for `hours`: the
/// invitation, its link, and the writes that make it (its link's item and the staff's).
pub(super) async fn invite(
    ctx: &Ctx,
    clinic: &Clinic,
    patient: &Patient,
    templates: &[String],
    channel: Channel,
    hours: i64,
) -> Result<(Invitation, String, Vec<Guarded>), ApiError> {
    let mut forms_invited = Vec::new();
    for (i, id) in templates.iter().enumerate() {
        let stored = forms::latest(ctx, id).await?.ok_or_else(|| {
            ApiError::unknown(
                &format!("templateIds[{i}]"),
                "names no template of this clinic (copy a built-in one first)",
            )
        })?;
        forms_invited.push(InvitedForm {
            template_id: stored.id,
            version: stored.version,
            title: stored.content.title,
        });
    }
    let (token, token_hash) = new_token();
    let invitation = Invitation {
        id: ctx.new_id(),
        clinic_id: clinic.id,
        clinic_name: clinic.name.as_str().to_string(),
        patient_id: patient.id,
        patient_first_name: reminders::first_name(patient),
        forms: forms_invited,
        token_hash,
        channel,
        expires_at: ctx.now.timestamp() + hours * 3600,
        status: InvitationStatus::Active,
        photo_ids: Vec::new(),
        submission_id: None,
        created_by: ctx.actor(),
        created_at: ctx.now_text(),
        version: 1,
    };
    let link = format!("{}/intake/{token}", origin(ctx)?);
    let collision = || ApiError::Conflict("an id collided; retry".into());
    let writes = vec![
        Guarded::new(Write::put(Table::Records, invitation.link_item(), Cond::NotExists), collision()),
        Guarded::new(Write::put(Table::Records, invitation.staff_item(), Cond::NotExists), collision()),
    ];
    Ok((invitation, link, writes))
}

/// `POST /v1/invitations`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let body = input.json(&["application/json"])?;
    let request = read_form(&body, ctx.rules(), read_request)?;
    let clinic_id = ctx.clinic()?;
    let mut writes: Vec<Guarded> = Vec::new();
    let patient: Patient = match request.invitee {
        Invitee::Existing(id) => patients::load(&ctx, id).await.map_err(|e| match e {
            ApiError::NotFound => ApiError::unknown("patientId", "names no patient of this clinic"),
            other => other,
        })?,
        Invitee::New(details) => {
            let (patient, registration) = patients::register(&ctx, *details).await?;
            writes.extend(registration);
            patient
        }
    };
    let recipient = match request.channel {
        Channel::Email => Some((
            MessageChannel::Email,
            patient
                .details
                .email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .ok_or_else(|| ApiError::unsuitable("channel", "the patient has no e-mail address on record"))?,
        )),
        Channel::Sms => Some((
            MessageChannel::Sms,
            patient
                .details
                .phone
                .as_ref()
                .map(|p| p.as_str().to_string())
                .ok_or_else(|| ApiError::unsuitable("channel", "the patient has no phone number on record"))?,
        )),
        Channel::Link => None,
    };
    let clinic_item =
        ctx.app.records.get(Table::Records, &Key::new(keys::clinic_pk(clinic_id), keys::CLINIC_PROFILE)).await?;
    let clinic: Clinic =
        entity_from(clinic_item.ok_or_else(|| ApiError::Internal("the caller's clinic is missing".into()))?)?;
    let (invitation, link, link_writes) =
        invite(&ctx, &clinic, &patient, &request.templates, request.channel, request.hours).await?;
    writes.extend(link_writes);
    let collision = || ApiError::Conflict("an id collided; retry".into());
    let mut body = invitation.staff_view();
    body["delivery"] = match recipient {
        Some((channel, to)) => {
            let message = QueuedMessage::queue(
                Draft {
                    envelope: Envelope {
                        id: invitation.id.to_string(),
                        clinic_id,
                        patient_id: Some(patient.id),
                        channel,
                        to,
                        template: Template::Invitation,
                        language: reminders::language_for(&patient, &clinic),
                        values: Values {
                            first_name: invitation.patient_first_name.clone(),
                            clinic_name: invitation.clinic_name.clone(),
                            when: None,
                            amount: None,
                        },
                    },
                    link: Some(link.clone()),
                    // The invitation's own time: its revoke finds the message by it.
                    queued_at: invitation.created_at.clone(),
                    due: ctx.now,
                    // The message holds the link: it goes when the link can no longer be used.
                    expires_at: Some(invitation.expires_at),
                },
                &ctx.app.keys()?.stored_secrets,
            );
            writes.push(Guarded::new(message.queue_write(), collision()));
            message.staff_view()
        }
        None => json!({"channel": "link", "status": "not-sent", "detail": "give the patient the link"}),
    };
    let facts = Facts::patient(patient.id).with("invitation", invitation.id);
    Ok(Outcome::Write(writes, Reply::made(body).with_secret("link", json!(link)), facts))
}

/// `GET /v1/patients/{patientId}/invitations`
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    input.params(ctx.route.query)?;
    patients::load(&ctx, patient).await?;
    let query =
        Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient)).sk(SkRange::Prefix("INVITATION#".into()));
    let invitations: Vec<Invitation> =
        query_all(&ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let now = ctx.now.timestamp();
    let items: Vec<Value> = invitations
        .iter()
        .rev()
        .map(|i| {
            let mut view = i.staff_view();
            if i.status == InvitationStatus::Active && i.expires_at <= now {
                view["status"] = json!("expired");
            }
            view
        })
        .collect();
    Ok(Outcome::Read(Reply::ok(json!({"items": items})), Facts::patient(patient)))
}

/// `POST /v1/patients/{patientId}/invitations/{invitationId}/revoke`: the link stops working at once.
pub async fn revoke(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("invitationId")?);
    let key = Invitation::staff_key(ctx.clinic()?, patient, id);
    let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
    let current: Invitation = entity_from(item)?;
    if current.status != InvitationStatus::Active {
        return Err(ApiError::Conflict(format!("the invitation is already {}", current.status)));
    }
    // The link item carries the draft and moves on its own; read it for its version.
    let link_item = ctx.app.records.get(Table::Records, &Invitation::link_key(&current.token_hash)).await?;
    let link: Invitation =
        entity_from(link_item.ok_or_else(|| ApiError::Internal("an invitation lost its link".into()))?)?;
    let retry = || ApiError::Conflict("the invitation changed meanwhile; retry".into());
    let revoked_link = Invitation { status: InvitationStatus::Revoked, version: link.version + 1, ..link.clone() };
    let revoked = Invitation { status: InvitationStatus::Revoked, version: current.version + 1, ..current.clone() };
    let mut writes = vec![
        Guarded::new(Write::put(Table::Records, revoked_link.link_item(), Cond::VersionIs(link.version)), retry()),
        Guarded::new(Write::put(Table::Records, revoked.staff_item(), Cond::VersionIs(current.version)), retry()),
    ];
    // A message not yet sent is withdrawn: a patient never gets a link that no longer works.
    let message = QueuedMessage::key_of(current.clinic_id, &current.created_at, &current.id.to_string());
    if let Some(withdraw) = outbox::withdraw(ctx.app.records.as_ref(), &message).await? {
        writes.push(Guarded::decided_on_reads(withdraw, retry()));
    }
    let facts = Facts::patient(patient).with("invitation", id);
    Ok(Outcome::Write(writes, Reply::ok(revoked.staff_view()), facts))
}
