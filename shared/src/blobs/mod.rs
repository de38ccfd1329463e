//! The blobs port: objects by key, and presigned upload URLs that bind the content type and size.
//! S3 in production; files under the data directory for the embedded host.

pub mod contract;
pub mod local;
pub mod s3;

use std::time::Duration;

use async_trait::async_trait;

/// Where and how a client uploads one object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedUpload {
    pub method: String,
    pub url: String,
    /// Headers the upload must carry exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
    /// Seconds since the epoch after which the URL no longer works.
    pub expires_at: i64,
}

/// One stored object, as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    /// When it was last written, in seconds since the epoch.
    pub modified_at: i64,
}

/// A page of a listing, in key order; `next` (the last key) continues it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectPage {
    pub objects: Vec<StoredObject>,
    pub next: Option<String>,
}

/// The most objects one page of a listing holds (S3's own page size).
pub const LIST_PAGE: usize = 1000;

/// What can go wrong with blobs.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object key")]
    InvalidKey,
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// The blobs port.
#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;

    /// The object's bytes, or `None` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;

    /// Removes the object; removing what is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// The objects whose keys start with `prefix` (a folder, ending in `/`), after the key `after`.
    async fn list(&self, prefix: &str, after: Option<&str>) -> Result<ObjectPage, BlobError>;

    /// A URL that accepts one `PUT` of exactly `size` bytes of `content_type` at `key` until it expires.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError>;

    /// A URL that serves the object at `key` by `GET`, as a download named `filename`, until it expires.
    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, BlobError>;
}

/// The `Content-Disposition` of a download named `filename` (letters, digits, `-`, `_` and `.` kept).
pub fn attachment(filename: &str) -> String {
    let safe: String =
        filename.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("attachment; filename=\"{safe}\"")
}

/// Object keys are relative paths of letters, digits, `-`, `_` and `.`, without empty or dot segments.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}
