//! Before/after photos: upload requests, lists and before/after sets, decrypted views for a consented
//! purpose, consent changes, and erasure by destroying the keys.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::break_glass;
use super::chart::query_all;
use super::{page_body, patients, scope, start_after};
use crate::app::PhotoPorts;
use crate::blobs::PresignedUpload;
use crate::domain::audit::Resource;
use crate::domain::break_glass::Scope;
use crate::domain::chart::{Actor, ChartKind};

use crate::domain::keys;
use crate::domain::photo::{
    ConsentChange, ConsentScope, Erasure, PHOTO_PREFIX, Photo, PhotoRequest, PhotoState, Rendition, StandardView,
};
use crate::domain::values::{Date, EntityId, ShortText, search_fold};
use crate::http::input::{Input, at_version};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::photos::envelope;
use crate::photos::process::encryption_context;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from};

/// How long an upload URL works.
const UPLOAD_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How many photos one erase-all call erases (each is a write of one transaction).
const ERASE_BATCH: usize = 40;

fn ports(ctx: &Ctx) -> Result<&PhotoPorts, ApiError> {
    ctx.app.photos.as_ref().ok_or_else(|| ApiError::Internal("photo storage is not configured".into()))
}

fn photo_facts(patient: EntityId, photo: EntityId) -> Facts {
    Facts::patient(patient).with("photo", photo)
}

/// A photo of the caller's clinic; anything else is not found.
async fn load(ctx: &Ctx, patient: EntityId, photo: EntityId) -> Result<Photo, ApiError> {
    let item = ctx.app.records.get(Table::Records, &Photo::key(ctx.clinic()?, patient, photo)).await?;
    Ok(entity_from(item.ok_or(ApiError::NotFound)?)?)
}

fn photo_write(ctx: &Ctx, photo: &Photo, cond: Cond, on_fail: ApiError) -> Result<Guarded, ApiError> {
    Ok(Guarded::new(Write::put(Table::Records, photo.to_item(ctx.clinic()?), cond), on_fail))
}

/// Every photo of a patient (the chart partition's photo items, all pages).
async fn photos_of(ctx: &Ctx, patient: EntityId) -> Result<Vec<Photo>, ApiError> {
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(format!("{PHOTO_PREFIX}#")))
        .limit(200);
    Ok(query_all(ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?)
}

/// `POST /v1/patients/{patientId}/photos`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let request = input.form(ctx.rules(), PhotoRequest::read)?;
    patients::load(&ctx, patient).await?;
    let clinic = ctx.clinic()?;
    if let Some(treatment) = request.treatment_id {
        let key = Key::new(
            keys::chart_pk(clinic, patient),
            keys::chart_entry_sk(ChartKind::Treatment.key_prefix(), treatment),
        );
        if ctx.app.records.get(Table::Records, &key).await?.is_none() {
            return Err(ApiError::unknown("treatmentId", "names no treatment of this patient"));
        }
    }
    let (photo, upload, write) = pending_photo(&ctx, clinic, patient, request, ctx.actor(), UPLOAD_WINDOW).await?;
    let mut body = photo.to_json();
    body["upload"] = json!(upload);
    let location = format!("/v1/patients/{patient}/photos/{}", photo.id);
    Ok(Outcome::Write(vec![write], Reply::created(body, location).versioned(1), photo_facts(patient, photo.id)))
}

/// A new pending photo of a patient, the URL its upload goes to, and the write that records it.
pub async fn pending_photo(
    ctx: &Ctx,
    clinic: EntityId,
    patient: EntityId,
    request: PhotoRequest,
    uploader: Actor,
    window: Duration,
) -> Result<(Photo, PresignedUpload, Guarded), ApiError> {
    let photo = Photo {
        id: ctx.new_id(),
        patient_id: patient,
        request,
        state: PhotoState::Pending,
        rejection: None,
        display: None,
        thumbnail: None,
        consent_history: Vec::new(),
        uploaded_by: uploader,
        created_at: ctx.now_text(),
        processed_at: None,
        erased: None,
        version: 1,
    };
    let upload = ports(ctx)?
        .blobs
        .presign_put(
            &Photo::quarantine_key(clinic, patient, photo.id),
            photo.request.content_type.as_str(),
            photo.request.byte_size,
            window,
        )
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let collision = ApiError::Conflict("an id collided; retry".into());
    let write = Guarded::new(Write::put(Table::Records, photo.to_item(clinic), Cond::NotExists), collision);
    Ok((photo, upload, write))
}

/// The list filters of `GET .../photos`.
struct Filters {
    body_area: Option<String>,
    view: Option<StandardView>,
    treatment: Option<EntityId>,
    from: Option<Date>,
    to: Option<Date>,
}

impl Filters {
    fn matches(&self, photo: &Photo) -> bool {
        let r = &photo.request;
        let day = r.captured_at.date();
        self.body_area.as_ref().is_none_or(|a| search_fold(r.body_area.as_str()) == *a)
            && self.view.is_none_or(|v| r.view == v)
            && self.treatment.is_none_or(|t| r.treatment_id == Some(t))
            && self.from.is_none_or(|f| day >= f.0)
            && self.to.is_none_or(|t| day <= t.0)
    }
}

/// `GET /v1/patients/{patientId}/photos?bodyArea=&view=&treatmentId=&capturedFrom=&capturedTo=&limit=&cursor=`
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let params = input.params(ctx.route.query)?;
    let rules = ctx.rules();
    let filters = Filters {
        body_area: params.get("bodyArea").map(search_fold),
        view: params.parsed("view", &rules)?,
        treatment: params.parsed("treatmentId", &rules)?,
        from: params.parsed("capturedFrom", &rules)?,
        to: params.parsed("capturedTo", &rules)?,
    };
    let limit = params.limit()?;
    let view = filters.view.map(|v| v.as_str());
    let treatment = filters.treatment.map(|t| t.to_string());
    let (from, to) = (filters.from.map(|d| d.to_string()), filters.to.map(|d| d.to_string()));
    let scope = scope(
        &ctx,
        &[
            Some(&patient.to_string()),
            filters.body_area.as_deref(),
            view,
            treatment.as_deref(),
            from.as_deref(),
            to.as_deref(),
        ],
    );
    let after = start_after(&ctx, &params, &scope)?;
    patients::load(&ctx, patient).await?;
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(format!("{PHOTO_PREFIX}#")))
        .backward()
        .limit(limit)
        .start_after(after);
    let page = ctx.app.records.query(query).await?;
    let photos: Vec<Photo> = page.items.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let shown: Vec<&Photo> = photos.iter().filter(|p| filters.matches(p)).collect();
    let mut facts = Facts::patient(patient);
    facts.resources.extend(shown.iter().map(|p| Resource::new("photo", p.id)));
    let body = page_body(&ctx, &scope, shown.iter().map(|p| p.to_json()).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), facts))
}

/// `GET /v1/patients/{patientId}/photo-sets?treatmentId=`: ready photos grouped by treatment, then view.
pub async fn sets(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let params = input.params(ctx.route.query)?;
    let only: Option<EntityId> = params.parsed("treatmentId", &ctx.rules())?;
    patients::load(&ctx, patient).await?;
    let mut photos = photos_of(&ctx, patient).await?;
    photos.retain(|p| {
        p.state == PhotoState::Ready
            && p.request.phase.is_some()
            && p.request.treatment_id.is_some()
            && only.is_none_or(|t| p.request.treatment_id == Some(t))
    });
    photos.sort_by(|a, b| a.request.captured_at.cmp(&b.request.captured_at));
    let mut treatments: Vec<EntityId> = Vec::new();
    for p in &photos {
        if let Some(t) = p.request.treatment_id
            && !treatments.contains(&t)
        {
            treatments.push(t);
        }
    }
    let phase = |photos: &[&Photo], phase: &str| -> Vec<Value> {
        photos.iter().filter(|p| p.request.phase.map(|x| x.as_str()) == Some(phase)).map(|p| p.to_json()).collect()
    };
    let sets: Vec<Value> = treatments
        .iter()
        .map(|t| {
            let views: Vec<Value> = StandardView::ALL
                .iter()
                .filter_map(|view| {
                    let of_view: Vec<&Photo> = photos
                        .iter()
                        .filter(|p| p.request.treatment_id == Some(*t) && p.request.view == *view)
                        .collect();
                    (!of_view.is_empty())
                        .then(|| json!({"view": view, "before": phase(&of_view, "before"), "after": phase(&of_view, "after")}))
                })
                .collect();
            json!({"treatmentId": t, "views": views})
        })
        .collect();
    let mut facts = Facts::patient(patient);
    facts.resources.extend(photos.iter().map(|p| Resource::new("photo", p.id)));
    Ok(Outcome::Read(Reply::ok(json!({"items": sets})), facts))
}

/// `GET /v1/patients/{patientId}/photos/{photoId}?rendition=display|thumbnail&purpose=`
pub async fn view(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("photoId")?);
    let params = input.params(ctx.route.query)?;
    let rules = ctx.rules();
    let rendition: Rendition = params.parsed("rendition", &rules)?.unwrap_or(Rendition::Display);
    let purpose = match params.get("purpose") {
        None | Some("clinical") => ConsentScope::ClinicalRecord,
        Some("education") => ConsentScope::InternalEducation,
        Some("marketing") => ConsentScope::Marketing,
        Some(_) => return Err(ApiError::field_rule("purpose", "must be one of: clinical, education, marketing")),
    };
    let photo = load(&ctx, patient, id).await?;
    match photo.state {
        PhotoState::Ready => {}
        PhotoState::Pending => {
            return Err(ApiError::Conflict("the photo is not processed yet; try again shortly".into()));
        }
        PhotoState::Rejected => {
            let reason = photo.rejection.clone().unwrap_or_default();
            return Err(ApiError::Conflict(format!("the upload was rejected: {reason}")));
        }
        PhotoState::Erased => return Err(ApiError::Gone("the photo was erased; no copy of it can be opened".into())),
    }
    // Beyond its consent, a photo opens only under break-glass, and never for marketing.
    let mut marks = Vec::new();
    if !photo.consent().covers(purpose) {
        let opened = match purpose {
            ConsentScope::Marketing => None,
            _ => break_glass::active(&ctx, patient, Scope::Photos).await?,
        };
        let Some(opened) = opened else {
            return Err(ApiError::Forbidden(format!(
                "the patient's consent for this photo ({}) does not cover this purpose",
                photo.consent()
            )));
        };
        marks.push(opened.mark());
    }
    let jpeg = open_rendition(&ctx, &photo, rendition).await?;
    let mut facts = photo_facts(patient, id).under(marks);
    facts.resources.push(Resource::new("rendition", rendition));
    Ok(Outcome::Read(Reply::bytes("image/jpeg", jpeg).versioned(photo.version), facts))
}

/// A ready photo's rendition, opened: its sealed object read and its data key unwrapped under the photo's
/// encryption context.
pub async fn open_rendition(ctx: &Ctx, photo: &Photo, rendition: Rendition) -> Result<Vec<u8>, ApiError> {
    let stored = photo.stored(rendition).ok_or_else(|| ApiError::Internal("a ready photo lacks a rendition".into()))?;
    let ports = ports(ctx)?;
    let object = ports
        .blobs
        .get(&stored.object_key)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .ok_or_else(|| ApiError::Unavailable("the sealed rendition is missing from the bucket".into()))?;
    let context = encryption_context(ctx.clinic()?, photo.patient_id, photo.id);
    let wrapped = STANDARD.decode(&stored.wrapped_key).map_err(|e| ApiError::Internal(e.to_string()))?;
    let key =
        ports.keyring.decrypt_data_key(&wrapped, &context).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    envelope::open(&key, &context, &object)
        .ok_or_else(|| ApiError::Internal("a sealed rendition does not open under its own key".into()))
}

/// Loads a photo for a change, checking `If-Match` and that it was not erased.
async fn changeable(ctx: &Ctx, input: &Input) -> Result<(EntityId, Photo), ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("photoId")?);
    let expected = input.if_match()?;
    let photo = load(ctx, patient, id).await?;
    at_version(expected, photo.version)?;
    if photo.state == PhotoState::Erased {
        return Err(ApiError::Conflict("the photo was erased".into()));
    }
    Ok((patient, photo))
}

/// `POST /v1/patients/{patientId}/photos/{photoId}/consent` with `{"scope"}` and `If-Match`.
pub async fn consent(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let scope: ConsentScope = input.form(ctx.rules(), |form| {
        form.only(&["scope"]);
        form.req("scope")
    })?;
    let (patient, photo) = changeable(&ctx, &input).await?;
    let mut next = photo.clone();
    next.consent_history.push(ConsentChange { scope, by: ctx.actor(), at: ctx.now_text() });
    next.version += 1;
    let writes = vec![photo_write(&ctx, &next, Cond::VersionIs(photo.version), ApiError::PreconditionFailed)?];
    Ok(Outcome::Write(writes, Reply::ok(next.to_json()).versioned(next.version), photo_facts(patient, photo.id)))
}

fn read_reason(ctx: &Ctx, input: &Input) -> Result<ShortText, ApiError> {
    input.form(ctx.rules(), |form| {
        form.only(&["reason"]);
        form.req("reason")
    })
}

/// The erased photo (its wrapped keys forgotten, so every sealed copy left — old object versions, copies
/// of the bucket — can no longer be decrypted) and the objects to delete once that is committed.
pub(crate) fn shred(ctx: &Ctx, photo: &Photo, reason: &ShortText) -> Result<(Photo, Vec<String>), ApiError> {
    let clinic = ctx.clinic()?;
    let mut objects = vec![Photo::quarantine_key(clinic, photo.patient_id, photo.id)];
    objects.extend([&photo.display, &photo.thumbnail].into_iter().flatten().map(|r| r.object_key.clone()));
    let erased = Photo {
        state: PhotoState::Erased,
        display: None,
        thumbnail: None,
        erased: Some(Erasure { by: ctx.actor(), at: ctx.now_text(), reason: reason.clone() }),
        version: photo.version + 1,
        ..photo.clone()
    };
    Ok((erased, objects))
}

/// `POST /v1/patients/{patientId}/photos/{photoId}/erase` with `{"reason"}` and `If-Match`.
pub async fn erase(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let reason = read_reason(&ctx, &input)?;
    let (patient, photo) = changeable(&ctx, &input).await?;
    let (erased, objects) = shred(&ctx, &photo, &reason)?;
    let writes = vec![photo_write(&ctx, &erased, Cond::VersionIs(photo.version), ApiError::PreconditionFailed)?];
    let reply = Reply::ok(erased.to_json()).versioned(erased.version);
    Ok(Outcome::WriteThenDelete(writes, reply, photo_facts(patient, photo.id), objects))
}

/// `POST /v1/patients/{patientId}/photos/erase` with `{"reason"}`: every photo of the patient, in batches.
pub async fn erase_all(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    let reason = read_reason(&ctx, &input)?;
    patients::load(&ctx, patient).await?;
    let mut photos = photos_of(&ctx, patient).await?;
    photos.retain(|p| p.state != PhotoState::Erased);
    let remaining = photos.len().saturating_sub(ERASE_BATCH);
    photos.truncate(ERASE_BATCH);
    let mut writes = Vec::new();
    let mut objects = Vec::new();
    let mut facts = Facts::patient(patient);
    for photo in &photos {
        let (erased, photo_objects) = shred(&ctx, photo, &reason)?;
        objects.extend(photo_objects);
        let retry = ApiError::Conflict("a photo changed during the erasure; nothing was written; retry".into());
        writes.push(photo_write(&ctx, &erased, Cond::VersionIs(photo.version), retry)?);
        facts.resources.push(Resource::new("photo", photo.id));
    }
    let body = json!({"erased": photos.len(), "remaining": remaining});
    Ok(Outcome::WriteThenDelete(writes, Reply::ok(body), facts, objects))
}
