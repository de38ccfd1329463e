//! A tally of every request the stores receive, by what they were for: the records store's reads and
//! writes with the size of each item read or written (and the indexes a written item lands in), the
//! blob store's requests and bytes, and the key service's requests. The cost model turns it into AWS
//! request units and dollars.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use vellum::blobs::{BlobError, Blobs, ObjectPage, PresignedUpload};
use vellum::keyring::{DataKey, EncryptionContext, KeyError, Keyring};
use vellum::store::limits::attributes_size;
use vellum::store::schema::Index;
use vellum::store::{Cond, Item, Key, Page, Query, Records, StoreError, Table, Update, Write};

/// One item written: its table, its size, the indexes it lands in, and whether in a transaction.
#[derive(Clone, Debug)]
pub struct Written {
    pub table: Table,
    /// The item's partition and sort key.
    pub key: (String, String),
    pub bytes: usize,
    /// Each index the item is in, with the size of the index's keys and the table's (a keys-only projection).
    pub indexes: Vec<(Index, usize)>,
    pub transactional: bool,
}

/// One read: its table, whether of an index (eventually consistent) and the bytes of the items it read.
#[derive(Clone, Debug)]
pub struct Read {
    pub table: Table,
    pub index: bool,
    pub bytes: usize,
}

/// What the stores received under one label.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    /// Calls of the records store (a transaction is one).
    pub store_calls: usize,
    pub reads: Vec<Read>,
    pub writes: Vec<Written>,
    /// Object writes and their bytes (a client's upload to a presigned URL among the writes, its bytes
    /// apart: quarantine is emptied once the upload is processed), reads, listings.
    pub blob_puts: usize,
    pub blob_put_bytes: usize,
    pub upload_bytes: usize,
    pub blob_gets: usize,
    pub blob_lists: usize,
    pub kms: usize,
}

impl Requests {
    /// The round trips to AWS services these requests take.
    pub fn round_trips(&self) -> (usize, usize, usize) {
        (self.store_calls, self.blob_puts + self.blob_gets + self.blob_lists, self.kms)
    }
}

/// Requests by label; the label is what the caller says it is doing (a route, the stream's meter).
#[derive(Default)]
pub struct Tally {
    label: Mutex<String>,
    by_label: Mutex<BTreeMap<String, Requests>>,
}

impl Tally {
    /// Counts what follows under `label`.
    pub fn label(&self, label: &str) {
        *self.label.lock().expect("label") = label.to_string();
    }

    /// Takes what was counted under the current label.
    pub fn take(&self, label: &str) -> Requests {
        self.by_label.lock().expect("tally").remove(label).unwrap_or_default()
    }

    fn add(&self, change: impl FnOnce(&mut Requests)) {
        let label = self.label.lock().expect("label").clone();
        change(self.by_label.lock().expect("tally").entry(label).or_default());
    }
}

/// The size of an item and the indexes it lands in (those whose partition attribute it has).
fn written(table: Table, item: &Item, transactional: bool) -> Written {
    let bytes = attributes_size(item).unwrap_or(0);
    let key_size = |names: &[&str]| -> usize {
        names.iter().map(|n| n.len() + item.get(*n).and_then(|v| v.as_str()).map_or(0, str::len)).sum()
    };
    let indexes = table
        .indexes()
        .iter()
        .filter(|index| item.contains_key(index.attrs().0))
        .map(|index| (*index, key_size(&[index.attrs().0, index.attrs().1, "PK", "SK"])))
        .collect();
    let text = |name: &str| item.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    Written { table, key: (text("PK"), text("SK")), bytes, indexes, transactional }
}

/// Records that tally each request (an update's or a deletion's item is read, untallied, to size it).
pub struct TallyingRecords {
    pub inner: Arc<dyn Records>,
    pub tally: Arc<Tally>,
}

#[async_trait]
impl Records for TallyingRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(table, key).await?;
        let bytes = item.as_ref().map_or(0, |i| attributes_size(i).unwrap_or(0));
        self.tally.add(|r| {
            r.store_calls += 1;
            r.reads.push(Read { table, index: false, bytes });
        });
        Ok(item)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut sized = Vec::new();
        let mut deleted = Vec::new();
        for write in &writes {
            match write {
                Write::Put { table, item, .. } => sized.push(written(*table, item, true)),
                Write::Delete { table, key, .. } => {
                    if let Some(item) = self.inner.get(*table, key).await? {
                        deleted.push(written(*table, &item, true));
                    }
                }
                Write::Update { .. } => {}
            }
        }
        let result = self.inner.transact(writes.clone()).await;
        // An update's item is sized as it is after the transaction (or as it was, when it failed).
        for write in &writes {
            if let Write::Update { table, key, .. } = write
                && let Some(item) = self.inner.get(*table, key).await?
            {
                sized.push(written(*table, &item, true));
            }
        }
        sized.extend(deleted);
        self.tally.add(|r| {
            r.store_calls += 1;
            r.writes.extend(sized);
        });
        result
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        let result = self.inner.update(table, key, update, cond).await;
        let item = self.inner.get(table, key).await?.unwrap_or_default();
        let sized = written(table, &item, false);
        self.tally.add(|r| {
            r.store_calls += 1;
            r.writes.push(sized);
        });
        result
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (table, index) = (query.table, query.index.is_some());
        let page = self.inner.query(query).await?;
        let bytes = page.items.iter().map(|i| attributes_size(i).unwrap_or(0)).sum();
        self.tally.add(|r| {
            r.store_calls += 1;
            r.reads.push(Read { table, index, bytes });
        });
        Ok(page)
    }
}

/// Blobs that tally each request.
pub struct TallyingBlobs {
    pub inner: Arc<dyn Blobs>,
    pub tally: Arc<Tally>,
}

#[async_trait]
impl Blobs for TallyingBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        let size = bytes.len();
        self.tally.add(|r| {
            r.blob_puts += 1;
            r.blob_put_bytes += size;
        });
        self.inner.put(key, bytes, content_type).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.tally.add(|r| r.blob_gets += 1);
        self.inner.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        // Deleting is free on S3; the object's bytes leave the storage.
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str, after: Option<&str>) -> Result<ObjectPage, BlobError> {
        self.tally.add(|r| r.blob_lists += 1);
        self.inner.list(prefix, after).await
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: std::time::Duration,
    ) -> Result<PresignedUpload, BlobError> {
        // Signed locally: no request. The client's upload is one PUT of `size` bytes.
        self.tally.add(|r| {
            r.blob_puts += 1;
            r.upload_bytes += size as usize;
        });
        self.inner.presign_put(key, content_type, size, expires_in).await
    }

    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, BlobError> {
        // Signed locally: no request. The client's download is one GET.
        self.tally.add(|r| r.blob_gets += 1);
        self.inner.presign_get(key, filename, expires_in).await
    }
}

/// A key service that tallies each request.
pub struct TallyingKeyring {
    pub inner: Arc<dyn Keyring>,
    pub tally: Arc<Tally>,
}

#[async_trait]
impl Keyring for TallyingKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        self.tally.add(|r| r.kms += 1);
        self.inner.generate_data_key(context).await
    }

    async fn decrypt_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<vellum::crypto::SecretKey, KeyError> {
        self.tally.add(|r| r.kms += 1);
        self.inner.decrypt_data_key(wrapped, context).await
    }
}
