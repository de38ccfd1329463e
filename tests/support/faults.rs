//! Faults on purpose: records, blobs and keys adapters that fail a share of calls the way AWS does —
//! throttled before anything happens, a timeout, or (for writes) the answer lost after the write was
//! applied, which the caller cannot tell from a failure. Draws come from a seeded generator, so a
//! sequential workload meets the same faults on every run.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vellum::blobs::{BlobError, Blobs, ObjectPage, PresignedUpload};
use vellum::crypto::SecretKey;
use vellum::keyring::{DataKey, EncryptionContext, KeyError, Keyring};
use vellum::store::{Cond, Item, Key, Page, Query, Records, StoreError, Table, Update, Write};

/// What went wrong with one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Throttled,
    TimedOut,
    /// The write was applied; its answer never arrived.
    AnswerLost,
}

/// How many faults of each kind were injected.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub calls: AtomicUsize,
    pub throttled: AtomicUsize,
    pub timed_out: AtomicUsize,
    pub answers_lost: AtomicUsize,
}

impl FaultCounts {
    /// (calls, throttled, timed out, answers lost) so far.
    pub fn snapshot(&self) -> (usize, usize, usize, usize) {
        let read = |c: &AtomicUsize| c.load(Ordering::SeqCst);
        (read(&self.calls), read(&self.throttled), read(&self.timed_out), read(&self.answers_lost))
    }
}

/// The share of calls that fail, and the generator that picks them.
#[derive(Debug)]
pub struct Faults {
    per_mille: AtomicU32,
    state: Mutex<u64>,
    pub counts: FaultCounts,
}

impl Faults {
    pub fn new(percent: u32, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            per_mille: AtomicU32::new(percent * 10),
            state: Mutex::new(seed | 1),
            counts: FaultCounts::default(),
        })
    }

    /// No more faults (to check the state the workload left).
    pub fn stop(&self) {
        self.per_mille.store(0, Ordering::SeqCst);
    }

    fn next(&self) -> u64 {
        let mut state = self.state.lock().expect("generator");
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// The fault of the next call, if any; a read can only be throttled or time out.
    fn draw(&self, writes: bool) -> Option<Fault> {
        let rate = u64::from(self.per_mille.load(Ordering::SeqCst));
        if rate == 0 {
            return None;
        }
        self.counts.calls.fetch_add(1, Ordering::SeqCst);
        let x = self.next();
        if x % 1000 >= rate {
            return None;
        }
        let fault = match (x / 1000) % 3 {
            0 => Fault::Throttled,
            1 => Fault::TimedOut,
            _ if writes => Fault::AnswerLost,
            _ => Fault::Throttled,
        };
        let counter = match fault {
            Fault::Throttled => &self.counts.throttled,
            Fault::TimedOut => &self.counts.timed_out,
            Fault::AnswerLost => &self.counts.answers_lost,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        Some(fault)
    }

    /// Runs `call` through the next draw: refused before it runs, or its answer replaced after.
    async fn around<T, E>(
        &self,
        writes: bool,
        error: impl Fn(&'static str) -> E,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        match self.draw(writes) {
            None => call.await,
            Some(Fault::Throttled) => Err(error("injected: throttled")),
            Some(Fault::TimedOut) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(error("injected: timed out"))
            }
            Some(Fault::AnswerLost) => {
                call.await?;
                Err(error("injected: the answer was lost after the write"))
            }
        }
    }
}

fn store_error(what: &'static str) -> StoreError {
    StoreError::Unavailable(what.into())
}

fn blob_error(what: &'static str) -> BlobError {
    BlobError::Unavailable(what.into())
}

fn key_error(what: &'static str) -> KeyError {
    KeyError::Unavailable(what.into())
}

/// Records that fail as DynamoDB can.
pub struct FaultyRecords {
    pub inner: Arc<dyn Records>,
    pub faults: Arc<Faults>,
}

#[async_trait::async_trait]
impl Records for FaultyRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        self.faults.around(false, store_error, self.inner.get(table, key)).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.faults.around(true, store_error, self.inner.transact(writes)).await
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        self.faults.around(true, store_error, self.inner.update(table, key, update, cond)).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.faults.around(false, store_error, self.inner.query(query)).await
    }
}

/// Blobs that fail as S3 can.
pub struct FaultyBlobs {
    pub inner: Arc<dyn Blobs>,
    pub faults: Arc<Faults>,
}

#[async_trait::async_trait]
impl Blobs for FaultyBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.faults.around(true, blob_error, self.inner.put(key, bytes, content_type)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.faults.around(false, blob_error, self.inner.get(key)).await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.faults.around(true, blob_error, self.inner.delete(key)).await
    }

    async fn list(&self, prefix: &str, after: Option<&str>) -> Result<ObjectPage, BlobError> {
        self.faults.around(false, blob_error, self.inner.list(prefix, after)).await
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        self.faults.around(false, blob_error, self.inner.presign_put(key, content_type, size, expires_in)).await
    }

    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, BlobError> {
        self.faults.around(false, blob_error, self.inner.presign_get(key, filename, expires_in)).await
    }
}

/// Keys that fail as KMS can.
pub struct FaultyKeyring {
    pub inner: Arc<dyn Keyring>,
    pub faults: Arc<Faults>,
}

#[async_trait::async_trait]
impl Keyring for FaultyKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        self.faults.around(false, key_error, self.inner.generate_data_key(context)).await
    }

    async fn decrypt_data_key(&self, wrapped: &[u8], context: &EncryptionContext) -> Result<SecretKey, KeyError> {
        self.faults.around(false, key_error, self.inner.decrypt_data_key(wrapped, context)).await
    }
}
