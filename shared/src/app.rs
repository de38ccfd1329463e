//! The state every handler borrows: the records store, the clock, the id source, the cursor key, and for
//! the photo functions the blobs and keys ports, for the archive's verifier the archive.

use std::sync::Arc;

use crate::blobs::Blobs;
use crate::crypto::SecretKey;
use crate::ids::{Clock, IdSource, RandomIds, SystemClock};
use crate::keyring::Keyring;
use crate::store::Records;

/// Built once per process (per Lambda cold start), shared by every request.
pub struct App {
    pub records: Arc<dyn Records>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Seals pagination cursors.
    pub cursor_key: SecretKey,
    /// Seals credentials that must be kept for a while (a retried invitation's link, an outbox message's
    /// link), so that reading the table, its stream or a backup does not give them away.
    pub stored_secrets: SecretKey,
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

/// Where photos are kept and the keys that seal them.
#[derive(Clone)]
pub struct PhotoPorts {
    pub blobs: Arc<dyn Blobs>,
    pub keyring: Arc<dyn Keyring>,
}

impl App {
    pub fn new(records: Arc<dyn Records>, cursor_key: SecretKey) -> Self {
        Self {
            records,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            stored_secrets: cursor_key.derive("stored-secrets"),
            cursor_key,
            public_url: None,
            photos: None,
            archive: None,
            link_requests_per_minute: LINK_REQUESTS_PER_MINUTE,
            plans: Default::default(),
        }
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
