//! What a handler receives, and the checks that turn raw pieces of a request into typed values.

use std::collections::HashMap;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, IF_MATCH};
use serde_json::Value;

use super::problem::ApiError;
use crate::domain::fields::{Context, Errors, Form, ParseStr};
use crate::domain::values::EntityId;

/// The most a JSON body may weigh.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The largest FHIR transaction bundle taken: its resources are written in one transaction of at most 4 MB.
pub const MAX_BUNDLE_BYTES: usize = 1024 * 1024;

/// The parts of a request a handler may use.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub path: HashMap<String, String>,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Input {
    /// An entity id from the path; an id that cannot exist reads as "not found".
    pub fn entity(&self, name: &str) -> Result<EntityId, ApiError> {
        self.path.get(name).and_then(|s| EntityId::parse(s)).ok_or(ApiError::NotFound)
    }

    /// A path segment parsed as `T`; unparseable reads as "not found".
    pub fn path_value<T: ParseStr>(&self, name: &str, ctx: &Context) -> Result<T, ApiError> {
        self.path.get(name).and_then(|s| T::parse_str(s, ctx).ok()).ok_or(ApiError::NotFound)
    }

    /// The JSON body, after checking its media type and syntax.
    pub fn json(&self, accepted: &[&str]) -> Result<Value, ApiError> {
        let media = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        match media {
            Some(m) if accepted.contains(&m.as_str()) => {}
            _ => {
                return Err(ApiError::UnsupportedMediaType(format!("send the body as {}", accepted.join(" or "))));
            }
        }
        serde_json::from_slice(&self.body).map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
    }

    /// Reads the JSON body as `T` with `read`, reporting every field error.
    pub fn form<T>(&self, ctx: Context, read: impl FnOnce(&Form<'_>) -> Option<T>) -> Result<T, ApiError> {
        let body = self.json(&["application/json"])?;
        read_form(&body, ctx, read)
    }

    /// The version named by `If-Match`: 428 when absent, 400 when it is not an ETag Vellum sends (a
    /// version number in quotes, weak or strong).
    pub fn if_match(&self) -> Result<u64, ApiError> {
        if !self.sends_if_match() {
            return Err(ApiError::PreconditionRequired);
        }
        let raw = self.headers.get(IF_MATCH).and_then(|v| v.to_str().ok()).unwrap_or("");
        etag_version(raw).ok_or_else(|| ApiError::field("If-Match", "must be the ETag you read, such as \"3\""))
    }

    /// Whether the request names a version: an `If-Match` that is not empty.
    pub fn sends_if_match(&self) -> bool {
        self.headers.get(IF_MATCH).is_some_and(|v| !v.is_empty())
    }

    /// The condition of a whole replacement of something that may not exist yet (`current` is its
    /// version): the first time without `If-Match`, afterwards on the version read (428 without it, 412
    /// for another one).
    pub fn replace_cond(&self, current: Option<u64>) -> Result<crate::store::Cond, ApiError> {
        let named = self.sends_if_match().then(|| self.if_match()).transpose()?;
        match (current, named) {
            (None, None) => Ok(crate::store::Cond::NotExists),
            (None, Some(_)) => Err(ApiError::PreconditionFailed),
            (Some(_), None) => Err(ApiError::PreconditionRequired),
            (Some(stored), Some(version)) => {
                at_version(version, stored)?;
                Ok(crate::store::Cond::VersionIs(version))
            }
        }
    }

    /// The query string's parameters, refusing unknown and repeated ones.
    pub fn params(&self, allowed: &[&str]) -> Result<Params, ApiError> {
        let mut map = HashMap::new();
        let mut errors = Vec::new();
        for (k, v) in form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes()) {
            if !allowed.contains(&k.as_ref()) {
                errors.push(crate::domain::fields::FieldError::shape(k.to_string(), "is not a known query parameter"));
            } else if map.insert(k.to_string(), v.to_string()).is_some() {
                errors.push(crate::domain::fields::FieldError::shape(k.to_string(), "must be given once"));
            }
        }
        if errors.is_empty() { Ok(Params(map)) } else { Err(ApiError::Invalid { errors }) }
    }
}

/// That the version `If-Match` named (`expected`) is the one stored (`current`), else 412. A change reads
/// `If-Match` once its body is read, and compares it once the body is checked against what is stored, so
/// what is wrong with a request is said before what changed since.
pub fn at_version(expected: u64, current: u64) -> Result<(), ApiError> {
    if expected == current { Ok(()) } else { Err(ApiError::PreconditionFailed) }
}

/// The version an ETag Vellum sent names: a number of 1 to 19 digits in quotes, weak or strong (the
/// OpenAPI document's `ETAG_PATTERN`).
pub fn etag_version(raw: &str) -> Option<u64> {
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|v| (1..=19).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
}

/// Reads a JSON value with `read`, turning collected field errors into one error.
pub fn read_form<T>(body: &Value, ctx: Context, read: impl FnOnce(&Form<'_>) -> Option<T>) -> Result<T, ApiError> {
    let errors = Errors::default();
    let value = Form::root(body, &errors, ctx).and_then(|form| read(&form));
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => {
            let mut errors = errors.into_vec();
            if errors.is_empty() {
                errors.push(crate::domain::fields::FieldError::shape("", "the body is not acceptable"));
            }
            Err(ApiError::Invalid { errors })
        }
    }
}

/// Checked query parameters.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter parsed as `T`.
    pub fn parsed<T: ParseStr>(&self, name: &str, ctx: &Context) -> Result<Option<T>, ApiError> {
        self.get(name).map(|raw| T::parse_str(raw, ctx).map_err(|m| ApiError::field(name, m))).transpose()
    }

    /// `limit`: 1 to 100, 25 by default.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(25),
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(ApiError::field("limit", "must be a whole number from 1 to 100")),
            },
        }
    }
}
