//! Working hours of the clinic, a staff member or a room or device: read by all staff, set whole by
//! administrators (`PUT`, on the version `If-Match` names once there is one).

use serde_json::json;

use crate::domain::keys;
use crate::domain::scheduling::hours::WorkingHours;
use crate::domain::scheduling::resource::Resource;
use crate::domain::scheduling::{Calendar, StoredHours};
use crate::domain::staff::StaffMember;
use crate::domain::values::{EntityId, UserId};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Key, Table, Write, entity_from, entity_item};

/// The calendar a route's path names, once it is known to exist in the caller's clinic.
async fn calendar(ctx: &Ctx, input: &Input) -> Result<Calendar, ApiError> {
    let clinic = ctx.clinic()?;
    if input.path.contains_key("userId") {
        let user: UserId = input.path_value("userId", &ctx.rules())?;
        let key = Key::new(keys::clinic_pk(clinic), keys::staff_sk(&user));
        let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
        entity_from::<StaffMember>(item)?;
        return Ok(Calendar::Staff(user));
    }
    if input.path.contains_key("resourceId") {
        let id = input.entity("resourceId")?;
        ctx.app.records.get(Table::Records, &Resource::key(clinic, id)).await?.ok_or(ApiError::NotFound)?;
        return Ok(Calendar::Resource(id));
    }
    Ok(Calendar::Clinic)
}

fn hours_key(clinic: EntityId, calendar: &Calendar) -> Key {
    Key::new(keys::clinic_pk(clinic), calendar.hours_sk())
}

/// A calendar's stored working hours, if any were set.
pub async fn load(ctx: &Ctx, calendar: &Calendar) -> Result<Option<StoredHours>, ApiError> {
    let item = ctx.app.records.get(Table::Records, &hours_key(ctx.clinic()?, calendar)).await?;
    Ok(item.map(entity_from).transpose()?)
}

fn facts(calendar: &Calendar) -> Facts {
    match calendar {
        Calendar::Clinic => Facts::none(),
        Calendar::Staff(user) => Facts::resource("staff", user),
        Calendar::Resource(id) => Facts::resource("resource", id),
    }
}

/// `GET .../working-hours`: the hours, or empty ones (nothing worked) at version 0 when none were set.
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let calendar = calendar(&ctx, &input).await?;
    let stored = load(&ctx, &calendar).await?;
    let stored =
        stored.unwrap_or(StoredHours { hours: WorkingHours::default(), updated_at: String::new(), version: 0 });
    let version = stored.version;
    Ok(Outcome::Read(Reply::ok(json!(stored)).versioned(version), facts(&calendar)))
}

/// `PUT .../working-hours` with the whole of them: the first time without `If-Match`, then on the version
/// read.
pub async fn save(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let hours = input.form(ctx.rules(), WorkingHours::read)?;
    let calendar = calendar(&ctx, &input).await?;
    let current = load(&ctx, &calendar).await?;
    let cond = input.replace_cond(current.as_ref().map(|c| c.version))?;
    let version = current.map_or(1, |c| c.version + 1);
    let stored = StoredHours { hours, updated_at: ctx.now_text(), version };
    let item = entity_item(&hours_key(ctx.clinic()?, &calendar), &stored);
    let write = Guarded::new(Write::put(Table::Records, item, cond), ApiError::PreconditionFailed);
    Ok(Outcome::Write(vec![write], Reply::ok(json!(stored)).versioned(version), facts(&calendar)))
}
