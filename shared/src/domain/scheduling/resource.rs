//! A room or device that services need (e.g. "laser room", "CO2 laser"), booked like a person.

use serde::{Deserialize, Serialize};

use super::CatalogueStatus;
use crate::domain::fields::Form;
use crate::domain::keys;
use crate::domain::values::{EntityId, ShortText};
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// What kind of thing a resource is.
    ResourceKind { Room = "room", Device = "device" }
}

/// What an administrator says of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDetails {
    pub name: ShortText,
    pub kind: ResourceKind,
    pub status: CatalogueStatus,
}

impl ResourceDetails {
    /// Reads `{"name", "kind", "status"?}` (active by default).
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "kind", "status"]);
        let name = form.req("name");
        let kind = form.req("kind");
        let status = form.opt("status").unwrap_or(CatalogueStatus::Active);
        Some(Self { name: name?, kind: kind?, status })
    }
}

/// A clinic's room or device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: EntityId,
    #[serde(flatten)]
    pub details: ResourceDetails,
    pub updated_at: String,
    pub version: u64,
}

impl Resource {
    pub fn key(clinic: EntityId, id: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{}{id}", keys::RESOURCE_PREFIX))
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic, self.id), self)
    }
}
