//! Staff: opening a clinic invites its first administrator; members join by accepting an invitation, are
//! released when deactivated, and a clinic always keeps an active administrator.

use serde_json::{Value, json};
use vellum::domain::role::Role;
use vellum::store::{Key, Table};
use vellum_tests::{TestApp, clinic_body};

/// The clinic a user's membership names, if they have one.
async fn membership_clinic(app: &TestApp, user: &str) -> Option<String> {
    let key = Key::new(format!("USER#{user}"), "MEMBERSHIP");
    let item = app.records.get(Table::Records, &key).await.expect("a read");
    item.and_then(|i| i.get("clinicId").and_then(Value::as_str).map(str::to_string))
}

async fn an_operator_opens_a_clinic_and_its_administrator_joins_it(app: TestApp) {
    let reply = app.post("/v1/clinics", &app.operator(), clinic_body("Glow Aesthetics")).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.body["clinic"]["timeZone"], "America/Los_Angeles");
    assert_eq!(reply.body["adminInvitation"]["role"], "admin");
    assert_eq!(reply.body["adminInvitation"]["status"], "invited");
    let id = reply.body["id"].as_str().unwrap();
    let admin = app.token("owner-1", Some(id), Role::Admin);
    assert_eq!(app.get("/v1/clinic", &admin).await.status, 403, "nobody is a member before accepting");
    let joined = app.join("owner-1", reply.body["adminInvitationCode"].as_str().unwrap()).await;
    assert_eq!(joined.status, 200, "{joined:?}");
    assert_eq!(joined.body["clinicId"], id);
    assert_eq!(joined.body["member"]["role"], "admin");
    let clinic = app.get("/v1/clinic", &admin).await;
    assert_eq!(clinic.status, 200);
    assert_eq!(clinic.body["name"], "Glow Aesthetics");
    assert_eq!(clinic.header("etag"), Some("\"1\""));
    assert_eq!(membership_clinic(&app, "owner-1").await.as_deref(), Some(id));
}

async fn a_clinic_needs_a_valid_zone_country_and_contact(app: TestApp) {
    let mut body = clinic_body("Bad");
    body["timeZone"] = json!("Moon/Base");
    body["country"] = json!("USA");
    body["contact"] = json!({"email": "nope"});
    let reply = app.post("/v1/clinics", &app.operator(), body).await;
    assert_eq!(reply.status, 422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["contact.email", "country", "timeZone"]);
}

/// A code works once, for a week, for someone signed in without a clinic; a wrong, used or made-up code
/// gets the same 404, and an operator can never join.
async fn an_invitation_code_works_once_and_only_for_a_joiner(app: TestApp) {
    let clinic = app.open_clinic("Codes").await;
    let invited = app.post("/v1/staff", &clinic.admin, json!({"role": "nurse", "displayName": "Nurse N"})).await;
    assert_eq!(invited.status, 201, "{invited:?}");
    assert_eq!(invited.body["status"], "invited");
    let code = invited.body["code"].as_str().unwrap().to_string();
    let claim =
        app.post("/v1/staff", &clinic.admin, json!({"userId": "known-sub", "role": "nurse", "displayName": "X"}));
    assert_eq!(claim.await.status, 400, "nobody's id can be claimed: there is no userId to name");

    let join = |token: String, code: String| {
        let app = &app;
        async move { app.post("/v1/staff/join", &token, json!({"code": code})).await }
    };
    assert_eq!(join(app.operator(), code.clone()).await.status, 403, "an operator never becomes staff");
    assert_eq!(join(clinic.admin.clone(), code.clone()).await.status, 403, "a member's token is not a joiner's");
    let mut forged = code.clone();
    forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
    let unknown = join(app.token("n-1", None, Role::Joiner), forged).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(join(app.token("n-1", None, Role::Joiner), "short".into()).await.status, 404);
    let joined = join(app.token("n-1", None, Role::Joiner), code.clone()).await;
    assert_eq!(joined.status, 200, "{joined:?}");
    let used = join(app.token("n-2", None, Role::Joiner), code).await;
    assert_eq!((used.status, used.body["detail"].clone()), (unknown.status, unknown.body["detail"].clone()));
    let nurse = app.token("n-1", Some(&clinic.id), Role::Nurse);
    assert_eq!(app.get("/v1/clinic", &nurse).await.status, 200);
    let joins = app.audit(&clinic, "").await;
    assert!(joins.iter().any(|e| e["eventName"] == "staff.join" && e["userIdentity"]["userId"] == "n-1"));
}

/// A member of one clinic cannot join another until the first deactivates them; then they can, and the
/// first clinic brings them back only with a new invitation. Nothing tells a clinic about another.
async fn a_membership_is_released_on_deactivation(app: TestApp) {
    let first = app.open_clinic("First").await;
    let second = app.open_clinic("Second").await;
    let (_, nurse) = app.member(&first, Role::Nurse).await;
    let invited = app.post("/v1/staff", &second.admin, json!({"role": "nurse", "displayName": "Moonlighter"})).await;
    let code = invited.body["code"].as_str().unwrap().to_string();
    let busy = app.join(&nurse, &code).await;
    assert_eq!(busy.status, 409, "{busy:?}");
    assert!(!busy.body["detail"].as_str().unwrap().contains(&first.id), "the clinic is not named");
    let staff = app.get("/v1/staff", &second.admin).await;
    assert_eq!(staff.body["items"].as_array().unwrap().len(), 1, "nothing half-written");

    let off = app.patch(&format!("/v1/staff/{nurse}"), &first.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(off.status, 200, "{off:?}");
    assert_eq!(membership_clinic(&app, &nurse).await, None, "released");
    let moved = app.join(&nurse, &code).await;
    assert_eq!(moved.status, 200, "the same code still works: {moved:?}");
    assert_eq!(membership_clinic(&app, &nurse).await.as_deref(), Some(second.id.as_str()));
    let old_token = app.token(&nurse, Some(&first.id), Role::Nurse);
    assert_eq!(app.get("/v1/clinic", &old_token).await.status, 403, "the first clinic's token is dead");
    let back = app.patch(&format!("/v1/staff/{nurse}"), &first.admin, "\"2\"", json!({"status": "active"})).await;
    assert_eq!(back.status, 409, "a new invitation, not a switch: {back:?}");
}

/// A membership kept as `deactivated` (as deactivations once did, instead of releasing it) does not stop
/// its user from joining a clinic.
async fn a_membership_kept_deactivated_does_not_block_joining(app: TestApp) {
    let clinic = app.open_clinic("Legacy").await;
    let mut kept = vellum::store::Item::new();
    for (name, value) in [
        ("PK", "USER#legacy-1"),
        ("SK", "MEMBERSHIP"),
        ("clinicId", "01JD0000000000000000000009"),
        ("userId", "legacy-1"),
        ("role", "nurse"),
        ("status", "deactivated"),
    ] {
        kept.insert(name.into(), json!(value));
    }
    let put = vellum::store::Write::put(Table::Records, kept, vellum::store::Cond::NotExists);
    app.records.transact(vec![put]).await.unwrap();
    let invited = app.post("/v1/staff", &clinic.admin, json!({"role": "nurse", "displayName": "Returning"})).await;
    let joined = app.join("legacy-1", invited.body["code"].as_str().unwrap()).await;
    assert_eq!(joined.status, 200, "{joined:?}");
    assert_eq!(membership_clinic(&app, "legacy-1").await.as_deref(), Some(clinic.id.as_str()));
}

/// An administrator's codes stop working when they stop being one: a deactivated administrator cannot
/// come back with a code they made before, nor bring anyone else in with it.
async fn a_former_administrators_codes_no_longer_work(app: TestApp) {
    let clinic = app.open_clinic("Former").await;
    let (second, second_user) = app.member(&clinic, Role::Admin).await;
    let own = app.post("/v1/staff", &second, json!({"role": "admin", "displayName": "Back door"})).await;
    let friend = app.post("/v1/staff", &second, json!({"role": "nurse", "displayName": "Friend"})).await;
    let path = format!("/v1/staff/{second_user}");
    let off = app.patch(&path, &clinic.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(off.status, 200);
    assert_eq!(app.join(&second_user, own.body["code"].as_str().unwrap()).await.status, 404);
    assert_eq!(app.join("friend-1", friend.body["code"].as_str().unwrap()).await.status, 404);
    let fresh = app.post("/v1/staff", &clinic.admin, json!({"role": "nurse", "displayName": "Friend"})).await;
    assert_eq!(app.join("friend-1", fresh.body["code"].as_str().unwrap()).await.status, 200);
}

async fn a_member_is_invited_listed_and_changed(app: TestApp) {
    let clinic = app.open_clinic("Team").await;
    let (_, user) = app.member(&clinic, Role::Practitioner).await;
    let bad_role = app.post("/v1/staff", &clinic.admin, json!({"role": "operator", "displayName": "X"})).await;
    assert_eq!(bad_role.status, 422);
    assert_eq!(bad_role.error_fields(), ["role"]);
    let path = format!("/v1/staff/{user}");
    let changed = app.patch(&path, &clinic.admin, "\"1\"", json!({"role": "nurse"})).await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["role"], "nurse");
    let stale = app.patch(&path, &clinic.admin, "\"1\"", json!({"role": "billing"})).await;
    assert_eq!(stale.status, 412);
    let empty = app.patch(&path, &clinic.admin, "\"2\"", json!({})).await;
    assert_eq!(empty.status, 400);
    let list = app.get("/v1/staff?limit=1", &clinic.admin).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(list.body["nextCursor"].is_string());
    assert_eq!(app.patch("/v1/staff/nobody", &clinic.admin, "\"1\"", json!({"role": "nurse"})).await.status, 404);
}

/// Two administrators who demote each other at the same moment: one wins, and the clinic keeps an
/// active administrator; the last one can be neither demoted nor deactivated.
async fn a_clinic_always_keeps_an_active_administrator(app: TestApp) {
    for round in 0..3 {
        let clinic = app.open_clinic(&format!("Admins {round}")).await;
        let (second, second_user) = app.member(&clinic, Role::Admin).await;
        let demote = |token: String, user: String, body: Value| {
            let app = &app;
            async move { app.patch(&format!("/v1/staff/{user}"), &token, "\"1\"", body).await }
        };
        let (a, b) = tokio::join!(
            demote(clinic.admin.clone(), second_user.clone(), json!({"role": "nurse"})),
            demote(second.clone(), clinic.admin_user.clone(), json!({"status": "deactivated"})),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses[0], 200, "{a:?} {b:?}");
        assert!(matches!(statuses[1], 403 | 409), "{a:?} {b:?}");
        let admin = if a.status == 200 { &clinic.admin } else { &second };
        let staff = app.get("/v1/staff", admin).await;
        let active_admins = staff.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "admin" && m["status"] == "active")
            .count();
        assert_eq!(active_admins, 1, "{staff:?}");
    }
    let clinic = app.open_clinic("Last").await;
    let (second, second_user) = app.member(&clinic, Role::Admin).await;
    let second_path = format!("/v1/staff/{second_user}");
    let off = app.patch(&second_path, &clinic.admin, "\"1\"", json!({"status": "deactivated"})).await;
    assert_eq!(off.status, 200);
    assert_eq!(app.get("/v1/staff", &second).await.status, 403);
    let me = format!("/v1/staff/{}", clinic.admin_user);
    let alone = app.patch(&me, &clinic.admin, "\"1\"", json!({"role": "nurse"})).await;
    assert_eq!(alone.status, 409, "{alone:?}");
}

on_both_backends!(
    an_operator_opens_a_clinic_and_its_administrator_joins_it,
    a_clinic_needs_a_valid_zone_country_and_contact,
    an_invitation_code_works_once_and_only_for_a_joiner,
    a_membership_is_released_on_deactivation,
    a_former_administrators_codes_no_longer_work,
    a_membership_kept_deactivated_does_not_block_joining,
    a_member_is_invited_listed_and_changed,
    a_clinic_always_keeps_an_active_administrator,
);
