//! The caller, read from the JWT authorizer claims API Gateway (or the local host) puts in the request context.

use std::collections::HashMap;

use lambda_http::request::RequestContext;

use crate::domain::fields::{Context, ParseStr};
use crate::domain::role::Role;
use crate::domain::values::{EntityId, UserId};

/// Who is calling, as the verified token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub role: Role,
    /// Only from the token's `clinic_id` claim; never from the path or body.
    pub clinic: Option<EntityId>,
}

/// What the request context says about the request itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The domain API Gateway received the call on (set by the gateway, not by a request header).
    pub domain_name: Option<String>,
}

/// Reads the request metadata.
pub fn request_meta(ctx: Option<&RequestContext>) -> RequestMeta {
    match ctx {
        Some(RequestContext::ApiGatewayV2(c)) => RequestMeta {
            request_id: c
                .request_id
                .clone()
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| ulid::Ulid::new().to_string()),
            source_ip: c.http.source_ip.clone(),
            user_agent: c.http.user_agent.as_ref().map(|ua| ua.chars().take(256).collect()),
            domain_name: c.domain_name.clone().filter(|d| !d.is_empty()),
        },
        _ => RequestMeta { request_id: ulid::Ulid::new().to_string(), ..RequestMeta::default() },
    }
}

/// The groups claim as API Gateway flattens it: `[a b]`; also accepts a JSON list or commas.
pub fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim_matches(|c| c == '[' || c == ']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads the caller from the claims; `None` when no usable identity is present.
pub fn caller_from_claims(claims: &HashMap<String, String>) -> Option<Caller> {
    let ctx = Context::timeless();
    let user = UserId::parse_str(claims.get("sub")?, &ctx).ok()?;
    let groups = parse_groups(claims.get("cognito:groups")?);
    let roles: Vec<Role> =
        groups.iter().filter_map(|g| Role::parse_str(g, &ctx).ok()).filter(|r| *r != Role::System).collect();
    // One role per token: the pre-token trigger sets exactly one; anything else is refused.
    let [role] = roles.as_slice() else {
        return None;
    };
    let clinic = match claims.get("clinic_id") {
        None => None,
        Some(raw) => Some(EntityId::parse(raw)?),
    };
    Some(Caller { user, role: *role, clinic })
}

/// The caller of a request, from its context.
pub fn caller(ctx: Option<&RequestContext>) -> Option<Caller> {
    match ctx {
        Some(RequestContext::ApiGatewayV2(c)) => {
            let jwt = c.authorizer.as_ref()?.jwt.as_ref()?;
            caller_from_claims(&jwt.claims)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn groups_are_read_in_every_shape_the_gateway_uses() {
        assert_eq!(parse_groups("[admin]"), ["admin"]);
        assert_eq!(parse_groups("[admin nurse]"), ["admin", "nurse"]);
        assert_eq!(parse_groups(r#"["nurse"]"#), ["nurse"]);
    }

    #[test]
    fn a_caller_needs_a_subject_and_exactly_one_known_role() {
        let clinic = ulid::Ulid::new().to_string();
        let ok = caller_from_claims(&claims(&[("sub", "u-1"), ("cognito:groups", "[nurse]"), ("clinic_id", &clinic)]));
        assert_eq!(ok.map(|c| c.role), Some(Role::Nurse));
        assert!(caller_from_claims(&claims(&[("cognito:groups", "[nurse]")])).is_none());
        assert!(caller_from_claims(&claims(&[("sub", "u-1"), ("cognito:groups", "[nurse admin]")])).is_none());
        assert!(caller_from_claims(&claims(&[("sub", "u-1"), ("cognito:groups", "[root]")])).is_none());
        assert!(
            caller_from_claims(&claims(&[("sub", "u-1"), ("cognito:groups", "[nurse]"), ("clinic_id", "x")])).is_none()
        );
    }
}
