//! Clinics: an operator opens one and invites its first administrator; staff read their own.

use serde_json::json;

use crate::domain::clinic::{Clinic, ClinicSettings, NewClinic};
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::http::input::{Input, at_version};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Key, Table, Write, entity_from, entity_item};

/// `POST /v1/clinics`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let new = input.form(ctx.rules(), NewClinic::read)?;
    let id = ctx.new_id();
    let now = ctx.now_text();
    let clinic = Clinic {
        id,
        name: new.name,
        time_zone: new.time_zone,
        country: new.country,
        contact: new.contact,
        plan: "pay-per-use".into(),
        cancellation_window_hours: crate::domain::clinic::DEFAULT_CANCELLATION_WINDOW_HOURS,
        language: new.language,
        reminder_hours: crate::domain::clinic::default_reminder_hours(),
        booking_slug: None,
        record_retention: None,
        created_at: now.clone(),
        version: 1,
    };
    let pk = keys::clinic_pk(id);
    let collision = || ApiError::Conflict("an id collided; retry".into());
    let (invitation, admin_invitation, code) = super::staff::invite(&ctx, id, new.admin);
    let admins = Key::new(&pk, keys::ADMIN_COUNT);
    let writes = vec![
        Guarded::new(
            Write::put(Table::Records, entity_item(&Key::new(&pk, keys::CLINIC_PROFILE), &clinic), Cond::NotExists),
            collision(),
        ),
        Guarded::new(
            Write::put(Table::Records, super::staff::admin_count_item(&admins, 0, 1), Cond::NotExists),
            collision(),
        ),
        invitation,
    ];
    let mut facts = Facts::resource("clinic", id);
    facts.resources.push(crate::domain::audit::Resource::new(
        "staff-invitation",
        admin_invitation["id"].as_str().unwrap_or_default(),
    ));
    facts.clinic = Some(id);
    let body = json!({ "id": id, "clinic": clinic, "adminInvitation": admin_invitation });
    let reply = Reply::made(body).versioned(1).with_secret("adminInvitationCode", json!(code));
    Ok(Outcome::Write(writes, reply, facts))
}

/// A clinic's profile; 404 when there is no such clinic.
pub async fn load(ctx: &Ctx, clinic_id: EntityId) -> Result<Clinic, ApiError> {
    let key = Key::new(keys::clinic_pk(clinic_id), keys::CLINIC_PROFILE);
    let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
    Ok(entity_from(item)?)
}

/// `GET /v1/clinic`
pub async fn read(ctx: Ctx, _input: Input) -> Result<Outcome, ApiError> {
    let clinic_id = ctx.clinic()?;
    let clinic = load(&ctx, clinic_id).await?;
    let version = clinic.version;
    Ok(Outcome::Read(Reply::ok(json!(clinic)).versioned(version), Facts::resource("clinic", clinic_id)))
}

/// `PATCH /v1/clinic` with a JSON merge patch of `{"name", "contact", "cancellationWindowHours"}` and
/// `If-Match`.
pub async fn update(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patch = input.json(&["application/merge-patch+json", "application/json"])?;
    if !patch.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object (a merge patch)"));
    }
    let expected = input.if_match()?;
    let clinic_id = ctx.clinic()?;
    let current = load(&ctx, clinic_id).await?;
    let mut doc = serde_json::to_value(ClinicSettings::of(&current)).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::domain::fields::merge_patch(&mut doc, &patch);
    let settings = crate::http::input::read_form(&doc, ctx.rules(), ClinicSettings::read)?;
    at_version(expected, current.version)?;
    let clinic = Clinic {
        name: settings.name,
        contact: settings.contact,
        cancellation_window_hours: settings.cancellation_window_hours,
        language: settings.language,
        reminder_hours: settings.reminder_hours,
        booking_slug: settings.booking_slug,
        record_retention: settings.record_retention,
        version: expected + 1,
        ..current.clone()
    };
    let key = Key::new(keys::clinic_pk(clinic_id), keys::CLINIC_PROFILE);
    let mut writes = vec![Guarded::new(
        Write::put(Table::Records, entity_item(&key, &clinic), Cond::VersionIs(expected)),
        ApiError::PreconditionFailed,
    )];
    // A booking address belongs to one clinic: taking one that another holds is refused.
    if clinic.booking_slug != current.booking_slug {
        if let Some(slug) = &clinic.booking_slug {
            let owner = super::booking::slug_owner(slug, clinic_id);
            let taken = ApiError::Conflict(format!("the booking address {} is taken", slug.as_str()));
            writes.push(Guarded::new(Write::put(Table::Records, owner, Cond::NotExists), taken));
        }
        if let Some(old) = &current.booking_slug {
            let release = Write::Delete { table: Table::Records, key: old.key(), cond: Cond::Exists };
            writes.push(Guarded::new(release, ApiError::PreconditionFailed));
        }
    }
    let version = clinic.version;
    Ok(Outcome::Write(writes, Reply::ok(json!(clinic)).versioned(version), Facts::resource("clinic", clinic_id)))
}
