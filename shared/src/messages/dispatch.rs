//! The dispatcher: one pass over the index of due work (every clinic's queued messages and pending
//! reminders, by when they are due) that queues the due reminders and sends the due messages. On AWS a
//! rule runs it every minute; the local server runs it on its own timer. Running it twice at once, or
//! again after a crash, sends nothing twice (see `outbox` and `reminders`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Messenger;
use super::outbox::{self, DUE_PARTITION, Delivery};
use super::reminders;
use crate::app::App;
use crate::ids::sortable_time;
use crate::store::schema::{PK, SK};
use crate::store::{Index, Key, Query, SkRange, StoreError, Table, str_attr};

/// At most this many due items are taken in one pass; the rest wait for the next (a minute later).
pub const MAX_PER_PASS: usize = 500;

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub reminders_queued: usize,
    pub sent: usize,
    pub failed: usize,
    pub retrying: usize,
    pub skipped: usize,
}

impl Report {
    fn count(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Sent => self.sent += 1,
            Delivery::Failed => self.failed += 1,
            Delivery::Retrying => self.retrying += 1,
            Delivery::Skipped => self.skipped += 1,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"remindersQueued": self.reminders_queued, "sent": self.sent, "failed": self.failed,
               "retrying": self.retrying, "skipped": self.skipped})
    }
}

/// One pass at `now`: every item due by then, oldest first.
pub async fn run(app: &App, messenger: &dyn Messenger, now: DateTime<Utc>) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut after = None;
    let mut taken = 0;
    loop {
        let query = Query::new(Table::Records, DUE_PARTITION)
            .index(Index::Gsi1)
            // Every due key starts with a time, and so with a digit (DynamoDB refuses an empty bound).
            .sk(SkRange::Between("0".into(), format!("{}~", sortable_time(now))))
            .limit(100)
            .start_after(after);
        let page = app.records.query(query).await?;
        for item in &page.items {
            let (Some(pk), Some(sk)) = (str_attr(item, PK), str_attr(item, SK)) else { continue };
            let key = Key::new(pk, sk);
            if sk.starts_with(reminders::PREFIX) {
                match reminders::queue_due(app, &key, now).await? {
                    Some(message) => {
                        report.reminders_queued += 1;
                        report.count(outbox::deliver(app, messenger, &message, now).await?);
                    }
                    None => report.skipped += 1,
                }
            } else if sk.starts_with(outbox::PREFIX) {
                report.count(outbox::deliver(app, messenger, &key, now).await?);
            }
        }
        taken += page.items.len();
        after = page.next;
        if after.is_none() || taken >= MAX_PER_PASS {
            return Ok(report);
        }
    }
}
