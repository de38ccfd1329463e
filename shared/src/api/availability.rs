//! `GET /v1/availability`: when a service can start, and with whom, over at most 31 local dates: one
//! read per calendar involved (the service, the clinic, the staff who may perform it, the rooms and devices
//! it needs), never a scan and never stored slots.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use super::catalogue::load_item;
use super::hours;
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::scheduling::availability::Need;
use crate::domain::scheduling::service::Service;
use crate::domain::scheduling::{Calendar, CatalogueStatus};
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::{Date, UserId};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Query, SkRange, Table, entity_from};

/// The most local dates one call covers.
pub const MAX_DAYS: i64 = 31;

/// `GET /v1/availability?serviceId=&from=&to=&staffId=`: `from` and `to` are local dates, both included.
pub async fn availability(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let rules = ctx.rules();
    let service_id = params
        .parsed::<crate::domain::values::EntityId>("serviceId", &rules)?
        .ok_or_else(|| ApiError::field("serviceId", "is required"))?;
    let from: Date = params.parsed("from", &rules)?.ok_or_else(|| ApiError::field("from", "is required"))?;
    let to: Date = params.parsed("to", &rules)?.ok_or_else(|| ApiError::field("to", "is required"))?;
    let only: Option<UserId> = params.parsed("staffId", &rules)?;
    let (from, to): (NaiveDate, NaiveDate) = (from.0, to.0);
    if to < from {
        return Err(ApiError::field_rule("to", "must not be before from"));
    }
    if to - from >= Duration::days(MAX_DAYS) {
        return Err(ApiError::field_rule("to", format!("must be within {MAX_DAYS} days of from")));
    }
    let clinic_id = ctx.clinic()?;
    let service: Service = load_item(&ctx, Service::key(clinic_id, service_id)).await?.ok_or(ApiError::NotFound)?;
    if service.details.status == CatalogueStatus::Retired {
        return Err(ApiError::field_rule("serviceId", "the service is retired"));
    }
    let clinic = super::clinics::load(&ctx, clinic_id).await?;
    let performers = performers(&ctx, &service).await?;
    let performers: Vec<UserId> = match only {
        None => performers,
        Some(user) if performers.contains(&user) => vec![user],
        Some(_) => return Err(ApiError::field_rule("staffId", "does not perform this service")),
    };
    let clinic_hours = hours::load(&ctx, &Calendar::Clinic).await?;
    let mut resource_hours = Vec::new();
    for id in &service.details.resource_ids {
        resource_hours.push(hours::load(&ctx, &Calendar::Resource(*id)).await?);
    }
    let details = &service.details;
    let need = Need {
        zone: clinic.time_zone.zone(),
        interval_minutes: details.interval_minutes,
        duration_minutes: details.duration_minutes,
        buffer_before_minutes: details.buffer_before_minutes,
        buffer_after_minutes: details.buffer_after_minutes,
        clinic: clinic_hours.as_ref().map(|h| &h.hours),
        resources: resource_hours.iter().map(|h| h.as_ref().map(|h| &h.hours)).collect(),
    };
    // Start → who is free then.
    let mut slots: std::collections::BTreeMap<chrono::DateTime<chrono::Utc>, Vec<String>> = Default::default();
    for user in &performers {
        let Some(stored) = hours::load(&ctx, &Calendar::Staff(user.clone())).await? else { continue };
        for start in need.starts(&stored.hours, from, to, ctx.now) {
            slots.entry(start).or_default().push(user.to_string());
        }
    }
    let zone = need.zone;
    let items: Vec<Value> = slots
        .into_iter()
        .map(|(start, staff)| json!({"start": start.with_timezone(&zone).to_rfc3339(), "staff": staff}))
        .collect();
    let body = json!({
        "serviceId": service_id,
        "timeZone": zone.name(),
        "durationMinutes": details.duration_minutes,
        "resourceIds": details.resource_ids,
        "items": items,
    });
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("service", service_id)))
}

/// The active staff who may perform the service: those it names, or every active member of its role.
async fn performers(ctx: &Ctx, service: &Service) -> Result<Vec<UserId>, ApiError> {
    let named = &service.details.performed_by.staff;
    let role = service.details.performed_by.role;
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(keys::STAFF_PREFIX.into()))
        .limit(1000);
    let mut out = Vec::new();
    for item in super::chart::query_all(ctx, query).await? {
        let member: StaffMember = entity_from(item)?;
        let clinical = matches!(member.role, Role::Practitioner | Role::Nurse);
        let chosen = if named.is_empty() { Some(member.role) == role } else { named.contains(&member.user_id) };
        if member.status == StaffStatus::Active && clinical && chosen {
            out.push(member.user_id);
        }
    }
    Ok(out)
}
