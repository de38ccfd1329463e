//! What a handler decides: a reply, the facts its audit event records, and for writes the writes to commit.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problem::ApiError;
use crate::domain::audit::Resource;
use crate::domain::break_glass::Mark;
use crate::domain::values::EntityId;
use crate::store::Write;

/// The successful response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// The version an `ETag` names.
    pub version: Option<u64>,
    pub location: Option<String>,
    /// A binary body (media type, bytes) instead of JSON: never stored for idempotent replays.
    #[serde(skip)]
    pub binary: Option<(String, Vec<u8>)>,
    /// Headers of its own (a page's security policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// Body fields that are credentials (a patient's link): sent with the body, but a stored copy of the
    /// reply (for idempotent retries) keeps them only sealed.
    #[serde(skip)]
    pub secrets: serde_json::Map<String, Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK.as_u16(),
            body,
            version: None,
            location: None,
            binary: None,
            headers: Vec::new(),
            secrets: serde_json::Map::new(),
        }
    }

    /// A JSON body sent as a JSON media type of its own (a FHIR answer): unlike a binary body, kept whole
    /// for an idempotent replay.
    pub fn json_as(media_type: &str, body: Value) -> Self {
        Self { headers: vec![("content-type".into(), media_type.into())], ..Self::ok(body) }
    }

    /// A binary body of the given media type.
    pub fn bytes(media_type: &str, bytes: Vec<u8>) -> Self {
        Self { binary: Some((media_type.to_string(), bytes)), ..Self::ok(serde_json::Value::Null) }
    }

    /// 201 for something made without an address of its own (its answer is all there is to read of it).
    pub fn made(body: Value) -> Self {
        Self { status: StatusCode::CREATED.as_u16(), ..Self::ok(body) }
    }

    /// 201 for something made at `location`, its own address in the API.
    pub fn created(body: Value, location: String) -> Self {
        Self { status: StatusCode::CREATED.as_u16(), location: Some(location), ..Self::ok(body) }
    }

    /// Adds a credential to the body (see `secrets`).
    pub fn with_secret(mut self, name: &str, value: Value) -> Self {
        self.secrets.insert(name.to_string(), value);
        self
    }

    /// The body as the caller receives it: with its secrets.
    pub fn full_body(&self) -> Value {
        let mut body = self.body.clone();
        if let Value::Object(map) = &mut body {
            map.extend(self.secrets.clone());
        }
        body
    }

    pub fn versioned(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }
}

/// What the access event of a call records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub resources: Vec<Resource>,
    pub patient: Option<EntityId>,
    /// The clinic the event belongs to when it is not the caller's (a clinic being opened).
    pub clinic: Option<EntityId>,
    /// Every patient an answer showed, when it showed several (a search, a lot recall): the event goes
    /// into each one's access log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed_patients: Vec<EntityId>,
    /// Break-glass the answer relied on (a chart section shown only under it, a photo's consent passed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub break_glass: Vec<Mark>,
}

impl Facts {
    pub fn resource(kind: &str, id: impl ToString) -> Self {
        Self { resources: vec![Resource::new(kind, id)], ..Self::default() }
    }

    pub fn patient(patient: EntityId) -> Self {
        Self { resources: vec![Resource::new("patient", patient)], patient: Some(patient), ..Self::default() }
    }

    /// The facts of an answer that lists patients: each (once) is a resource and has the event in their
    /// log.
    pub fn listing(mut patients: Vec<EntityId>) -> Self {
        let mut seen = std::collections::HashSet::new();
        patients.retain(|p| seen.insert(*p));
        Self {
            resources: patients.iter().map(|p| Resource::new("patient", p)).collect(),
            patient: match patients.as_slice() {
                [only] => Some(*only),
                _ => None,
            },
            listed_patients: patients,
            ..Self::default()
        }
    }

    pub fn none() -> Self {
        Self::default()
    }

    /// How many writes the event of these facts takes: itself, and a copy in each listed patient's access
    /// log when it lists several (see `AccessEvent::to_writes`).
    pub fn event_writes(&self) -> usize {
        1 + self.listed_patients.iter().filter(|p| Some(**p) != self.patient).count()
    }

    /// These facts, relying on break-glass too.
    pub fn under(mut self, marks: Vec<Mark>) -> Self {
        self.break_glass.extend(marks);
        self
    }

    /// These facts and one more resource.
    pub fn with(mut self, kind: &str, id: impl ToString) -> Self {
        self.resources.push(Resource::new(kind, id));
        self
    }
}

/// A write with the error to answer if its condition fails.
#[derive(Clone, Debug)]
pub struct Guarded {
    pub write: Write,
    pub on_fail: ApiError,
    /// A failed condition means only that the handler decided on reads a concurrent change overtook: it
    /// runs again on fresh reads (a few times), and answers `on_fail` only if that keeps happening.
    pub decide_again: bool,
}

impl Guarded {
    pub fn new(write: Write, on_fail: ApiError) -> Self {
        Self { write, on_fail, decide_again: false }
    }

    /// A write whose failed condition sends the request back to its handler (see `decide_again`).
    pub fn decided_on_reads(write: Write, on_fail: ApiError) -> Self {
        Self { write, on_fail, decide_again: true }
    }
}

/// A handler's decision.
#[derive(Debug)]
pub enum Outcome {
    /// Return data: the access event is written first, then the reply.
    Read(Reply, Facts),
    /// Change data: the writes, the access event (and any idempotency record) commit together.
    Write(Vec<Guarded>, Reply, Facts),
    /// As `Write`; once committed, the blobs named are deleted (best effort: the committed record no
    /// longer refers to them, and the bucket's lifecycle rules remove whatever a failure leaves).
    WriteThenDelete(Vec<Guarded>, Reply, Facts, Vec<String>),
}
