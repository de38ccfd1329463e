//! A room or device that services need (e.g. "laser room", "CO2 laser"), booked like a person.

use serde::{Deserialize, Serialize};

use super::{CatalogueStatus, Catalogued, Kind};
use crate::domain::fields::Form;
use crate::domain::keys;
use crate::domain::values::ShortText;

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
pub type Resource = Catalogued<ResourceDetails>;

impl Kind for ResourceDetails {
    const PREFIX: &'static str = keys::RESOURCE_PREFIX;
}
