//! The OpenAPI schemas of what each route answers when it succeeds: the JSON bodies, named under
//! `components.schemas` beside the request bodies, and whether the answer names a version (`ETag`).

mod administration;
mod chart;
mod erasure;
mod exports;
mod forms;
mod photos;
mod scheduling;

use serde_json::{Map, Value, json};

pub(super) use super::chart_schemas::described;
pub(super) use super::openapi::{of, price, request_schema, template_id, text};
use crate::domain::role::Role;
use crate::domain::schema::one_of;
use crate::domain::values::UserId;

/// What a route answers when it succeeds with JSON.
pub struct Answer {
    /// The route's name in the route table.
    pub route: &'static str,
    /// The body's schema (usually a `$ref` to a component, or a page of them).
    pub body: Value,
    /// Whether the answer carries an `ETag` naming the version of what it shows.
    pub etag: bool,
}

/// The answer of `route`: a body described by `body`, without an `ETag`.
pub(super) fn answer(route: &'static str, body: Value) -> Answer {
    Answer { route, body, etag: false }
}

impl Answer {
    /// The answer carries an `ETag` with the version of what it shows.
    pub(super) fn versioned(mut self) -> Self {
        self.etag = true;
        self
    }
}

/// A reference to the component schema `name`.
pub(super) fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// One page of a list: its items, and the cursor of the next page (`null` on the last).
pub(super) fn page(item: Value) -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["items", "nextCursor"],
        "properties": {
            "items": {"type": "array", "items": item},
            "nextCursor": {"anyOf": [{"type": "string"}, {"type": "null"}],
                           "description": "Pass as cursor for the next page; null on the last"},
        },
    })
}

/// `schema`, or `null`.
pub(super) fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// Who did something, as their token and membership said at the time.
pub(super) fn actor() -> Value {
    object(&["userId", "role"], json!({"userId": of::<UserId>(), "role": one_of(Role::ALL)}))
}

/// A version number: the first is 1.
pub(super) fn version() -> Value {
    json!({"type": "integer", "minimum": 1})
}

/// A time the server set, RFC 3339.
pub(super) fn instant() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// An object of exactly these properties, the `required` ones always present.
pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

/// A request body's schema grown into what the server shows of it: `properties` added (the `required`
/// ones always present), any rule tying the body's fields together kept.
pub(super) fn stored(request: &str, required: &[&str], properties: Value) -> Value {
    let Value::Object(mut schema) = request_schema(request) else { unreachable!("{request} is an object's schema") };
    if let (Some(Value::Object(own)), Value::Object(added)) = (schema.get_mut("properties"), properties) {
        own.extend(added);
    }
    if let Value::Array(own) = schema.entry("required").or_insert_with(|| json!([])) {
        own.extend(required.iter().map(|r| json!(r)));
    }
    schema.remove("description");
    Value::Object(schema)
}

/// An object's `schema` with the properties of `more` added, each always present.
pub(super) fn with_required(mut schema: Value, more: Value) -> Value {
    let Value::Object(more) = more else { return schema };
    for (name, property) in more {
        if let Value::Array(required) = &mut schema["required"] {
            required.push(json!(name));
        }
        schema["properties"][&name] = property;
    }
    schema
}

/// The success bodies' schemas, by name (none shares a request body's name).
pub(super) fn schemas() -> Map<String, Value> {
    let mut all = Map::new();
    for (name, schema) in administration::schemas()
        .into_iter()
        .chain(chart::schemas())
        .chain(erasure::schemas())
        .chain(exports::schemas())
        .chain(forms::schemas())
        .chain(photos::schemas())
        .chain(scheduling::schemas())
    {
        assert!(all.insert(name.to_string(), schema).is_none(), "two answers' schemas are named {name}");
    }
    all
}

/// Every route's JSON answer.
pub fn answers() -> Vec<Answer> {
    let mut all = administration::answers();
    all.extend(chart::answers());
    all.extend(erasure::answers());
    all.extend(exports::answers());
    all.extend(forms::answers());
    all.extend(photos::answers());
    all.extend(scheduling::answers());
    all
}
