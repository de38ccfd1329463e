//! A record of a patient's chart partition that FHIR reads: a chart entry, a photo or a submission.

use crate::domain::audit::Resource;
use crate::domain::chart::Entry;
use crate::domain::forms::invitation::Submission;
use crate::domain::keys;
use crate::domain::photo::{PHOTO_PREFIX, Photo};
use crate::store::{Item, StoreError, entity_from, schema};

/// A record FHIR reads, by what it is.
pub enum Record {
    Entry(Entry),
    Photo(Photo),
    Submission(Submission),
}

impl Record {
    /// The record an item of the chart partition holds, by its sort key; none for what FHIR does not read
    /// (invitations, break-glass grants, the chart's guards).
    pub fn from_item(item: Item) -> Result<Option<Self>, StoreError> {
        let sk = item.get(schema::SK).and_then(|v| v.as_str()).unwrap_or("").to_string();
        Ok(if sk.starts_with(keys::CHART_ENTRY_PREFIX) {
            Some(Record::Entry(entity_from(item)?))
        } else if sk.strip_prefix(PHOTO_PREFIX).is_some_and(|rest| rest.starts_with('#')) {
            Some(Record::Photo(entity_from(item)?))
        } else if sk.starts_with(Submission::PREFIX) {
            Some(Record::Submission(entity_from(item)?))
        } else {
            None
        })
    }

    /// What the access log names when the record is shown.
    pub fn audited(&self) -> Resource {
        match self {
            Record::Entry(entry) => Resource::new(entry.kind.as_str(), entry.id),
            Record::Photo(photo) => Resource::new("photo", photo.id),
            Record::Submission(submission) => Resource::new("submission", submission.id),
        }
    }

    /// When it last changed, as stored (what `_lastUpdated` compares).
    pub fn updated_at(&self) -> String {
        match self {
            Record::Entry(entry) => entry.updated_at.clone(),
            Record::Photo(photo) => super::media::updated_at(photo),
            Record::Submission(submission) => super::forms::updated_at(submission),
        }
    }

    /// Whether it still counts: an entry marked entered-in-error does not, in a search.
    pub fn is_valid(&self) -> bool {
        match self {
            Record::Entry(entry) => entry.is_valid(),
            _ => true,
        }
    }

    /// Its version.
    pub fn version(&self) -> u64 {
        match self {
            Record::Entry(entry) => entry.version,
            Record::Photo(photo) => photo.version,
            Record::Submission(submission) => submission.version,
        }
    }
}
