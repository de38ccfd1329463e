//! The embedded store's stand-in for the audit table's stream: each committed transaction's new and
//! removed audit events are handed, in order, to one task that meters and archives them (in the data
//! directory), as DynamoDB's stream hands them to the `usage-meter` and `audit-archive` functions. A run that fails is logged; its events stay in the
//! table, and the verifier names them.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Archive, Change, StreamRecord};
use crate::store::{Cond, Item, Key, Page, Query, Records, StoreError, Table, Update, Write};

/// Records that stream their committed audit inserts into an archive.
pub struct ArchivingRecords {
    inner: Arc<dyn Records>,
    stream: mpsc::UnboundedSender<Vec<StreamRecord>>,
}

impl ArchivingRecords {
    /// Wraps `inner`; the archive runs on a task of its own for as long as the records live.
    pub fn new(inner: Arc<dyn Records>, archive: Archive) -> Self {
        let (stream, mut deliveries) = mpsc::unbounded_channel::<Vec<StreamRecord>>();
        tokio::spawn(async move {
            while let Some(records) = deliveries.recv().await {
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
            let _ = self.stream.send(changes);
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
