//! A patient's export, asked for and followed by staff: start it, see where it stands and what it holds, and
//! take the ZIP through a short-lived link (each link given is an event in the patient's access log).

use serde_json::{Value, json};

use super::patients;
use crate::domain::export::{Export, ExportState};
use crate::domain::values::EntityId;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Table, Write, entity_from};

/// How long a download link works.
pub const LINK_SECONDS: u64 = 300;

fn facts(patient: EntityId, export: EntityId) -> Facts {
    Facts::patient(patient).with("export", export)
}

fn location(export: &Export) -> String {
    format!("/v1/patients/{}/exports/{}", export.patient_id, export.id)
}

/// An export as the API shows it.
fn to_json(export: &Export) -> Value {
    json!(export)
}

/// `POST /v1/patients/{patientId}/exports`: a new export, queued.
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    input.params(ctx.route.query)?;
    patients::load(&ctx, patient).await?;
    let export = Export::queued(ctx.new_id(), patient, ctx.clinic()?, ctx.actor(), ctx.now);
    let write = Guarded::new(
        Write::put(Table::Records, export.to_item(ctx.now), Cond::NotExists),
        ApiError::Conflict("an id collided; retry".into()),
    );
    let reply = Reply::created(to_json(&export), location(&export)).versioned(1);
    Ok(Outcome::Write(vec![write], reply, facts(patient, export.id)))
}

/// An export of the caller's clinic's patient; anything else is not found.
async fn load(ctx: &Ctx, input: &Input) -> Result<Export, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("exportId")?);
    let key = Export::key(ctx.clinic()?, patient, id);
    let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
    Ok(entity_from(item)?)
}

/// `GET /v1/patients/{patientId}/exports/{exportId}`: where it stands, and what it holds once ready.
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let export = load(&ctx, &input).await?;
    let reply = Reply::ok(to_json(&export)).versioned(export.version);
    Ok(Outcome::Read(reply, facts(export.patient_id, export.id)))
}

/// `GET /v1/patients/{patientId}/exports/{exportId}/download`: a link to the ZIP that works for five
/// minutes. Only a ready export's, before it is deleted.
pub async fn download(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let export = load(&ctx, &input).await?;
    if !export.downloadable(ctx.now) {
        return Err(match export.state {
            ExportState::Expired => {
                ApiError::Gone("the export's file was deleted seven days after it was ready".into())
            }
            ExportState::Ready => {
                ApiError::Gone("the export's file is past its seven days and is being deleted".into())
            }
            ExportState::Failed => ApiError::Conflict("the export failed; start a new one".into()),
            _ => ApiError::Conflict(format!("the export is {}; try again once it is ready", export.state)),
        });
    }
    let blobs = crate::exports::bucket(&ctx)?;
    let filename = format!("vellum-record-{}-{}.zip", export.patient_id, &export.requested_at[..10]);
    let expires_in = std::time::Duration::from_secs(LINK_SECONDS);
    let url = blobs
        .presign_get(&export.object_key(), &filename, expires_in)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let expires_at = ctx.now.timestamp() + LINK_SECONDS as i64;
    let body = json!({ "url": url, "expiresAt": expires_at, "filename": filename, "bytes": export.bytes });
    let mut facts = facts(export.patient_id, export.id);
    facts.resources.push(crate::domain::audit::Resource::new("download", &filename));
    Ok(Outcome::Read(Reply::ok(body), facts))
}
