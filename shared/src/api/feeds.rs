//! Calendar feeds: a secret iCalendar URL per staff member for their calendar app, showing their
//! appointments with the service and the patient's initials, never a name. Only the SHA-256 of the URL's
//! token is kept (like invitation links); making a new one replaces the old, and the member or an
//! administrator can revoke it. A deactivated member's feed stops answering.

use std::collections::HashMap;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::catalogue::load_item;
use super::chart::query_all;
use crate::domain::forms::invitation::{new_token, plausible_token, token_hash};
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::role::Role;
use crate::domain::scheduling::Catalogued;
use crate::domain::scheduling::appointment::{Appointment, AppointmentStatus};
use crate::domain::scheduling::ics::{FeedEvent, calendar};
use crate::domain::scheduling::resource::ResourceDetails;
use crate::domain::scheduling::service::ServiceDetails;
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::{EntityId, ShortText, UserId};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::ids::sortable_time;
use crate::store::{Cond, Index, Key, Query, SkRange, Table, Write, entity_from, entity_item};

/// A feed, as kept under its token's hash (and, for its member, beside the membership).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feed {
    pub clinic_id: EntityId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: String,
    pub version: u64,
}

impl Feed {
    pub fn link_key(hash: &str) -> Key {
        Key::new(format!("FEED#{hash}"), "FEED")
    }

    pub fn member_key(clinic: EntityId, user: &UserId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("FEED#STAFF#{user}"))
    }
}

/// How far back and ahead a feed shows.
const DAYS_BACK: i64 = 14;
const DAYS_AHEAD: i64 = 90;

async fn member_feed(ctx: &Ctx, clinic: EntityId, user: &UserId) -> Result<Option<Feed>, ApiError> {
    load_item(ctx, Feed::member_key(clinic, user)).await
}

async fn active_member(ctx: &Ctx, clinic: EntityId, user: &UserId) -> Result<Option<StaffMember>, ApiError> {
    let member: Option<StaffMember> = load_item(ctx, Key::new(keys::clinic_pk(clinic), keys::staff_sk(user))).await?;
    Ok(member.filter(|m| m.status == StaffStatus::Active))
}

/// `POST /v1/staff/{userId}/calendar-feed`: the caller's own feed, new (the previous URL stops working).
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let user: UserId = input.path_value("userId", &ctx.rules())?;
    if user != ctx.caller.user {
        return Err(ApiError::Forbidden("a calendar feed is made by its own staff member".into()));
    }
    let clinic = ctx.clinic()?;
    let previous = member_feed(&ctx, clinic, &user).await?;
    let (token, hash) = new_token();
    let feed = Feed {
        clinic_id: clinic,
        user_id: user.clone(),
        token_hash: hash.clone(),
        created_at: ctx.now_text(),
        version: previous.as_ref().map_or(1, |p| p.version + 1),
    };
    let retry = || ApiError::Conflict("the feed changed meanwhile; retry".into());
    let mut writes = vec![
        Guarded::new(Write::put(Table::Records, entity_item(&Feed::link_key(&hash), &feed), Cond::NotExists), retry()),
        Guarded::new(
            Write::put(
                Table::Records,
                entity_item(&Feed::member_key(clinic, &user), &feed),
                previous.as_ref().map_or(Cond::NotExists, |p| Cond::VersionIs(p.version)),
            ),
            retry(),
        ),
    ];
    if let Some(previous) = &previous {
        let old =
            Write::Delete { table: Table::Records, key: Feed::link_key(&previous.token_hash), cond: Cond::Always };
        writes.push(Guarded::new(old, retry()));
    }
    let url = format!("{}/feeds/{token}", super::invitations::origin(&ctx)?);
    let body = json!({"userId": user, "createdAt": feed.created_at, "replaced": previous.is_some()});
    let reply = Reply::made(body).with_secret("url", json!(url));
    Ok(Outcome::Write(writes, reply, Facts::resource("calendar-feed", &user)))
}

/// `POST /v1/staff/{userId}/calendar-feed/revoke`: by the member or an administrator; the URL stops at once.
pub async fn revoke(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let user: UserId = input.path_value("userId", &ctx.rules())?;
    if user != ctx.caller.user && ctx.caller.role != Role::Admin {
        return Err(ApiError::Forbidden("a calendar feed is revoked by its staff member or an administrator".into()));
    }
    let clinic = ctx.clinic()?;
    let feed = member_feed(&ctx, clinic, &user).await?.ok_or(ApiError::NotFound)?;
    let retry = || ApiError::Conflict("the feed changed meanwhile; retry".into());
    let writes = vec![
        Guarded::new(
            Write::Delete {
                table: Table::Records,
                key: Feed::member_key(clinic, &user),
                cond: Cond::VersionIs(feed.version),
            },
            retry(),
        ),
        Guarded::new(
            Write::Delete { table: Table::Records, key: Feed::link_key(&feed.token_hash), cond: Cond::Always },
            retry(),
        ),
    ];
    Ok(Outcome::Write(
        writes,
        Reply::ok(json!({"userId": user, "revoked": true})),
        Facts::resource("calendar-feed", &user),
    ))
}

/// `GET /feeds/{token}`: the member's appointments from two weeks back to three months ahead, as
/// iCalendar. Every patient shown has the read in their access log.
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let token = input.path.get("token").map(String::as_str).unwrap_or_default();
    if !plausible_token(token) {
        return Err(ApiError::NotFound);
    }
    let feed: Feed = load_item(&ctx, Feed::link_key(&token_hash(token))).await?.ok_or(ApiError::NotFound)?;
    let member = active_member(&ctx, feed.clinic_id, &feed.user_id).await?.ok_or(ApiError::NotFound)?;
    let clinic = feed.clinic_id;
    let profile = super::clinics::load(&ctx, clinic).await?;
    let (from, to) = (ctx.now - Duration::days(DAYS_BACK), ctx.now + Duration::days(DAYS_AHEAD));
    let query = Query::new(Table::Records, Appointment::staff_index(clinic, &feed.user_id))
        .index(Index::Gsi3)
        .sk(SkRange::Between(sortable_time(from), format!("{}~", sortable_time(to))));
    let appointments: Vec<Appointment> =
        query_all(&ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let live: Vec<&Appointment> = appointments.iter().filter(|a| a.status.holds_time()).collect();
    let services = names(&ctx, clinic, keys::SERVICE_PREFIX, |s: &ServiceDetails| s.name.clone()).await?;
    let rooms = names(&ctx, clinic, keys::RESOURCE_PREFIX, |r: &ResourceDetails| r.name.clone()).await?;
    let mut initials: HashMap<EntityId, String> = HashMap::new();
    for appointment in &live {
        if let std::collections::hash_map::Entry::Vacant(slot) = initials.entry(appointment.patient_id) {
            let key = Key::new(keys::clinic_pk(clinic), keys::patient_sk(appointment.patient_id));
            let patient: Option<Patient> = load_item(&ctx, key).await?;
            slot.insert(patient.map_or_else(|| "?".into(), |p| initials_of(&p)));
        }
    }
    let events: Vec<FeedEvent> = live
        .iter()
        .map(|a| {
            let service = services.get(&a.service_id).map_or("Appointment", String::as_str);
            let places: Vec<&str> = a.resource_ids.iter().filter_map(|id| rooms.get(id).map(String::as_str)).collect();
            FeedEvent {
                uid: format!("{}@vellum", a.id),
                start: a.start,
                end: a.end,
                summary: format!("{service} – {}", initials[&a.patient_id]),
                location: (!places.is_empty()).then(|| places.join(", ")),
                status: if a.status == AppointmentStatus::Booked { "TENTATIVE" } else { "CONFIRMED" },
                sequence: a.version - 1,
            }
        })
        .collect();
    let name = format!("{} – {}", profile.name.as_str(), member.display_name.as_str());
    let text = calendar(&name, &events, ctx.now);
    let mut facts = Facts::listing(live.iter().map(|a| a.patient_id).collect()).with("calendar-feed", &feed.user_id);
    // The read belongs to the feed's clinic (a feed's caller has no token, and so no clinic).
    facts.clinic = Some(clinic);
    Ok(Outcome::Read(Reply::bytes("text/calendar; charset=utf-8", text.into_bytes()), facts))
}

/// A patient as a feed names them: "A.Q.".
fn initials_of(patient: &Patient) -> String {
    [&patient.details.given_name, &patient.details.family_name]
        .iter()
        .filter_map(|name| name.as_str().chars().find(|c| c.is_alphanumeric()))
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect()
}

/// The names of the clinic's services or resources, by id.
async fn names<D: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    clinic: EntityId,
    prefix: &str,
    name: impl Fn(&D) -> ShortText,
) -> Result<HashMap<EntityId, String>, ApiError> {
    let query = Query::new(Table::Records, keys::clinic_pk(clinic)).sk(SkRange::Prefix(prefix.into()));
    let entries: Vec<Catalogued<D>> =
        query_all(ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    Ok(entries.into_iter().map(|e| (e.id, name(&e.details).as_str().to_string())).collect())
}
