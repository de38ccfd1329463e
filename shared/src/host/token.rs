//! Local bearer tokens: HS256 JWTs shaped like Cognito access tokens, issued and verified by the local host.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::crypto::{SecretKey, mac, verify_mac};
use crate::domain::role::Role;
use crate::domain::values::{EntityId, UserId};

const ISSUER: &str = "vellum-local";

/// Why a token was refused (the caller only ever hears "unauthorized").
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not an access token of this issuer")]
    WrongKind,
}

/// Signs and verifies local tokens with one secret key.
#[derive(Clone, Debug)]
pub struct TokenKeys {
    key: SecretKey,
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

impl TokenKeys {
    pub fn new(key: SecretKey) -> Self {
        Self { key }
    }

    /// Issues an access token valid for `ttl_seconds` from `now` (epoch seconds).
    pub fn issue(&self, user: &UserId, clinic: Option<EntityId>, role: Role, now: i64, ttl_seconds: i64) -> String {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let mut claims = json!({
            "sub": user,
            "cognito:groups": [role.as_str()],
            "iss": ISSUER,
            "token_use": "access",
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": ulid::Ulid::new().to_string(),
        });
        if let Some(clinic) = clinic {
            claims["clinic_id"] = json!(clinic);
        }
        let signing_input = format!("{}.{}", b64(&header), b64(&claims));
        let signature = URL_SAFE_NO_PAD.encode(mac(&self.key, signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    /// Verifies a token and returns its claims flattened to strings, as API Gateway's JWT authorizer does.
    pub fn verify(&self, token: &str, now: i64) -> Result<HashMap<String, String>, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| -> Result<Value, TokenError> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
        };
        if decode(h)?.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(TokenError::Algorithm);
        }
        let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| TokenError::Malformed)?;
        if !verify_mac(&self.key, format!("{h}.{p}").as_bytes(), &signature) {
            return Err(TokenError::Signature);
        }
        let claims = decode(p)?;
        let claims = claims.as_object().ok_or(TokenError::Malformed)?;
        if claims.get("iss").and_then(Value::as_str) != Some(ISSUER)
            || claims.get("token_use").and_then(Value::as_str) != Some("access")
        {
            return Err(TokenError::WrongKind);
        }
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp > now => {}
            _ => return Err(TokenError::Expired),
        }
        Ok(claims.iter().map(|(k, v)| (k.clone(), flatten(v))).collect())
    }
}

/// A claim as a string, the way API Gateway passes claims to a function (`[a b]` for lists).
fn flatten(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flatten).collect();
            format!("[{}]", inner.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::{Context, ParseStr};

    fn user() -> UserId {
        UserId::parse_str("nurse-1", &Context::timeless()).unwrap()
    }

    #[test]
    fn a_token_verifies_into_gateway_shaped_claims() {
        let keys = TokenKeys::new(SecretKey::generate());
        let clinic = EntityId(ulid::Ulid::new());
        let token = keys.issue(&user(), Some(clinic), Role::Nurse, 1_000, 60);
        let claims = keys.verify(&token, 1_030).unwrap();
        assert_eq!(claims["sub"], "nurse-1");
        assert_eq!(claims["cognito:groups"], "[nurse]");
        assert_eq!(claims["clinic_id"], clinic.to_string());
    }

    #[test]
    fn forged_expired_and_unsigned_tokens_are_refused() {
        let keys = TokenKeys::new(SecretKey::generate());
        let token = keys.issue(&user(), None, Role::Operator, 1_000, 60);
        assert_eq!(keys.verify(&token, 1_060), Err(TokenError::Expired));
        let other = TokenKeys::new(SecretKey::generate());
        assert_eq!(other.verify(&token, 1_000), Err(TokenError::Signature));
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims =
            b64(&json!({"sub": "x", "cognito:groups": ["admin"], "iss": ISSUER, "token_use": "access", "exp": 9_999}));
        assert_eq!(
            keys.verify(&format!("{}.{forged_claims}.{}", parts[0], parts[2]), 1_000),
            Err(TokenError::Signature)
        );
        let none_alg = b64(&json!({"alg": "none"}));
        assert_eq!(keys.verify(&format!("{none_alg}.{}.", parts[1]), 1_000), Err(TokenError::Algorithm));
        assert_eq!(keys.verify("garbage", 1_000), Err(TokenError::Malformed));
    }
}
