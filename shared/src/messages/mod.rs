//! Messages to patients: the delivery port (e-mail and text), its adapters, the templates, the outbox
//! that sends each queued message once, and the reminders that queue messages before appointments.

pub mod aws;
pub mod dispatch;
pub mod local;
pub mod outbox;
pub mod reminders;
pub mod templates;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

crate::string_enum! {
    /// How a message reaches its recipient.
    Channel {
        Email = "email",
        Sms = "sms",
    }
}

/// One message, rendered, ready to leave. Holds no clinical detail: a first name, the clinic, a time and
/// a link at most (see `templates`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    /// The outbox message it delivers (providers may log it; it names nothing).
    pub id: String,
    pub channel: Channel,
    /// An e-mail address or an E.164 phone number.
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// What a provider said when it took the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub provider_id: String,
}

/// Why a message did not leave.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// The provider refused this message (a bad address, an unverified sender, an opted-out number):
    /// sending it again would not help.
    #[error("refused: {0}")]
    Refused(String),
    /// The provider could not be reached or asked us to slow down: worth another try later.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// The delivery port: hands one message to whoever carries it. It does not retry or remember: the outbox
/// decides whether a message is sent, once.
#[async_trait]
pub trait Messenger: Send + Sync {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError>;
}
