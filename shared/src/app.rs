//! The state every handler borrows: the records store, the clock, the id source, the deployment's keys
//! (ready, or read on first need), and for the photo functions the blobs and keys ports, for the archive's
//! verifier the archive.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::blobs::Blobs;
use crate::crypto::SecretKey;
use crate::http::problem::ApiError;
use crate::ids::{Clock, IdSource, RandomIds, SystemClock};
use crate::keyring::Keyring;
use crate::store::{Records, StoreError};

/// Built once per process (per Lambda cold start), shared by every request.
pub struct App {
    pub records: Arc<dyn Records>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// The keys cursors and stored credentials are sealed with: read with [`App::keys`] once
    /// [`App::load_keys`] has answered.
    keys: KeySlot,
    /// The public base URL of patients' links (`VELLUM_PUBLIC_URL`); without it, the domain API Gateway
    /// received the call on. Never a request header.
    pub public_url: Option<String>,
    /// Only the functions that handle photos build these (other cold starts skip S3 and KMS).
    pub photos: Option<PhotoPorts>,
    /// The audit archive's bucket, for the functions that verify it.
    pub archive: Option<Arc<dyn Blobs>>,
    /// How many requests one address may make of the patients' link routes in a minute.
    pub link_requests_per_minute: i64,
    /// Clinics' plans, as this process last read them (for the burst quota).
    pub plans: crate::metering::plan::PlanCache,
}

/// Far above what a few patients behind one clinic's network make (the page saves after each pause in
/// typing), far below what guessing links would need.
pub const LINK_REQUESTS_PER_MINUTE: i64 = 600;

/// The keys made from the deployment's cursor key.
pub struct Keys {
    /// Seals pagination cursors.
    pub cursor: SecretKey,
    /// Seals credentials that must be kept for a while (a retried invitation's link, an outbox message's
    /// link), so that reading the table, its stream or a backup does not give them away.
    pub stored_secrets: SecretKey,
}

impl Keys {
    pub fn from_cursor_key(cursor: SecretKey) -> Self {
        Self { stored_secrets: cursor.derive("stored-secrets"), cursor }
    }
}

/// Reads the deployment's cursor key (from where the deployment keeps it); the error says why not.
pub type ReadCursorKey = Arc<dyn Fn() -> BoxFuture<'static, Result<SecretKey, String>> + Send + Sync>;

/// The keys, or how to read them: a deployed function reads its cursor key's secret when a request first
/// needs it (or in the background from its cold start), so a function that seals nothing never reads it.
struct KeySlot {
    keys: tokio::sync::OnceCell<Keys>,
    read: Option<ReadCursorKey>,
}

/// Where photos are kept and the keys that seal them.
#[derive(Clone)]
pub struct PhotoPorts {
    pub blobs: Arc<dyn Blobs>,
    pub keyring: Arc<dyn Keyring>,
}

impl App {
    /// With the keys made from `cursor_key`, ready.
    pub fn new(records: Arc<dyn Records>, cursor_key: SecretKey) -> Self {
        let keys = tokio::sync::OnceCell::new_with(Some(Keys::from_cursor_key(cursor_key)));
        Self::with_keys(records, KeySlot { keys, read: None })
    }

    /// With keys that `read` gives when [`App::load_keys`] is first called.
    pub fn reading_keys(records: Arc<dyn Records>, read: ReadCursorKey) -> Self {
        Self::with_keys(records, KeySlot { keys: tokio::sync::OnceCell::new(), read: Some(read) })
    }

    fn with_keys(records: Arc<dyn Records>, keys: KeySlot) -> Self {
        Self {
            records,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            keys,
            public_url: None,
            photos: None,
            archive: None,
            link_requests_per_minute: LINK_REQUESTS_PER_MINUTE,
            plans: Default::default(),
        }
    }

    /// Makes the keys ready, reading the cursor key if nobody has yet (callers at the same time wait for
    /// the one read); 503 when it cannot be read, and the next call tries again.
    pub async fn load_keys(&self) -> Result<&Keys, ApiError> {
        let read = || async {
            let read =
                self.keys.read.as_ref().ok_or_else(|| ApiError::Internal("no keys and no way to read them".into()))?;
            read().await.map(Keys::from_cursor_key).map_err(ApiError::Unavailable)
        };
        self.keys.keys.get_or_try_init(read).await
    }

    /// The keys, once [`App::load_keys`] has made them ready: the pipeline does so before any route that
    /// pages or changes something (`Route::uses_keys`). Before that, 503 rather than anything sealed
    /// without them.
    pub fn keys(&self) -> Result<&Keys, ApiError> {
        self.keys.keys.get().ok_or_else(|| ApiError::Unavailable("the deployment's keys are not read yet".into()))
    }

    /// The keys, for the scheduled jobs: they run outside the pipeline, on an app whose keys were read at
    /// its start.
    pub fn job_keys(&self) -> Result<&Keys, StoreError> {
        self.keys.keys.get().ok_or_else(|| StoreError::Unavailable("the deployment's keys are not read yet".into()))
    }

    pub fn with_link_limit(mut self, per_minute: i64) -> Self {
        self.link_requests_per_minute = per_minute;
        self
    }

    /// Links point at `url` (scheme and host, no trailing slash needed).
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url.map(|u| u.trim_end_matches('/').to_string());
        self
    }

    pub fn with_photos(mut self, photos: PhotoPorts) -> Self {
        self.photos = Some(photos);
        self
    }

    pub fn with_archive(mut self, archive: Arc<dyn Blobs>) -> Self {
        self.archive = Some(archive);
        self
    }

    pub fn with_ids(mut self, ids: Arc<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
