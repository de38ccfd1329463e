//! Reads a JSON request body field by field, collecting every field-level error at once.

use std::cell::RefCell;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Whether a field is malformed (wrong JSON shape), well-formed but breaks a rule, or names something
/// that is not there or cannot serve (which the request alone could not tell).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IssueKind {
    Shape,
    Rule,
    /// Names what the clinic does not have.
    Unknown,
    /// Names what the clinic has, in a state that cannot serve.
    Unsuitable,
}

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(skip)]
    pub kind: IssueKind,
}

impl FieldError {
    pub fn shape(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), kind: IssueKind::Shape }
    }
    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), kind: IssueKind::Rule }
    }
    pub fn unknown(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), kind: IssueKind::Unknown }
    }
    pub fn unsuitable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), kind: IssueKind::Unsuitable }
    }
}

/// Why a single value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issue {
    Shape(String),
    Rule(String),
}

/// A type that parses itself from a JSON value.
pub trait FromJson: Sized {
    fn from_json(value: &Value, ctx: &Context) -> Result<Self, Issue>;
}

/// Facts some rules need (e.g. today's date for "not in the future").
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

impl Context {
    /// The context as of `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { today: now.date_naive(), now }
    }

    /// The context as of the system clock.
    pub fn now() -> Self {
        Self::at(Utc::now())
    }

    /// A context for parsing values whose rules do not depend on the time (ids, names).
    pub fn timeless() -> Self {
        Self::at(DateTime::<Utc>::MIN_UTC)
    }
}

/// A type parsed from a JSON string, which states what it accepts as a JSON Schema (for the OpenAPI
/// document; a test holds the two together).
pub trait ParseStr: Sized {
    fn parse_str(s: &str, ctx: &Context) -> Result<Self, String>;
    fn schema() -> Value;
}

impl<T: ParseStr> FromJson for T {
    fn from_json(value: &Value, ctx: &Context) -> Result<Self, Issue> {
        match value {
            Value::String(s) => T::parse_str(s, ctx).map_err(Issue::Rule),
            _ => Err(Issue::Shape("must be a string".into())),
        }
    }
}

impl FromJson for f64 {
    fn from_json(value: &Value, _: &Context) -> Result<Self, Issue> {
        value.as_f64().filter(|n| n.is_finite()).ok_or_else(|| Issue::Shape("must be a number".into()))
    }
}

impl FromJson for bool {
    fn from_json(value: &Value, _: &Context) -> Result<Self, Issue> {
        value.as_bool().ok_or_else(|| Issue::Shape("must be true or false".into()))
    }
}

/// Accumulated field errors.
#[derive(Debug, Default)]
pub struct Errors(RefCell<Vec<FieldError>>);

impl Errors {
    pub fn push(&self, e: FieldError) {
        self.0.borrow_mut().push(e);
    }
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0.into_inner()
    }
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

/// One JSON object being read, with the path that names its fields in errors.
pub struct Form<'a> {
    map: &'a Map<String, Value>,
    path: String,
    errors: &'a Errors,
    pub ctx: Context,
}

impl<'a> Form<'a> {
    /// Starts reading a whole body; `None` (with an error) if it is not an object.
    pub fn root(value: &'a Value, errors: &'a Errors, ctx: Context) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self { map, path: String::new(), errors, ctx }),
            _ => {
                errors.push(FieldError::shape("", "the body must be a JSON object"));
                None
            }
        }
    }

    fn name(&self, field: &str) -> String {
        if self.path.is_empty() { field.to_string() } else { format!("{}.{field}", self.path) }
    }

    fn record(&self, field: &str, issue: Issue) {
        let name = self.name(field);
        self.errors.push(match issue {
            Issue::Shape(m) => FieldError::shape(name, m),
            Issue::Rule(m) => FieldError::rule(name, m),
        });
    }

    /// Records an error against a field of this object.
    pub fn reject(&self, field: &str, issue: Issue) {
        self.record(field, issue);
    }

    /// Reports any field not in `allowed`.
    pub fn only(&self, allowed: &[&str]) {
        for key in self.map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.record(key, Issue::Shape("is not a known field".into()));
            }
        }
    }

    /// Whether the field is present (even as `null`).
    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// Whether the field is given: present and not `null` (which, in a body, means absent).
    pub fn given(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(|v| !v.is_null())
    }

    /// A field that must be present and valid.
    pub fn req<T: FromJson>(&self, field: &str) -> Option<T> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                self.record(field, Issue::Shape("is required".into()));
                None
            }
            Some(v) => self.parse(field, v),
        }
    }

    /// A field that may be absent or `null`; `None` also when invalid (with an error recorded).
    pub fn opt<T: FromJson>(&self, field: &str) -> Option<T> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => self.parse(field, v),
        }
    }

    fn parse<T: FromJson>(&self, field: &str, v: &Value) -> Option<T> {
        T::from_json(v, &self.ctx).map_err(|issue| self.record(field, issue)).ok()
    }

    /// A nested object read by `read`; `required` says whether absence is an error.
    pub fn object<T>(&self, field: &str, required: bool, read: impl FnOnce(&Form<'_>) -> Option<T>) -> Option<T> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.record(field, Issue::Shape("is required".into()));
                }
                None
            }
            Some(Value::Object(map)) => {
                let nested = Form { map, path: self.name(field), errors: self.errors, ctx: self.ctx };
                read(&nested)
            }
            Some(_) => {
                self.record(field, Issue::Shape("must be an object".into()));
                None
            }
        }
    }

    /// A number that must lie within `min..=max` (in `unit`, named in the message).
    pub fn number(&self, field: &str, required: bool, min: f64, max: f64, unit: &str) -> Option<f64> {
        let value: f64 = if required { self.req(field)? } else { self.opt(field)? };
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.record(field, Issue::Rule(format!("must be from {min} to {max} {unit}").trim_end().to_string()));
            None
        }
    }

    /// A list of objects, each read by `read`, between `min` and `max` long.
    pub fn objects<T>(
        &self,
        field: &str,
        min: usize,
        max: usize,
        read: impl Fn(&Form<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let values = match self.map.get(field) {
            None | Some(Value::Null) if min == 0 => return Some(Vec::new()),
            None | Some(Value::Null) => {
                self.record(field, Issue::Shape("is required".into()));
                return None;
            }
            Some(Value::Array(values)) => values,
            Some(_) => {
                self.record(field, Issue::Shape("must be a list".into()));
                return None;
            }
        };
        if values.len() < min || values.len() > max {
            self.record(field, Issue::Rule(format!("must hold between {min} and {max} entries")));
            return None;
        }
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let name = format!("{field}[{i}]");
            match v {
                Value::Object(map) => {
                    let nested = Form { map, path: self.name(&name), errors: self.errors, ctx: self.ctx };
                    out.extend(read(&nested));
                }
                _ => self.record(&name, Issue::Shape("must be an object".into())),
            }
        }
        (out.len() == values.len()).then_some(out)
    }

    /// A list of strings parsed as `T`, between `min` and `max` long.
    pub fn list<T: FromJson>(&self, field: &str, min: usize, max: usize) -> Option<Vec<T>> {
        match self.map.get(field) {
            None | Some(Value::Null) if min == 0 => Some(Vec::new()),
            None | Some(Value::Null) => {
                self.record(field, Issue::Shape("is required".into()));
                None
            }
            Some(Value::Array(values)) => {
                if values.len() < min || values.len() > max {
                    self.record(field, Issue::Rule(format!("must hold between {min} and {max} entries")));
                    return None;
                }
                let mut out = Vec::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    match T::from_json(v, &self.ctx) {
                        Ok(t) => out.push(t),
                        Err(issue) => self.record(&format!("{field}[{i}]"), issue),
                    }
                }
                (out.len() == values.len()).then_some(out)
            }
            Some(_) => {
                self.record(field, Issue::Shape("must be a list".into()));
                None
            }
        }
    }
}

/// RFC 7396 JSON merge patch: applies `patch` to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(changes) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                for (key, change) in changes {
                    if change.is_null() {
                        map.remove(key);
                    } else {
                        merge_patch(map.entry(key.clone()).or_insert(Value::Null), change);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_patch_replaces_removes_and_recurses() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        merge_patch(&mut doc, &json!({"a": 9, "b": {"c": null, "x": 1}, "e": null}));
        assert_eq!(doc, json!({"a": 9, "b": {"d": 3, "x": 1}}));
    }

    #[test]
    fn every_field_error_is_reported_at_once_with_its_path() {
        let body = json!({"flag": "yes", "nested": {"flag": 1}, "extra": true});
        let errors = Errors::default();
        let ctx = Context::at(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc());
        let form = Form::root(&body, &errors, ctx).unwrap();
        form.only(&["flag", "nested", "missing"]);
        let _: Option<bool> = form.req("flag");
        let _: Option<bool> = form.req("missing");
        form.object("nested", true, |n| n.req::<bool>("flag"));
        let fields: Vec<String> = errors.into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["extra", "flag", "missing", "nested.flag"]);
    }
}
