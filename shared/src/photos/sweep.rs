//! The sweep of sealed photo objects that no photo record names: those of a processing run that lost the
//! race to commit or stopped between writing and committing, and those an erasure could not delete.
//! Objects younger than the grace period are left alone (a run writes its objects before its record names
//! them), and so is anything under `photos/` that is not a rendition's key. A failed read stops the sweep
//! before it deletes anything it could not check.

use serde_json::{Value, json};

use crate::app::App;
use crate::domain::photo::{Photo, Rendition};
use crate::domain::values::EntityId;
use crate::store::{Table, entity_from};

/// How old an object must be before the sweep may delete it: far longer than any processing run.
pub const GRACE_SECONDS: i64 = 6 * 3600;

/// What one sweep saw and did (counts only: no keys, no ids).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub examined: usize,
    pub deleted: usize,
    /// Within the grace period.
    pub young: usize,
    /// Not a rendition's key.
    pub foreign: usize,
}

impl SweepReport {
    pub fn to_json(&self) -> Value {
        json!({"examined": self.examined, "deleted": self.deleted, "young": self.young, "foreign": self.foreign})
    }
}

/// The object keys a photo's record names (none when there is no record).
async fn named_objects(
    app: &App,
    (clinic, patient, photo): (EntityId, EntityId, EntityId),
) -> Result<Vec<String>, String> {
    let item = app.records.get(Table::Records, &Photo::key(clinic, patient, photo)).await.map_err(|e| e.to_string())?;
    let Some(item) = item else { return Ok(Vec::new()) };
    let photo: Photo = entity_from(item).map_err(|e| e.to_string())?;
    Ok([Rendition::Display, Rendition::Thumbnail]
        .iter()
        .filter_map(|r| photo.stored(*r).map(|s| s.object_key.clone()))
        .collect())
}

/// Deletes every rendition object under `photos/` older than the grace period at `now` (seconds) that its
/// photo's record does not name.
pub async fn sweep(app: &App, now: i64) -> Result<SweepReport, String> {
    let ports = app.photos.as_ref().ok_or("this function has no photo stores")?;
    let mut report = SweepReport::default();
    // Objects are listed in key order, so one photo's objects come together: its record is read once.
    let mut current: Option<((EntityId, EntityId, EntityId), Vec<String>)> = None;
    let mut after: Option<String> = None;
    loop {
        let page = ports.blobs.list("photos/", after.as_deref()).await.map_err(|e| e.to_string())?;
        for object in &page.objects {
            report.examined += 1;
            if object.modified_at > now - GRACE_SECONDS {
                report.young += 1;
                continue;
            }
            let Some(ids) = Photo::parse_object_key(&object.key) else {
                report.foreign += 1;
                continue;
            };
            if current.as_ref().is_none_or(|(seen, _)| *seen != ids) {
                current = Some((ids, named_objects(app, ids).await?));
            }
            let named = current.as_ref().is_some_and(|(_, keys)| keys.contains(&object.key));
            if !named {
                ports.blobs.delete(&object.key).await.map_err(|e| e.to_string())?;
                report.deleted += 1;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    tracing::info!(examined = report.examined, deleted = report.deleted, young = report.young, "photo sweep done");
    Ok(report)
}
