//! Staff: administrators add members, list them, change their role or deactivate them.

use serde_json::json;

use super::{map_items, page_body, scope, start_after};
use crate::domain::keys;
use crate::domain::staff::{Membership, NewStaff, StaffChange, StaffMember};
use crate::domain::values::UserId;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from, entity_item};

fn member_writes(ctx: &Ctx, member: &StaffMember, cond: Cond, on_fail: ApiError) -> Result<Vec<Guarded>, ApiError> {
    let clinic = ctx.clinic()?;
    let membership_cond = if cond == Cond::NotExists { Cond::NotExists } else { Cond::Exists };
    Ok(vec![
        Guarded::new(
            Write::put(
                Table::Records,
                entity_item(&Key::new(keys::clinic_pk(clinic), keys::staff_sk(&member.user_id)), member),
                cond,
            ),
            on_fail,
        ),
        Guarded::new(
            Write::put(
                Table::Records,
                entity_item(
                    &Key::new(keys::user_pk(&member.user_id), keys::MEMBERSHIP),
                    &Membership::of(clinic, member),
                ),
                membership_cond,
            ),
            ApiError::Conflict("this user already belongs to a clinic".into()),
        ),
    ])
}

/// `POST /v1/staff`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let new = input.form(ctx.rules(), NewStaff::read)?;
    let member = new.into_member(&ctx.now_text());
    let writes =
        member_writes(&ctx, &member, Cond::NotExists, ApiError::Conflict("already a member of this clinic".into()))?;
    let reply = Reply::created(json!(member), format!("/v1/staff/{}", member.user_id)).versioned(member.version);
    Ok(Outcome::Write(writes, reply, Facts::resource("staff", &member.user_id)))
}

/// `GET /v1/staff`
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let scope = scope(&ctx, &[]);
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(keys::STAFF_PREFIX.into()))
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let members = map_items(&page, |item| Ok(json!(entity_from::<StaffMember>(item.clone())?)))?;
    let body = page_body(&ctx, &scope, members, page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::none()))
}

/// `PATCH /v1/staff/{userId}`
pub async fn update(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let user: UserId = input.path_value("userId", &ctx.rules())?;
    let expected = input.if_match()?;
    let change = input.form(ctx.rules(), StaffChange::read)?;
    if user == ctx.caller.user && change.demotes_self() {
        return Err(ApiError::Conflict(
            "you cannot remove your own administrator rights; ask another administrator".into(),
        ));
    }
    let key = Key::new(keys::clinic_pk(ctx.clinic()?), keys::staff_sk(&user));
    let current: StaffMember =
        entity_from(ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?)?;
    if current.version != expected {
        return Err(ApiError::PreconditionFailed);
    }
    let updated = change.apply(&current, &ctx.now_text());
    let writes = member_writes(&ctx, &updated, Cond::VersionIs(expected), ApiError::PreconditionFailed)?;
    let reply = Reply::ok(json!(updated)).versioned(updated.version);
    Ok(Outcome::Write(writes, reply, Facts::resource("staff", &user)))
}
