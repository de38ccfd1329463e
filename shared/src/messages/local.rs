//! The delivery port of the local server: each message becomes a file in the data directory's `outbox/`
//! (one JSON file per message: recipient, subject and text with its link), and a log line names the file.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{Accepted, Messenger, Outgoing, SendError};

/// Writes messages to a folder instead of sending them.
pub struct LocalOutbox {
    dir: PathBuf,
}

impl LocalOutbox {
    /// Messages go to `dir` (created when missing).
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Every message written so far, oldest first.
    pub fn messages(&self) -> std::io::Result<Vec<Outgoing>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path)?;
                serde_json::from_slice(&bytes).map_err(std::io::Error::other)
            })
            .collect()
    }
}

#[async_trait]
impl Messenger for LocalOutbox {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let name = format!("{}-{}.json", crate::ids::sortable_time(chrono::Utc::now()), message.id);
        let bytes = serde_json::to_vec_pretty(message).map_err(|e| SendError::Refused(e.to_string()))?;
        let path = self.dir.join(&name);
        tokio::fs::write(&path, bytes).await.map_err(|e| SendError::Unavailable(e.to_string()))?;
        // The file holds the address and the link; the log names only the file.
        tracing::info!(message_id = %message.id, channel = %message.channel, file = %name, "message written to the outbox");
        Ok(Accepted { provider_id: name })
    }
}
