//! The outbox: a message to send is an item in the clinic's partition (`OUTBOX#<time>#<id>`), written in
//! the same transaction as whatever asked for it, so nothing is promised that is not queued. While queued it
//! sits in the index of due work (`DUE`, see `dispatch`); the dispatcher claims it (queued → sending, on
//! its version) before handing it to the delivery port, so two dispatchers never send it twice. A message
//! whose sender stopped between claim and answer stays `sending`: it is never sent again by itself (a
//! patient would rather miss a reminder than get two links that look alike), and staff see it so.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::templates::{Language, Template, Values, render};
use super::{Channel, Messenger, Outgoing, SendError};
use crate::app::App;
use crate::domain::audit::{AccessEvent, Outcome as AuditOutcome, Resource};
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::ids::sortable_time;
use crate::store::schema::{Index, TTL};
use crate::store::{Cond, Item, Key, StoreError, Table, Write, entity_from, entity_item};

crate::string_enum! {
    /// Where a message stands (`cancelled`: withdrawn before it left, as when its invitation is revoked).
    MessageStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

/// How many times a message is tried when its provider is unavailable.
pub const MAX_ATTEMPTS: u32 = 4;

/// The partition of the index of due work: every queued message and pending reminder of every clinic, by
/// when it is due. One partition takes a thousand writes a second, far above the messages of the clinics
/// one deployment serves; the dispatcher reads it in one query a run.
pub const DUE_PARTITION: &str = "DUE";

/// The index of due work's attributes for an item due at `due`.
pub fn due_attrs(item: &mut Item, due: DateTime<Utc>, key: &Key) {
    let (pk, sk) = Index::Gsi1.attrs();
    item.insert(pk.into(), DUE_PARTITION.into());
    item.insert(sk.into(), format!("{}#{}#{}", sortable_time(due), key.pk, key.sk).into());
}

/// A message as kept in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The link, sealed to the message's key: the table, its stream and its backups never hold a working
    /// link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_link: Option<String>,
    pub status: MessageStatus,
    pub attempts: u32,
    /// When it was queued (a sortable time); part of its key.
    pub queued_at: String,
    pub due: DateTime<Utc>,
    /// When the item goes (the link's expiry, or a month after it was due).
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub version: u64,
}

/// The sort-key prefix of outbox messages in a clinic's partition.
pub const PREFIX: &str = "OUTBOX#";

/// How long a sent or failed message is kept as the record that it went.
const KEPT_FOR_DAYS: i64 = 30;

/// Who a message is for and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Unique in the clinic: the invitation's id, or the appointment's id and the reminder's hour.
    pub id: String,
    pub clinic_id: EntityId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<EntityId>,
    pub channel: Channel,
    pub to: String,
    pub template: Template,
    pub language: Language,
    pub values: Values,
}

/// What to queue, before its link is sealed into an item.
pub struct Draft {
    pub envelope: Envelope,
    pub link: Option<String>,
    /// When it was asked for: the key's time (a retried request gives the same one).
    pub queued_at: String,
    pub due: DateTime<Utc>,
    /// When the item goes, if sooner than a month after it is due (a link's expiry).
    pub expires_at: Option<i64>,
}

impl QueuedMessage {
    pub fn key_of(clinic: EntityId, queued_at: &str, id: &str) -> Key {
        Key::new(keys::clinic_pk(clinic), format!("{PREFIX}{queued_at}#{id}"))
    }

    pub fn key(&self) -> Key {
        Self::key_of(self.envelope.clinic_id, &self.queued_at, &self.envelope.id)
    }

    /// A queued message from `draft`, its link sealed with `secrets`.
    pub fn queue(draft: Draft, secrets: &crate::crypto::SecretKey) -> Self {
        let key = Self::key_of(draft.envelope.clinic_id, &draft.queued_at, &draft.envelope.id);
        let sealed_link =
            draft.link.as_ref().map(|link| crate::crypto::seal_text(secrets, key.sk.as_bytes(), link.as_bytes()));
        Self::sealed(draft, sealed_link)
    }

    /// A queued notice to the clinic's staff: a message without a link, due at once.
    pub fn notice(envelope: Envelope, now: DateTime<Utc>) -> Self {
        let draft = Draft { envelope, link: None, queued_at: sortable_time(now), due: now, expires_at: None };
        Self::sealed(draft, None)
    }

    fn sealed(draft: Draft, sealed_link: Option<String>) -> Self {
        let kept = (draft.due + Duration::days(KEPT_FOR_DAYS)).timestamp();
        Self {
            envelope: draft.envelope,
            sealed_link,
            status: MessageStatus::Queued,
            attempts: 0,
            queued_at: draft.queued_at,
            due: draft.due,
            expires_at: draft.expires_at.map_or(kept, |e| e.min(kept)),
            sent_at: None,
            provider_id: None,
            error: None,
            version: 1,
        }
    }

    /// The stored item: in the index of due work while queued.
    pub fn to_item(&self) -> Item {
        let key = self.key();
        let mut item = entity_item(&key, self);
        item.insert(TTL.into(), json!(self.expires_at));
        if self.status == MessageStatus::Queued {
            due_attrs(&mut item, self.due, &key);
        }
        item
    }

    /// The write that queues it (never over another message).
    pub fn queue_write(&self) -> Write {
        Write::put(Table::Records, self.to_item(), Cond::NotExists)
    }

    /// What staff see of it: where it stands, never the address or the link.
    pub fn staff_view(&self) -> serde_json::Value {
        json!({"channel": self.envelope.channel, "status": self.status, "attempts": self.attempts,
               "due": sortable_time(self.due), "sentAt": self.sent_at, "error": self.error})
    }
}

/// The write that withdraws the message at `key` if it has not left yet (nothing otherwise).
pub async fn withdraw(records: &dyn crate::store::Records, key: &Key) -> Result<Option<Write>, StoreError> {
    let Some(item) = records.get(Table::Records, key).await? else { return Ok(None) };
    let queued: QueuedMessage = entity_from(item)?;
    if queued.status != MessageStatus::Queued {
        return Ok(None);
    }
    let withdrawn = QueuedMessage { status: MessageStatus::Cancelled, version: queued.version + 1, ..queued.clone() };
    Ok(Some(Write::put(Table::Records, withdrawn.to_item(), Cond::VersionIs(queued.version))))
}

/// What became of one due message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    Failed,
    /// Its provider was unavailable: it is due again later.
    Retrying,
    /// Not due, already claimed, or gone.
    Skipped,
}

/// The identity of the dispatcher in the audit trail.
pub const SENDER: &str = "messages-dispatch";

/// When a message whose provider was unavailable is tried again: 1, 5, then 15 minutes later.
fn backoff(attempts: u32) -> Duration {
    match attempts {
        0 | 1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        _ => Duration::minutes(15),
    }
}

/// Sends the message at `key` if it is queued and due: claims it, renders it, hands it to `messenger`, and
/// records the outcome with an audit event (the address is read to send: a patient-record access).
pub async fn deliver(
    app: &App,
    messenger: &dyn Messenger,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    let keys = app.job_keys()?;
    let Some(item) = app.records.get(Table::Records, key).await? else { return Ok(Delivery::Skipped) };
    let queued: QueuedMessage = entity_from(item)?;
    if queued.status != MessageStatus::Queued || queued.due > now {
        return Ok(Delivery::Skipped);
    }
    let claimed = QueuedMessage {
        status: MessageStatus::Sending,
        attempts: queued.attempts + 1,
        version: queued.version + 1,
        ..queued.clone()
    };
    match app
        .records
        .transact(vec![Write::put(Table::Records, claimed.to_item(), Cond::VersionIs(queued.version))])
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(Delivery::Skipped),
        Err(e) => return Err(e),
    }
    let link = match &claimed.sealed_link {
        Some(sealed) => match crate::crypto::open_text(&keys.stored_secrets, key.sk.as_bytes(), sealed) {
            Some(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            None => {
                return finish(app, claimed, Err(SendError::Refused("its link cannot be unsealed".into())), now).await;
            }
        },
        None => None,
    };
    let envelope = &claimed.envelope;
    let (subject, text) =
        render(envelope.template, envelope.language, envelope.channel, &envelope.values, link.as_deref());
    let outgoing = Outgoing {
        id: format!("{}-{}", envelope.clinic_id, envelope.id),
        channel: envelope.channel,
        to: envelope.to.clone(),
        subject,
        text,
    };
    let answer = messenger.send(&outgoing).await;
    finish(app, claimed, answer, now).await
}

/// Records what the provider answered for a claimed message, with its audit event.
async fn finish(
    app: &App,
    claimed: QueuedMessage,
    answer: Result<super::Accepted, SendError>,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    let envelope = &claimed.envelope;
    let mut event = AccessEvent::by_system(SENDER, "messages.send", Some(envelope.clinic_id), sortable_time(now));
    event.patient_id = envelope.patient_id;
    event.resources = vec![Resource::new("message", &envelope.id), Resource::new("channel", envelope.channel)];
    if envelope.channel == super::Channel::Sms {
        // Its price depends on where the number is (never the number itself).
        event.resources.push(Resource::new("region", crate::metering::text_region(&envelope.to)));
    }
    let (next, delivery) = match answer {
        Ok(accepted) => (
            QueuedMessage {
                status: MessageStatus::Sent,
                sent_at: Some(sortable_time(now)),
                provider_id: Some(accepted.provider_id),
                error: None,
                ..claimed.clone()
            },
            Delivery::Sent,
        ),
        Err(SendError::Unavailable(detail)) if claimed.attempts < MAX_ATTEMPTS => (
            QueuedMessage {
                status: MessageStatus::Queued,
                due: now + backoff(claimed.attempts),
                error: Some(detail),
                ..claimed.clone()
            },
            Delivery::Retrying,
        ),
        Err(e) => (
            QueuedMessage { status: MessageStatus::Failed, error: Some(e.to_string()), ..claimed.clone() },
            Delivery::Failed,
        ),
    };
    if delivery != Delivery::Sent {
        event.outcome = AuditOutcome::Error;
        event.error_code = Some(if delivery == Delivery::Retrying { "Unavailable" } else { "NotSent" }.into());
    }
    let next = QueuedMessage { version: claimed.version + 1, ..next };
    let writes = vec![Write::put(Table::Records, next.to_item(), Cond::VersionIs(claimed.version)), event.to_write()];
    app.records.transact(writes).await?;
    tracing::info!(message_id = %envelope.id, clinic_id = %envelope.clinic_id, status = %next.status, "message delivery");
    Ok(delivery)
}
