//! Access events: the CloudTrail-style record of every call, stored once and never changed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::keys;
use super::role::Role;
use super::values::{EntityId, UserId};
use crate::store::schema::{self, Index};
use crate::store::{Cond, Item, Table, Write};

crate::string_enum! {
    /// How a call ended.
    Outcome { Success = "success", Denied = "denied", Error = "error" }
}

/// Who made the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub user_id: UserId,
    pub role: Role,
}

/// A thing the call touched, by type and id (never by value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Resource {
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self { kind: kind.to_string(), id: id.to_string() }
    }
}

/// One access event, in the shape the design gives. Ids only: no names, no clinical values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEvent {
    pub event_id: EntityId,
    pub event_time: String,
    pub event_name: String,
    pub event_source: String,
    pub clinic_id: Option<EntityId>,
    pub user_identity: UserIdentity,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    pub resources: Vec<Resource>,
    pub patient_id: Option<EntityId>,
    /// Every patient the answer showed, when it showed several: each has a copy in their access log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed_patients: Vec<EntityId>,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    pub reason: Option<String>,
    /// The break-glass the call was made under, with its stated reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub break_glass: Vec<super::break_glass::Mark>,
}

impl AccessEvent {
    /// An event of one of Vellum's own functions (`source`, acting as the `system` role), as it happened
    /// at `time` (a sortable time): a success about nothing yet, to be filled in.
    pub fn by_system(source: &str, name: &str, clinic: Option<EntityId>, time: String) -> Self {
        let ctx = super::fields::Context::timeless();
        let user_id = <UserId as super::fields::ParseStr>::parse_str(source, &ctx)
            .unwrap_or_else(|_| unreachable!("a function's name is a valid user id"));
        Self {
            event_id: EntityId(ulid::Ulid::new()),
            event_time: time,
            event_name: name.to_string(),
            event_source: source.to_string(),
            clinic_id: clinic,
            user_identity: UserIdentity { user_id, role: Role::System },
            source_ip_address: None,
            user_agent: None,
            request_id: String::new(),
            resources: Vec::new(),
            patient_id: None,
            listed_patients: Vec::new(),
            outcome: Outcome::Success,
            error_code: None,
            reason: None,
            break_glass: Vec::new(),
        }
    }

    fn sort_key(&self) -> String {
        format!("{}#{}", self.event_time, self.event_id)
    }

    /// The stored item, with its keys and index keys.
    pub fn to_item(&self) -> Item {
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Item::new(),
        };
        let sk = self.sort_key();
        item.insert(schema::PK.into(), keys::audit_pk(self.clinic_id).into());
        item.insert(schema::SK.into(), sk.clone().into());
        if let (Some(clinic), Some(patient)) = (self.clinic_id, self.patient_id) {
            let (pk_attr, sk_attr) = Index::Gsi1.attrs();
            item.insert(pk_attr.into(), keys::audit_patient_index(clinic, patient).into());
            item.insert(sk_attr.into(), sk.clone().into());
        }
        let (pk_attr, sk_attr) = Index::Gsi2.attrs();
        item.insert(pk_attr.into(), keys::audit_actor_index(self.clinic_id, &self.user_identity.user_id).into());
        item.insert(sk_attr.into(), sk.into());
        item
    }

    /// The write that records this event: a put that can never replace another event.
    pub fn to_write(&self) -> Write {
        Write::put(Table::Audit, self.to_item(), Cond::NotExists)
    }

    /// The event's write and, when it listed several patients, a copy in each listed patient's access log
    /// (the patient index only: kept out of the clinic's trail and the actor index, which show the event
    /// once).
    pub fn to_writes(&self) -> Vec<Write> {
        let mut writes = vec![self.to_write()];
        let Some(clinic) = self.clinic_id else { return writes };
        let sk = self.sort_key();
        for patient in self.listed_patients.iter().filter(|p| Some(**p) != self.patient_id) {
            let copy = AccessEvent { patient_id: Some(*patient), listed_patients: Vec::new(), ..self.clone() };
            let mut item = copy.to_item();
            item.insert(schema::PK.into(), keys::audit_listed_pk(clinic, *patient).into());
            item.insert(schema::SK.into(), sk.clone().into());
            let (actor_pk, actor_sk) = Index::Gsi2.attrs();
            item.remove(actor_pk);
            item.remove(actor_sk);
            writes.push(Write::put(Table::Audit, item, Cond::NotExists));
        }
        writes
    }

    /// Reads an event back from its stored item.
    pub fn from_item(item: &Item) -> Option<Self> {
        serde_json::from_value(Value::Object(item.clone())).ok()
    }
}
