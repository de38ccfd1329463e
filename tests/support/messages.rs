//! Test support for messages: the delivery port of each backend (files in a folder, or SES and SNS on
//! moto) wrapped so a test sees every message handed to it and what the provider answered.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use vellum::messages::aws::AwsMessenger;
use vellum::messages::local::LocalOutbox;
use vellum::messages::{Accepted, Messenger, Outgoing, SendError};

use crate::{Backend, moto_config};

/// The sender every moto test sends from (its domain is verified in SES first).
pub const MOTO_SENDER: &str = "messages@vellum.test";

/// A delivery port that remembers what passed through it.
pub struct RecordingMessenger {
    inner: Arc<dyn Messenger>,
    pub sent: Mutex<Vec<(Outgoing, Result<Accepted, SendError>)>>,
    _dir: Option<tempfile::TempDir>,
}

impl RecordingMessenger {
    pub fn wrapping(inner: Arc<dyn Messenger>) -> Self {
        Self { inner, sent: Mutex::new(Vec::new()), _dir: None }
    }

    /// The backend's own port: a local outbox folder, or SES and SNS on moto.
    pub async fn of(backend: Backend) -> Self {
        match backend {
            Backend::Embedded => {
                let dir = tempfile::tempdir().expect("temp dir");
                let outbox = LocalOutbox::new(dir.path().join("outbox")).expect("outbox folder");
                Self { _dir: Some(dir), ..Self::wrapping(Arc::new(outbox)) }
            }
            Backend::Aws => {
                let config = moto_config().await;
                aws_sdk_sesv2::Client::new(&config)
                    .create_email_identity()
                    .email_identity("vellum.test")
                    .send()
                    .await
                    .expect("moto verifies the sender's domain");
                Self::wrapping(Arc::new(AwsMessenger::new(&config, MOTO_SENDER, None)))
            }
        }
    }

    /// The messages the provider took, oldest first.
    pub fn accepted(&self) -> Vec<Outgoing> {
        let sent = self.sent.lock().expect("sent");
        sent.iter().filter(|(_, answer)| answer.is_ok()).map(|(message, _)| message.clone()).collect()
    }
}

#[async_trait]
impl Messenger for RecordingMessenger {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let answer = self.inner.send(message).await;
        self.sent.lock().expect("sent").push((message.clone(), answer.clone()));
        answer
    }
}
