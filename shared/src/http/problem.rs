//! The one error type of the API and its one mapping to `application/problem+json` (RFC 9457).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::domain::fields::{FieldError, IssueKind};

/// Every way a call can fail. Expected failures say what is wrong; the unexpected say nothing but the request id.
#[derive(Clone, Debug)]
pub enum ApiError {
    /// Field-level problems: 400 when any is malformed, else 422 when any breaks a rule, else 404 when
    /// any names what the clinic does not have, else 409 (what they name cannot serve).
    Invalid {
        errors: Vec<FieldError>,
    },
    /// A malformed request that is not about one field (bad JSON, bad header).
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    /// Never says whether the thing exists in another clinic.
    NotFound,
    Conflict(String),
    /// The time asked for is held by another appointment (or its room or device is): the next free starts
    /// go with the answer.
    Taken {
        next_free: Vec<String>,
    },
    /// The safety check raised blocking alerts that the request did not acknowledge (`missing`, by rule
    /// id); `alerts` is every alert it raised that the caller may see, and `withheld` counts the blocking
    /// ones that rest on chart entries the caller's role does not read.
    SafetyAlerts {
        alerts: Vec<crate::domain::safety::Alert>,
        missing: Vec<String>,
        withheld: usize,
    },
    PreconditionFailed,
    PreconditionRequired,
    /// The path is served, but not with this method.
    MethodNotAllowed,
    PayloadTooLarge {
        limit: usize,
    },
    /// More than can be done at once (a bundle over the writes one transaction takes), saying the limit.
    TooMuch(String),
    UnsupportedMediaType(String),
    Unprocessable(String),
    /// The link has been used up: it worked once and will not again.
    Gone(String),
    TooManyRequests,
    /// The clinic used its plan's burst quota of weighted units for this minute: `retry_after` seconds
    /// until the next.
    OverQuota {
        limit: u32,
        retry_after: u32,
    },
    /// The clinic's `hard` plan reached its monthly spend cap: changes other than to the chart wait for
    /// the next month or a higher cap.
    AtSpendCap {
        cap_usd: u32,
    },
    /// A dependency failed; the cause goes to the logs only.
    Unavailable(String),
    /// A bug; the cause goes to the logs only.
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { errors: vec![FieldError::shape(field, message)] }
    }

    /// A rule broken by one well-formed field (422), found once the body was read.
    pub fn field_rule(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { errors: vec![FieldError::rule(field, message)] }
    }

    /// A field that names what the clinic does not have (404, with the field).
    pub fn unknown(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { errors: vec![FieldError::unknown(field, message)] }
    }

    /// A field that names what cannot serve as asked (409, with the field).
    pub fn unsuitable(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { errors: vec![FieldError::unsuitable(field, message)] }
    }

    /// The most telling kind of a list of field errors: shape, then rule, then unknown, then unsuitable.
    fn worst(errors: &[FieldError]) -> IssueKind {
        [IssueKind::Shape, IssueKind::Rule, IssueKind::Unknown]
            .into_iter()
            .find(|kind| errors.iter().any(|e| e.kind == *kind))
            .unwrap_or(IssueKind::Unsuitable)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { errors } => match Self::worst(errors) {
                IssueKind::Shape => StatusCode::BAD_REQUEST,
                IssueKind::Rule => StatusCode::UNPROCESSABLE_ENTITY,
                IssueKind::Unknown => StatusCode::NOT_FOUND,
                IssueKind::Unsuitable => StatusCode::CONFLICT,
            },
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::Taken { .. } | ApiError::SafetyAlerts { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } | ApiError::TooMuch(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::TooManyRequests | ApiError::OverQuota { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AtSpendCap { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable code for the audit trail and the problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { errors } => match Self::worst(errors) {
                IssueKind::Shape => "invalid-request",
                IssueKind::Rule => "validation-failed",
                IssueKind::Unknown => "unknown-reference",
                IssueKind::Unsuitable => "unsuitable-reference",
            },
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Taken { .. } => "time-taken",
            ApiError::SafetyAlerts { .. } => "safety-alerts",
            ApiError::PreconditionFailed => "precondition-failed",
            ApiError::PreconditionRequired => "precondition-required",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::PayloadTooLarge { .. } | ApiError::TooMuch(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Gone(_) => "gone",
            ApiError::TooManyRequests => "too-many-requests",
            ApiError::OverQuota { .. } => "over-quota",
            ApiError::AtSpendCap { .. } => "spend-cap-reached",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Whether the audit trail records this as a refusal (rather than a failure).
    pub fn is_denial(&self) -> bool {
        matches!(
            self,
            ApiError::Unauthorized(_)
                | ApiError::Forbidden(_)
                | ApiError::NotFound
                | ApiError::TooManyRequests
                | ApiError::OverQuota { .. }
                | ApiError::AtSpendCap { .. }
        )
    }

    fn title(&self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    fn detail(&self, request_id: &str) -> String {
        match self {
            ApiError::Invalid { errors } => {
                format!("{} field(s) are not acceptable; see errors", errors.len())
            }
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Unprocessable(d)
            | ApiError::TooMuch(d)
            | ApiError::Gone(d) => d.clone(),
            ApiError::TooManyRequests => "too many requests from this address; wait a minute and try again".into(),
            ApiError::OverQuota { limit, retry_after } => format!(
                "the clinic used its plan's {limit} units for this minute; retry in {retry_after} s (reading a chart is never held back)"
            ),
            ApiError::AtSpendCap { cap_usd } => format!(
                "the clinic's plan stops changes once the month's spend reaches its cap of ${cap_usd}; the chart stays open to read and write, and the operator can raise the cap"
            ),
            ApiError::NotFound => "no such resource".into(),
            ApiError::Taken { .. } => "that time is taken; nextFree lists the next starts that are free".into(),
            ApiError::SafetyAlerts { missing, withheld, .. } => {
                let mut detail = format!(
                    "the safety check raised {} blocking alert(s) not acknowledged ({}): change the plan, or acknowledge each in safetyOverrides with its ruleId and a reason; alerts lists every alert raised",
                    missing.len(),
                    missing.join(", ")
                );
                if *withheld > 0 {
                    detail.push_str(&format!(
                        "; {withheld} more rest on chart entries your role does not read: a practitioner or nurse must book it"
                    ));
                }
                detail
            }
            ApiError::PreconditionFailed => {
                "the resource changed since you read it; read it again and reapply your change".into()
            }
            ApiError::PreconditionRequired => "send If-Match with the ETag of the version you read".into(),
            ApiError::MethodNotAllowed => "this method is not served on this path (Allow lists those that are)".into(),
            ApiError::PayloadTooLarge { limit } => format!("the body must be at most {limit} bytes"),
            ApiError::Unavailable(_) => {
                format!("a service Vellum depends on failed; nothing was changed; retry later (request {request_id})")
            }
            ApiError::Internal(_) => format!("unexpected error (request {request_id})"),
        }
    }

    /// The problem+json response.
    pub fn to_response(&self, request_id: &str) -> Response {
        let mut body = json!({
            "type": format!("urn:vellum:problem:{}", self.code()),
            "title": self.title(),
            "status": self.status().as_u16(),
            "detail": self.detail(request_id),
            "requestId": request_id,
        });
        if let ApiError::Invalid { errors } = self {
            body["errors"] = json!(errors);
        }
        if let ApiError::Taken { next_free } = self {
            body["nextFree"] = json!(next_free);
        }
        if let ApiError::SafetyAlerts { alerts, missing, withheld } = self {
            body["ruleSet"] = json!(crate::domain::safety::rules::RULES.version);
            body["alerts"] = json!(alerts);
            body["unacknowledged"] = json!(missing);
            body["withheld"] = json!(withheld);
        }
        let mut response = (self.status(), body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let ApiError::OverQuota { limit, retry_after } = self {
            // The shape of the IETF draft "RateLimit header fields for HTTP".
            let pairs = [
                ("ratelimit-policy", format!("\"burst\";q={limit};w=60")),
                ("ratelimit", format!("\"burst\";r=0;t={retry_after}")),
                ("retry-after", retry_after.to_string()),
            ];
            for (name, value) in pairs {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
        }
        response
    }
}

impl ApiError {
    /// Whether a concurrent twin of the request (same `Idempotency-Key`) could have caused this: it moved
    /// a version on, or changed the state this request expected.
    pub fn could_be_a_twins_doing(&self) -> bool {
        matches!(self, ApiError::Conflict(_) | ApiError::Taken { .. } | ApiError::PreconditionFailed)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Refused(reason) => {
                ApiError::Unprocessable(format!("the record would be too large to keep ({reason}); send less"))
            }
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}
