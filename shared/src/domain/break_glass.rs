//! Break-glass access: a clinician's stated reason to open, for a short while, one part of a patient's
//! record that their role (or a photo's consent) would not show them; every read under it carries the
//! reason, and an administrator reviews each one.

use serde::{Deserialize, Serialize};

use super::chart::{Actor, ChartKind};
use super::fields::{Form, Issue, ParseStr};
use super::keys;
use super::role::Role;
use super::values::{EntityId, ShortText};
use crate::store::schema::TTL;
use crate::store::{Item, Key, entity_item};

/// How long break-glass lasts when the request does not say.
pub const DEFAULT_MINUTES: u32 = 60;
/// The longest it may last.
pub const MAX_MINUTES: u32 = 240;

/// The roles that may break glass: those who stand between a patient and harm, and administrators.
/// Front desk and billing never may.
pub const BREAKERS: &[Role] = &[Role::Admin, Role::Practitioner, Role::Nurse];

/// What break-glass opens: the reads of one kind of chart entry, or the patient's photos (their lists and
/// views, and views for internal education whatever the consent; never for marketing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Chart(ChartKind),
    Photos,
}

impl Scope {
    const PHOTOS: &str = "photos";

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Chart(kind) => kind.as_str(),
            Scope::Photos => Self::PHOTOS,
        }
    }

    /// Every scope, for the API's documentation.
    pub fn all() -> Vec<Scope> {
        ChartKind::ALL.iter().map(|k| Scope::Chart(*k)).chain([Scope::Photos]).collect()
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ParseStr for Scope {
    fn parse_str(s: &str, ctx: &super::fields::Context) -> Result<Self, String> {
        if s == Self::PHOTOS {
            return Ok(Scope::Photos);
        }
        ChartKind::parse_str(s, ctx).map(Scope::Chart).map_err(|_| {
            let names: Vec<&str> = Scope::all().into_iter().map(Scope::as_str).collect();
            format!("must be one of: {}", names.join(", "))
        })
    }

    fn schema() -> serde_json::Value {
        super::schema::one_of(Scope::all())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse_str(&text, &super::fields::Context::timeless()).map_err(serde::de::Error::custom)
    }
}

/// What a request to break glass asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub reason: ShortText,
    pub scope: Scope,
    pub minutes: u32,
}

impl Request {
    /// Reads `{"reason", "scope", "minutes"?}`: a missing reason is a broken rule (422), like an empty one.
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["reason", "scope", "minutes"]);
        if !form.given("reason") {
            form.reject("reason", Issue::Rule("is required: say why you need to see this".into()));
        }
        let reason = form.opt("reason");
        let scope = form.req("scope");
        let minutes = if form.given("minutes") {
            form.number("minutes", true, 1.0, f64::from(MAX_MINUTES), "minutes").and_then(|m| {
                if m.fract() != 0.0 {
                    form.reject("minutes", Issue::Rule("must be a whole number of minutes".into()));
                    return None;
                }
                Some(m as u32)
            })
        } else {
            Some(DEFAULT_MINUTES)
        };
        Some(Self { reason: reason?, scope: scope?, minutes: minutes? })
    }
}

/// An administrator's review of one break-glass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub by: Actor,
    pub at: String,
    pub note: ShortText,
}

/// One break-glass: who opened what of which patient, why, and until when; and its review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakGlass {
    pub id: EntityId,
    pub patient_id: EntityId,
    pub scope: Scope,
    pub reason: ShortText,
    pub opened_by: Actor,
    pub opened_at: String,
    pub expires_at: String,
    pub review: Option<Review>,
}

/// Where a break-glass stands in the review queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    Unreviewed,
    Reviewed,
}

impl BreakGlass {
    /// The grant the pipeline looks up, in the patient's partition under the user who opened it; it
    /// expires from the table a day after it ends (the queue keeps the record).
    pub fn grant_item(&self, clinic: EntityId, expires_epoch: i64) -> Item {
        let key =
            Key::new(keys::chart_pk(clinic, self.patient_id), keys::break_glass_sk(&self.opened_by.user_id, self.id));
        let mut item = entity_item(&key, self);
        item.insert(TTL.into(), (expires_epoch + 24 * 3600).into());
        item
    }

    /// Its entry in the clinic's review queue.
    pub fn queue_key(clinic: EntityId, queue: Queue, id: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), keys::break_glass_queue_sk(queue == Queue::Reviewed, Some(id)))
    }

    pub fn queue_item(&self, clinic: EntityId) -> Item {
        let queue = if self.review.is_some() { Queue::Reviewed } else { Queue::Unreviewed };
        entity_item(&Self::queue_key(clinic, queue, self.id), self)
    }

    /// Whether it opens `scope` at `now` (a sortable time).
    pub fn opens(&self, scope: Scope, now: &str) -> bool {
        self.scope == scope && now < self.expires_at.as_str()
    }

    /// What an access event under it records.
    pub fn mark(&self) -> Mark {
        Mark { id: self.id, scope: self.scope, reason: self.reason.clone() }
    }
}

/// The break-glass an access event was made under: its id, scope and reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub id: EntityId,
    pub scope: Scope,
    pub reason: ShortText,
}
