//! Staff: administrators invite members, list them, change their role or deactivate them; a signed-in
//! person joins a clinic by presenting an invitation's code. Nobody becomes a member without accepting,
//! a deactivated member is free to join another clinic, and a clinic keeps at least one active admin.

use serde_json::{Value, json};

use super::{map_items, page_body, scope, start_after};
use crate::domain::forms::invitation::{new_token, plausible_token, token_hash};
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::staff::{Membership, NewStaff, StaffChange, StaffInvitation, StaffMember, StaffStatus};
use crate::domain::values::{EntityId, ShortText, UserId};
use crate::http::input::{Input, at_version};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::TTL;
use crate::store::{Cond, Item, Key, Query, SkRange, Table, Write, entity_from, entity_item};

/// How long after it expires an invitation's item is kept (then DynamoDB's TTL removes it).
const EXPIRED_INVITATION_KEEP_SECONDS: i64 = 86_400;

fn staff_key(clinic: EntityId, user: &UserId) -> Key {
    Key::new(keys::clinic_pk(clinic), keys::staff_sk(user))
}

fn membership_key(user: &UserId) -> Key {
    Key::new(keys::user_pk(user), keys::MEMBERSHIP)
}

/// An invitation's writes and its answer (with the code, shown once): used to invite staff and, when a
/// clinic is opened, its first administrator.
pub fn invite(ctx: &Ctx, clinic: EntityId, new: NewStaff) -> (Guarded, Value, String) {
    let (code, hash) = new_token();
    let inviter = (ctx.caller.user.clone(), ctx.caller.role);
    let invitation = new.invitation(ctx.new_id(), clinic, inviter, &ctx.now_text(), ctx.now.timestamp());
    let mut item: Item = entity_item(&Key::new(keys::staff_code_pk(&hash), keys::STAFF_CODE), &invitation);
    item.insert(TTL.into(), json!(invitation.expires_at + EXPIRED_INVITATION_KEEP_SECONDS));
    let write = Guarded::new(
        Write::put(Table::Records, item, Cond::NotExists),
        ApiError::Conflict("an invitation code collided; retry".into()),
    );
    let expires_at = chrono::DateTime::from_timestamp(invitation.expires_at, 0).map(|t| t.to_rfc3339());
    let body = json!({
        "id": invitation.id,
        "role": invitation.role,
        "displayName": invitation.display_name,
        "email": invitation.email,
        "status": "invited",
        "expiresAt": expires_at,
    });
    (write, body, code)
}

/// `POST /v1/staff`: invites a member; the answer carries the code (once) for the clinic to hand over.
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let new = input.form(ctx.rules(), NewStaff::read)?;
    let clinic = ctx.clinic()?;
    let (write, body, code) = invite(&ctx, clinic, new);
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let reply = Reply::made(body).with_secret("code", json!(code));
    Ok(Outcome::Write(vec![write], reply, Facts::resource("staff-invitation", id)))
}

/// `POST /v1/staff/join` with `{"code": ...}`: the signed-in caller becomes the member the invitation
/// describes. An unknown, used or expired code gets the same 404.
pub async fn join(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let code: ShortText = input.form(ctx.rules(), |form| {
        form.only(&["code"]);
        form.req("code")
    })?;
    let code = code.as_str();
    let unknown = || ApiError::NotFound;
    if !plausible_token(code) {
        return Err(unknown());
    }
    let code_key = Key::new(keys::staff_code_pk(&token_hash(code)), keys::STAFF_CODE);
    let invitation: StaffInvitation =
        entity_from(ctx.app.records.get(Table::Records, &code_key).await?.ok_or_else(unknown)?)?;
    if invitation.expires_at <= ctx.now.timestamp() {
        return Err(unknown());
    }
    let clinic = invitation.clinic_id;
    // An administrator's invitation works only while they are one: a demoted or deactivated one cannot
    // come back, or bring anyone in, with a code made before.
    if invitation.inviter_role != Role::Operator {
        let inviter = ctx.app.records.get(Table::Records, &staff_key(clinic, &invitation.invited_by)).await?;
        let still_admin = inviter.map(entity_from::<StaffMember>).transpose()?.is_some_and(|m| m.is_active_admin());
        if !still_admin {
            return Err(unknown());
        }
    }
    let user = ctx.caller.user.clone();
    // A former member of this clinic keeps their record: the new membership is its next version.
    let former = ctx.app.records.get(Table::Records, &staff_key(clinic, &user)).await?;
    let former = former.map(entity_from::<StaffMember>).transpose()?;
    let (version, cond) = match &former {
        Some(f) if f.status == StaffStatus::Active => {
            return Err(ApiError::Conflict("you are already an active member of this clinic".into()));
        }
        Some(f) => (f.version + 1, Cond::VersionIs(f.version)),
        None => (1, Cond::NotExists),
    };
    let member = invitation.member(user.clone(), &ctx.now_text(), version);
    // A membership deactivated before deactivations released them is replaced as a released one would be.
    let held = ctx.app.records.get(Table::Records, &membership_key(&user)).await?;
    let membership_cond = match held.map(entity_from::<Membership>).transpose()? {
        Some(kept) if !kept.is_active() => Cond::Exists,
        _ => Cond::NotExists,
    };
    let mut writes = vec![
        Guarded::new(
            Write::put(Table::Records, entity_item(&staff_key(clinic, &user), &member), cond),
            ApiError::Conflict("your membership changed meanwhile; retry".into()),
        ),
        Guarded::new(
            Write::put(
                Table::Records,
                entity_item(&membership_key(&user), &Membership::of(clinic, &member)),
                membership_cond,
            ),
            ApiError::Conflict(
                "you are an active member of a clinic already: you can join another once that clinic deactivates you"
                    .into(),
            ),
        ),
        Guarded::new(Write::Delete { table: Table::Records, key: code_key, cond: Cond::Exists }, unknown()),
    ];
    if member.is_active_admin() {
        writes.push(admin_count_write(&ctx, clinic, 1).await?);
    }
    let mut facts = Facts::resource("staff", &user).with("staff-invitation", invitation.id);
    facts.clinic = Some(clinic);
    let body = json!({"clinicId": clinic, "member": member});
    Ok(Outcome::Write(writes, Reply::ok(body).versioned(member.version), facts))
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

/// `PATCH /v1/staff/{userId}`: a deactivation releases the user's membership; a role change follows them
/// into their next token; the last active administrator stays one.
pub async fn update(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let user: UserId = input.path_value("userId", &ctx.rules())?;
    let change = input.form(ctx.rules(), StaffChange::read)?;
    let expected = input.if_match()?;
    if user == ctx.caller.user && change.demotes_self() {
        return Err(ApiError::Conflict(
            "you cannot remove your own administrator rights; ask another administrator".into(),
        ));
    }
    let clinic = ctx.clinic()?;
    let current: StaffMember =
        entity_from(ctx.app.records.get(Table::Records, &staff_key(clinic, &user)).await?.ok_or(ApiError::NotFound)?)?;
    at_version(expected, current.version)?;
    if change.reactivates(&current) {
        return Err(ApiError::Conflict(
            "a deactivated member comes back by accepting a new invitation (POST /v1/staff)".into(),
        ));
    }
    let updated = change.apply(&current, &ctx.now_text());
    let mut writes = vec![Guarded::new(
        Write::put(Table::Records, entity_item(&staff_key(clinic, &user), &updated), Cond::VersionIs(expected)),
        ApiError::PreconditionFailed,
    )];
    let membership = match (current.status, updated.status) {
        (StaffStatus::Active, StaffStatus::Active) => Write::put(
            Table::Records,
            entity_item(&membership_key(&user), &Membership::of(clinic, &updated)),
            Cond::Exists,
        ),
        (StaffStatus::Active, StaffStatus::Deactivated) => {
            Write::Delete { table: Table::Records, key: membership_key(&user), cond: Cond::Always }
        }
        _ => return Ok(member_reply(writes, &updated)),
    };
    writes.push(Guarded::new(membership, ApiError::Conflict("the membership changed meanwhile; retry".into())));
    if current.is_active_admin() != updated.is_active_admin() {
        let delta = if updated.is_active_admin() { 1 } else { -1 };
        writes.push(admin_count_write(&ctx, clinic, delta).await?);
    }
    Ok(member_reply(writes, &updated))
}

fn member_reply(writes: Vec<Guarded>, member: &StaffMember) -> Outcome {
    let reply = Reply::ok(json!(member)).versioned(member.version);
    Outcome::Write(writes, reply, Facts::resource("staff", &member.user_id))
}

/// The write that moves the clinic's count of active administrators by `delta`, on the version read, so
/// two administrators demoting each other at once cannot both succeed. A clinic whose count was never
/// kept has it counted from its members first.
async fn admin_count_write(ctx: &Ctx, clinic: EntityId, delta: i64) -> Result<Guarded, ApiError> {
    let key = Key::new(keys::clinic_pk(clinic), keys::ADMIN_COUNT);
    let (count, cond, version) = match ctx.app.records.get(Table::Records, &key).await? {
        Some(item) => {
            let read = |name: &str| item.get(name).and_then(Value::as_i64).unwrap_or(0);
            let version = read("version") as u64;
            (read("count"), Cond::VersionIs(version), version + 1)
        }
        None => (count_active_admins(ctx, clinic).await?, Cond::NotExists, 1),
    };
    let next = count + delta;
    if delta < 0 && next < 1 {
        return Err(ApiError::Conflict(
            "the clinic would be left without an active administrator: make someone else one first".into(),
        ));
    }
    Ok(Guarded::new(
        Write::put(Table::Records, admin_count_item(&key, next, version), cond),
        ApiError::Conflict("the clinic's administrators changed meanwhile; retry".into()),
    ))
}

/// The counter item of a clinic's active administrators.
pub fn admin_count_item(key: &Key, count: i64, version: u64) -> Item {
    entity_item(key, &json!({"count": count, "version": version}))
}

async fn count_active_admins(ctx: &Ctx, clinic: EntityId) -> Result<i64, ApiError> {
    let query = Query::new(Table::Records, keys::clinic_pk(clinic)).sk(SkRange::Prefix(keys::STAFF_PREFIX.into()));
    let items = super::chart::query_all(ctx, query).await?;
    let members: Vec<StaffMember> = items.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    Ok(members.iter().filter(|m| m.is_active_admin()).count() as i64)
}
