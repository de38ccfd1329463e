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
    #[error("this user is not an active member of any clinic")]
    NotAMember,
    #[error("the membership could not be read")]
    Store(#[from] crate::store::StoreError),
}

/// What the token should say, decided from the membership and the user's Cognito groups.
pub fn decide(membership: Option<&Membership>, groups: &[String]) -> Result<Value, TriggerError> {
    match membership {
        Some(m) if m.is_active() => Ok(json!({
            "idTokenGeneration": { "claimsToAddOrOverride": { "clinic_id": m.clinic_id.to_string() } },
            "accessTokenGeneration": { "claimsToAddOrOverride": { "clinic_id": m.clinic_id.to_string() } },
            "groupOverrideDetails": { "groupsToOverride": [m.role.as_str()] },
        })),
        _ if groups.iter().any(|g| g == Role::Operator.as_str()) => Ok(json!({
            "idTokenGeneration": { "claimsToSuppress": ["clinic_id"] },
            "accessTokenGeneration": { "claimsToSuppress": ["clinic_id"] },
            "groupOverrideDetails": { "groupsToOverride": [Role::Operator.as_str()] },
        })),
        _ => Err(TriggerError::NotAMember),
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
    match &details {
        Ok(_) => tracing::info!(user_id = %user, "token claims set"),
        Err(e) => tracing::warn!(user_id = %user, reason = %e, "sign-in refused"),
    }
    event["response"] = json!({ "claimsAndScopeOverrideDetails": details? });
    Ok(event)
}

/// Runs the trigger on Lambda.
pub async fn serve() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let records = crate::host::config::dynamo_from_env().await?;
    let records = &records;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<Value>| async move {
            handle(records, event.payload).await.map_err(lambda_http::Error::from)
        },
    ))
    .await
}
