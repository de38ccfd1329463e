//! The state every handler borrows: the records store, the clock, the id source and the cursor key.

use std::sync::Arc;

use crate::crypto::SecretKey;
use crate::ids::{Clock, IdSource, RandomIds, SystemClock};
use crate::store::Records;

/// Built once per process (per Lambda cold start), shared by every request.
pub struct App {
    pub records: Arc<dyn Records>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Seals pagination cursors.
    pub cursor_key: SecretKey,
}

impl App {
    pub fn new(records: Arc<dyn Records>, cursor_key: SecretKey) -> Self {
        Self { records, clock: Arc::new(SystemClock), ids: Arc::new(RandomIds), cursor_key }
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
