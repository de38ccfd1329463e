//! `GET /v1/availability`: when a service can start, and with whom, over at most 31 local dates: one
//! read per calendar involved (the service, the clinic, the staff who may perform it, the hours and the
//! claims of each performer and each room and device it needs), never a scan and never stored slots.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::catalogue::load_item;
use super::hours;
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::scheduling::availability::Need;
use crate::domain::scheduling::claims::{Block, Claimant, Day, day_sk};
use crate::domain::scheduling::service::Service;
use crate::domain::scheduling::{Calendar, CatalogueStatus, StoredHours};
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::{Date, EntityId, UserId};
use crate::http::input::{Input, Params};
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::SK;
use crate::store::{Query, SkRange, Table, entity_from, str_attr};

/// The most local dates one call covers.
pub const MAX_DAYS: i64 = 31;

/// A claimant's day items over the UTC days that local dates `from`..=`to` can touch, by day.
pub(super) async fn claims(
    ctx: &Ctx,
    claimant: &Claimant,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Day)>, ApiError> {
    let (first, last) = (from - Duration::days(1), to + Duration::days(1));
    let query = Query::new(Table::Records, claimant.partition(ctx.clinic()?))
        .sk(SkRange::Between(day_sk(first), day_sk(last)))
        .limit(100);
    let mut out = Vec::new();
    for item in super::chart::query_all(ctx, query).await? {
        let day = str_attr(&item, SK).and_then(|sk| sk.strip_prefix("DAY#")).and_then(|d| d.parse().ok());
        if let Some(day) = day {
            out.push((day, entity_from::<Day>(item)?));
        }
    }
    Ok(out)
}

/// The blocks of `days` that hold their time at `now` (a lapsed hold counts for nothing).
fn blocks(days: Vec<(NaiveDate, Day)>, now: DateTime<Utc>) -> Vec<Block> {
    days.into_iter().flat_map(|(_, day)| day.blocks).filter(|b| b.holds_at(now)).collect()
}

/// Everything a service's availability rests on, read for a range of local dates.
pub(super) struct Plan {
    pub service: Service,
    pub zone: chrono_tz::Tz,
    pub performers: Vec<UserId>,
    clinic_hours: Option<StoredHours>,
    resource_hours: Vec<Option<StoredHours>>,
    resource_busy: Vec<Block>,
}

impl Plan {
    /// Reads the clinic's performers, and the hours and claims of the service's rooms and devices, for a
    /// clinic in `zone`. A retired service, or one that needs a retired resource, cannot be booked (422).
    pub async fn load(
        ctx: &Ctx,
        zone: chrono_tz::Tz,
        service: Service,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Self, ApiError> {
        if service.details.status == CatalogueStatus::Retired {
            return Err(ApiError::unsuitable("serviceId", "the service is retired"));
        }
        let performers = performers(ctx, &service).await?;
        let clinic_hours = hours::load(ctx, &Calendar::Clinic).await?;
        let (mut resource_hours, mut resource_busy) = (Vec::new(), Vec::new());
        for id in &service.details.resource_ids {
            let resource: Option<crate::domain::scheduling::resource::Resource> =
                load_item(ctx, crate::domain::scheduling::resource::Resource::key(ctx.clinic()?, *id)).await?;
            if resource.is_none_or(|r| r.details.status == CatalogueStatus::Retired) {
                return Err(ApiError::field_rule("serviceId", "the service needs a retired room or device"));
            }
            resource_hours.push(hours::load(ctx, &Calendar::Resource(*id)).await?);
            resource_busy.extend(blocks(claims(ctx, &Claimant::Resource(*id), from, to).await?, ctx.now));
        }
        Ok(Self { service, zone, performers, clinic_hours, resource_hours, resource_busy })
    }

    pub fn need(&self) -> Need<'_> {
        let details = &self.service.details;
        Need {
            zone: self.zone,
            interval_minutes: details.interval_minutes,
            duration_minutes: details.duration_minutes,
            buffer_before_minutes: details.buffer_before_minutes,
            buffer_after_minutes: details.buffer_after_minutes,
            clinic: self.clinic_hours.as_ref().map(|h| &h.hours),
            resources: self.resource_hours.iter().map(|h| h.as_ref().map(|h| &h.hours)).collect(),
            resource_busy: self.resource_busy.clone(),
        }
    }

    /// When `user` can perform it (reading their hours and claims): none without hours.
    pub async fn starts_for(
        &self,
        ctx: &Ctx,
        user: &UserId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DateTime<Utc>>, ApiError> {
        let Some(stored) = hours::load(ctx, &Calendar::Staff(user.clone())).await? else { return Ok(Vec::new()) };
        let busy = blocks(claims(ctx, &Claimant::Staff(user.clone()), from, to).await?, ctx.now);
        Ok(self.need().starts(&stored.hours, &busy, from, to, ctx.now))
    }

    /// Start → who is free then, over local dates `from`..=`to`, for `who`.
    pub async fn slots(
        &self,
        ctx: &Ctx,
        who: &[UserId],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<std::collections::BTreeMap<DateTime<Utc>, Vec<String>>, ApiError> {
        let mut slots: std::collections::BTreeMap<DateTime<Utc>, Vec<String>> = Default::default();
        for user in who {
            for start in self.starts_for(ctx, user, from, to).await? {
                slots.entry(start).or_default().push(user.to_string());
            }
        }
        Ok(slots)
    }

    /// A start as the clinic's clock shows it, with its offset.
    pub fn local_text(&self, start: DateTime<Utc>) -> String {
        start.with_timezone(&self.zone).to_rfc3339()
    }
}

/// The service and the local dates `from`..=`to` (at most `max_days` of them) a query of free starts asks
/// about.
pub(super) fn asked(params: &Params, ctx: &Ctx, max_days: i64) -> Result<(EntityId, NaiveDate, NaiveDate), ApiError> {
    let rules = ctx.rules();
    let service_id: EntityId =
        params.parsed("serviceId", &rules)?.ok_or_else(|| ApiError::field("serviceId", "is required"))?;
    let from: Date = params.parsed("from", &rules)?.ok_or_else(|| ApiError::field("from", "is required"))?;
    let to: Date = params.parsed("to", &rules)?.ok_or_else(|| ApiError::field("to", "is required"))?;
    let (from, to): (NaiveDate, NaiveDate) = (from.0, to.0);
    if to < from {
        return Err(ApiError::field_rule("to", "must not be before from"));
    }
    if to - from >= Duration::days(max_days) {
        return Err(ApiError::field_rule("to", format!("must be within {max_days} days of from")));
    }
    Ok((service_id, from, to))
}

/// `GET /v1/availability?serviceId=&from=&to=&staffId=`: `from` and `to` are local dates, both included.
pub async fn availability(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let (service_id, from, to) = asked(&params, &ctx, MAX_DAYS)?;
    let only: Option<UserId> = params.parsed("staffId", &ctx.rules())?;
    let service: Service = load_item(&ctx, Service::key(ctx.clinic()?, service_id)).await?.ok_or(ApiError::NotFound)?;
    let zone = super::clinics::load(&ctx, ctx.clinic()?).await?.time_zone.zone();
    let plan = Plan::load(&ctx, zone, service, from, to).await?;
    let who: Vec<UserId> = match only {
        None => plan.performers.clone(),
        Some(user) if plan.performers.contains(&user) => vec![user],
        Some(_) => return Err(ApiError::unsuitable("staffId", "does not perform this service")),
    };
    let items: Vec<Value> = plan
        .slots(&ctx, &who, from, to)
        .await?
        .into_iter()
        .map(|(start, staff)| json!({"start": plan.local_text(start), "staff": staff}))
        .collect();
    let details = &plan.service.details;
    let body = json!({
        "serviceId": service_id,
        "timeZone": plan.zone.name(),
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
