//! The Cognito pre-token-generation trigger: puts the member's clinic and role into the tokens.

use serde_json::{Value, json};

use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::staff::Membership;
use crate::domain::values::UserId;
use crate::store::{Key, Records, Table, entity_from};

/// Why sign-in is refused (Cognito shows the message to the app, so it names no clinic).
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("the event is not a pre-token-generation event (version 2 or later)")]
    BadEvent,
    #[error("the membership could not be read")]
    Store(#[from] crate::store::StoreError),
}

/// What the token should say, decided from the user's Cognito groups and membership. An operator is always
/// an operator, whatever membership might exist, so an operator never acts as clinic staff; an active
/// member gets their clinic and role; anyone else signed in is a joiner, who may only join a clinic with
/// an invitation's code.
pub fn decide(membership: Option<&Membership>, groups: &[String]) -> Value {
    let suppress_clinic = |role: Role| {
        json!({
            "idTokenGeneration": { "claimsToSuppress": ["clinic_id"] },
            "accessTokenGeneration": { "claimsToSuppress": ["clinic_id"] },
            "groupOverrideDetails": { "groupsToOverride": [role.as_str()] },
        })
    };
    if groups.iter().any(|g| g == Role::Operator.as_str()) {
        return suppress_clinic(Role::Operator);
    }
    match membership {
        Some(m) if m.is_active() && m.role.is_staff() => json!({
            "idTokenGeneration": { "claimsToAddOrOverride": { "clinic_id": m.clinic_id.to_string() } },
            "accessTokenGeneration": { "claimsToAddOrOverride": { "clinic_id": m.clinic_id.to_string() } },
            "groupOverrideDetails": { "groupsToOverride": [m.role.as_str()] },
        }),
        _ => suppress_clinic(Role::Joiner),
    }
}

/// Handles one trigger event and returns it with its response filled in.
pub async fn handle(records: &dyn Records, mut event: Value) -> Result<Value, TriggerError> {
    let version = event.get("version").and_then(Value::as_str).unwrap_or("1");
    if version == "1" {
        return Err(TriggerError::BadEvent);
    }
    let sub = event.pointer("/request/userAttributes/sub").and_then(Value::as_str).ok_or(TriggerError::BadEvent)?;
    let ctx = crate::domain::fields::Context::timeless();
    let user = <UserId as crate::domain::fields::ParseStr>::parse_str(sub, &ctx).map_err(|_| TriggerError::BadEvent)?;
    let groups: Vec<String> = event
        .pointer("/request/groupConfiguration/groupsToOverride")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let item = records.get(Table::Records, &Key::new(keys::user_pk(&user), keys::MEMBERSHIP)).await?;
    let membership = item.map(entity_from::<Membership>).transpose()?;
    let details = decide(membership.as_ref(), &groups);
    tracing::info!(user_id = %user, role = %details["groupOverrideDetails"]["groupsToOverride"][0], "token claims set");
    event["response"] = json!({ "claimsAndScopeOverrideDetails": details });
    Ok(event)
}

/// Runs the trigger on Lambda.
pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let records = crate::host::config::dynamo(&crate::host::config::lambda_sdk_config()?)?;
    let records = &records;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<Value>| async move {
            handle(records, event.payload).await.map_err(lambda_http::Error::from)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::staff::StaffStatus;

    fn membership(role: Role) -> Membership {
        let ctx = crate::domain::fields::Context::timeless();
        let user = <UserId as crate::domain::fields::ParseStr>::parse_str("u-1", &ctx).unwrap();
        Membership {
            clinic_id: crate::domain::values::EntityId::parse("01JD0000000000000000000001").unwrap(),
            user_id: user,
            role,
            status: StaffStatus::Active,
        }
    }

    fn role_of(details: &Value) -> &str {
        details["groupOverrideDetails"]["groupsToOverride"][0].as_str().unwrap()
    }

    #[test]
    fn an_operator_is_an_operator_whatever_membership_exists() {
        let details = decide(Some(&membership(Role::Admin)), &["operator".to_string()]);
        assert_eq!(role_of(&details), "operator");
        assert_eq!(details["accessTokenGeneration"]["claimsToSuppress"], json!(["clinic_id"]));
    }

    #[test]
    fn a_member_gets_the_clinic_and_anyone_else_may_only_join() {
        let details = decide(Some(&membership(Role::Nurse)), &[]);
        assert_eq!(role_of(&details), "nurse");
        assert_eq!(details["idTokenGeneration"]["claimsToAddOrOverride"]["clinic_id"], "01JD0000000000000000000001");
        assert_eq!(role_of(&decide(None, &["admin".to_string()])), "joiner", "a group is not a membership");
    }
}
