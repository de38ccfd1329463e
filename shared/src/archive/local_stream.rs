//! The embedded store's stand-in for the audit table's stream: each committed transaction's new and
//! removed audit events are handed, in order, to one task that meters and archives them (in the data
//! directory) in batches of up to [`BATCH_LINES`] events, as DynamoDB's stream hands them to the
//! `usage-meter` and `audit-archive` functions. A run that fails is logged; its events stay in the table,
//! and the verifier names them. The stream holds at most [`PENDING`] transactions: past that, a commit
//! waits for the archive to catch up, so a server under more load than it can archive slows down rather
//! than holding ever more events in memory.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Archive, BATCH_LINES, Change, StreamRecord};
use crate::store::{Cond, Item, Key, Page, Query, Records, StoreError, Table, Update, Write};

/// How many committed transactions' events may wait for the archive.
pub const PENDING: usize = 1024;

/// Records that stream their committed audit inserts into an archive.
pub struct ArchivingRecords {
    inner: Arc<dyn Records>,
    stream: mpsc::Sender<Vec<StreamRecord>>,
}

impl ArchivingRecords {
    /// Wraps `inner`; the archive runs on a task of its own for as long as the records live.
    pub fn new(inner: Arc<dyn Records>, archive: Archive) -> Self {
        let (stream, mut deliveries) = mpsc::channel::<Vec<StreamRecord>>(PENDING);
        tokio::spawn(async move {
            while let Some(mut records) = deliveries.recv().await {
                // What else has been committed meanwhile goes in the same batch, in order.
                while records.len() < BATCH_LINES {
                    match deliveries.try_recv() {
                        Ok(more) => records.extend(more),
                        Err(_) => break,
                    }
                }
                // The same stream feeds the meter (a second consumer on AWS: `usage-meter`).
                let now = chrono::Utc::now();
                if let Err(e) = crate::metering::meter::meter(archive.records.as_ref(), &records, now).await {
                    tracing::warn!(error = %e, "audit events were not metered");
                }
                if let Err(e) = archive.handle(records, now).await {
                    tracing::warn!(error = %e, "audit events were not archived; the verifier names them");
                }
            }
        });
        Self { inner, stream }
    }
}

#[async_trait]
impl Records for ArchivingRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(table, key).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut changes = Vec::new();
        for write in &writes {
            let change = match write {
                Write::Put { table: Table::Audit, item, .. } => Change::Insert(item.clone()),
                // A removal streams the item as it was.
                Write::Delete { table: Table::Audit, key, .. } => match self.inner.get(Table::Audit, key).await? {
                    Some(old) => Change::Remove(old),
                    None => continue,
                },
                _ => continue,
            };
            changes.push(StreamRecord { sequence: ulid::Ulid::new().to_string(), change });
        }
        self.inner.transact(writes).await?;
        if !changes.is_empty() {
            // Only a stopped archive task closes the stream, and then the server is stopping.
            let _ = self.stream.send(changes).await;
        }
        Ok(())
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        self.inner.update(table, key, update, cond).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
}
