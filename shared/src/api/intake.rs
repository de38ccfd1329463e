//! The patient's side of an invitation link, with no staff login: the page, what the forms need, draft
//! saves, photo uploads, and the submission. A wrong, expired or revoked link answers exactly as a link
//! that never existed (404); a link used up by its submission answers 410.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::api::photos::pending_photo;
use crate::domain::audit::Resource;
use crate::domain::forms::answers::{self, signature_png};
use crate::domain::forms::invitation::{
    Invitation, InvitationStatus, Signature, Submission, SubmittedForm, plausible_token, token_hash,
};
use crate::domain::forms::template::{QuestionKind, TemplateContent};
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::photo::{PhotoRequest, PhotoType};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::page::Page;
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Key, Table, Write, entity_from, entity_item};

const SCRIPT: &str = include_str!("../pages/intake.js");

/// The page with its script and style inlined, and the policy that allows exactly those.
static ASSEMBLED: LazyLock<Page> = LazyLock::new(|| Page::assemble("Your forms", SCRIPT, ""));

/// The invitation a link opens, if it still may be used.
async fn open(ctx: &Ctx, input: &Input) -> Result<Invitation, ApiError> {
    let token = input.path.get("token").map(String::as_str).unwrap_or("");
    if !plausible_token(token) {
        return Err(ApiError::NotFound);
    }
    let item = ctx.app.records.get(Table::Records, &Invitation::link_key(&token_hash(token))).await?;
    let invitation: Invitation = entity_from(item.ok_or(ApiError::NotFound)?)?;
    match invitation.status {
        InvitationStatus::Used => Err(ApiError::Gone("these forms were already sent to the clinic".into())),
        InvitationStatus::Revoked => Err(ApiError::NotFound),
        InvitationStatus::Active if invitation.expires_at <= ctx.now.timestamp() => Err(ApiError::NotFound),
        InvitationStatus::Active => {
            restricted(ctx, &invitation).await?;
            Ok(invitation)
        }
    }
}

/// A link of a patient whose record is restricted takes nothing new (GDPR Art. 18): it says so, and that
/// the clinic is the one to ask.
async fn restricted(ctx: &Ctx, invitation: &Invitation) -> Result<(), ApiError> {
    let key = Key::new(keys::clinic_pk(invitation.clinic_id), keys::patient_sk(invitation.patient_id));
    let patient: Option<Patient> = ctx.app.records.get(Table::Records, &key).await?.map(entity_from).transpose()?;
    match patient {
        Some(p) if p.restriction.is_none() => Ok(()),
        _ => Err(ApiError::Gone("this link no longer works: please contact the clinic".into())),
    }
}

/// The content of each of the link's forms, read from the template version it names.
async fn contents(ctx: &Ctx, invitation: &Invitation) -> Result<Vec<TemplateContent>, ApiError> {
    let mut contents = Vec::with_capacity(invitation.forms.len());
    for form in &invitation.forms {
        let stored = crate::api::forms::version(ctx, invitation.clinic_id, &form.template_id, form.version)
            .await?
            .ok_or_else(|| ApiError::Internal("an invitation's template version is missing".into()))?;
        contents.push(stored.content);
    }
    Ok(contents)
}

fn link_facts(invitation: &Invitation) -> Facts {
    Facts {
        resources: vec![Resource::new("patient", invitation.patient_id), Resource::new("invitation", invitation.id)],
        patient: Some(invitation.patient_id),
        clinic: Some(invitation.clinic_id),
        ..Facts::default()
    }
}

/// `GET /intake/{token}`: the page (no data: the page asks the API for it); a link that cannot be one is 404.
pub async fn page(_ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    if !input.path.get("token").is_some_and(|t| plausible_token(t)) {
        return Err(ApiError::NotFound);
    }
    let reply = ASSEMBLED.reply();
    Ok(Outcome::Read(reply, Facts::none()))
}

/// `GET /v1/intake/{token}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let invitation = open(&ctx, &input).await?;
    let saved = ctx.app.records.get(Table::Records, &Invitation::draft_key(&invitation.token_hash)).await?;
    let draft = saved.and_then(|mut item| item.remove("answers")).and_then(|a| a.as_object().cloned());
    let contents = contents(&ctx, &invitation).await?;
    let view = invitation.patient_view(&contents, &draft.unwrap_or_default());
    Ok(Outcome::Read(Reply::ok(view), link_facts(&invitation)))
}

/// The answers object of a body: by template id, each an object, for the link's forms only.
fn answers_of(invitation: &Invitation, body: &Value) -> Result<Map<String, Value>, ApiError> {
    let answers = body
        .get("answers")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::field("answers", "must be an object of answers by form (template id)"))?;
    if let Some(extra) = body.as_object().and_then(|o| o.keys().find(|k| *k != "answers")) {
        return Err(ApiError::field(extra, "is not a known field"));
    }
    for (template, value) in answers {
        if !invitation.forms.iter().any(|f| &f.template_id == template) {
            return Err(ApiError::unknown(&format!("answers.{template}"), "is not one of this link's forms"));
        }
        if !value.is_object() {
            return Err(ApiError::field(&format!("answers.{template}"), "must be an object of answers by question id"));
        }
    }
    Ok(answers.clone())
}

/// `PUT /v1/intake/{token}/draft` with `{"answers": {...}}`: saved as they are, checked at submission.
pub async fn save_draft(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let invitation = open(&ctx, &input).await?;
    let body = input.json(&["application/json"])?;
    let draft = answers_of(&invitation, &body)?;
    let saved = json!({"answers": draft, "savedAt": ctx.now_text(), "version": 1, "ttl": invitation.expires_at});
    let item = entity_item(&Invitation::draft_key(&invitation.token_hash), &saved);
    // The latest save wins; the link's own item is not touched (see `Invitation::draft_key`).
    let writes = vec![Guarded::new(Write::put(Table::Records, item, Cond::Always), ApiError::PreconditionFailed)];
    Ok(Outcome::Write(writes, Reply::ok(json!({"savedAt": ctx.now_text()})), link_facts(&invitation)))
}

/// `POST /v1/intake/{token}/photos` with `{"contentType", "byteSize"}`: a photo for the clinical record.
pub async fn request_photo(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let invitation = open(&ctx, &input).await?;
    let (content_type, byte_size) = input.form(ctx.rules(), |form| {
        form.only(&["contentType", "byteSize"]);
        let content_type: Option<PhotoType> = form.req("contentType");
        let size = form.number("byteSize", true, 1.0, crate::domain::photo::MAX_UPLOAD_BYTES as f64, "bytes");
        Some((content_type?, size? as u64))
    })?;
    if invitation.photo_ids.len() >= 10 {
        return Err(ApiError::Conflict("this link already took 10 photos".into()));
    }
    let request = PhotoRequest {
        content_type,
        byte_size,
        body_area: crate::domain::fields::ParseStr::parse_str("as sent by the patient", &ctx.rules())
            .map_err(ApiError::Internal)?,
        view: crate::domain::photo::StandardView::Other,
        captured_at: crate::domain::values::PastInstant::at(ctx.now),
        treatment_id: None,
        phase: None,
        consent: crate::domain::photo::ConsentScope::ClinicalRecord,
    };
    let uploader = ctx.actor();
    let (photo, upload, write) =
        pending_photo(&ctx, invitation.clinic_id, invitation.patient_id, request, uploader, Duration::from_secs(600))
            .await?;
    let mut photo_ids = invitation.photo_ids.clone();
    photo_ids.push(photo.id);
    let next = Invitation { photo_ids, version: invitation.version + 1, ..invitation.clone() };
    let retry = ApiError::Conflict("another request came first; send this one again".into());
    let writes = vec![
        write,
        Guarded::new(Write::put(Table::Records, next.link_item(), Cond::VersionIs(invitation.version)), retry),
    ];
    let mut facts = link_facts(&invitation);
    facts.resources.push(Resource::new("photo", photo.id));
    let body = json!({"photoId": photo.id, "upload": upload});
    Ok(Outcome::Write(writes, Reply::made(body), facts))
}

/// `POST /v1/intake/{token}/submit` with `{"answers": {...}}`: every form checked against the version it
/// answers; consents signed; the link used up.
pub async fn submit(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let invitation = open(&ctx, &input).await?;
    let body = input.json(&["application/json"])?;
    let given = answers_of(&invitation, &body)?;
    let contents = contents(&ctx, &invitation).await?;
    let mut errors = Vec::new();
    for (form, content) in invitation.forms.iter().zip(&contents) {
        let answers = given.get(&form.template_id).cloned().unwrap_or(Value::Null);
        errors.extend(answers::check(&form.template_id, content, &answers, &invitation.photo_ids));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid { errors });
    }
    let mut forms = Vec::new();
    let mut signatures = Vec::new();
    for (form, content) in invitation.forms.iter().zip(&contents) {
        let given = given.get(&form.template_id).cloned().unwrap_or_else(|| json!({}));
        let mut answers = answers::asked_only(content, &given);
        for question in content.questions().filter(|q| q.kind == QuestionKind::Signature) {
            let Some(signed) = answers.get(&question.id).filter(|v| v.is_object()).cloned() else { continue };
            let text = question.consent_text.clone().unwrap_or_default();
            let png = signed["drawing"].as_str().and_then(signature_png).unwrap_or_default();
            signatures.push(Signature {
                template_id: form.template_id.clone(),
                question_id: question.id.clone(),
                typed_name: signed["typedName"].as_str().unwrap_or("").trim().to_string(),
                drawing_png: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png),
                signed_at: ctx.now_text(),
                ip: ctx.meta.source_ip.clone(),
                user_agent: ctx.meta.user_agent.clone(),
                consent_text_sha256: crate::crypto::sha256_hex(text.as_bytes()),
                consent_text: text,
            });
            answers[&question.id] = json!({"signed": true, "typedName": signed["typedName"]});
        }
        forms.push(SubmittedForm {
            template_id: form.template_id.clone(),
            version: form.version,
            title: content.title.clone(),
            answers,
        });
    }
    let submission = Submission {
        id: ctx.new_id(),
        invitation_id: invitation.id,
        patient_id: invitation.patient_id,
        forms,
        signatures,
        submitted_at: ctx.now_text(),
        accepted: Vec::new(),
        version: 1,
    };
    let staff_key = Invitation::staff_key(invitation.clinic_id, invitation.patient_id, invitation.id);
    let staff_item = ctx.app.records.get(Table::Records, &staff_key).await?;
    let staff: Invitation =
        entity_from(staff_item.ok_or_else(|| ApiError::Internal("an invitation lost its staff copy".into()))?)?;
    let used = |i: &Invitation| Invitation {
        status: InvitationStatus::Used,
        submission_id: Some(submission.id),
        version: i.version + 1,
        ..i.clone()
    };
    let twice = || {
        ApiError::Conflict(
            "another request on this link came first (the forms sent twice, or a photo still uploading): \
             if the forms were not sent, send them again"
                .into(),
        )
    };
    let writes = vec![
        Guarded::new(
            Write::put(Table::Records, used(&invitation).link_item(), Cond::VersionIs(invitation.version)),
            twice(),
        ),
        Guarded::new(Write::put(Table::Records, used(&staff).staff_item(), Cond::VersionIs(staff.version)), twice()),
        Guarded::new(Write::put(Table::Records, submission.item(invitation.clinic_id), Cond::NotExists), twice()),
        // The draft goes with the submission (a save racing it leaves a draft that expires with the link).
        Guarded::new(
            Write::Delete {
                table: Table::Records,
                key: Invitation::draft_key(&invitation.token_hash),
                cond: Cond::Always,
            },
            twice(),
        ),
    ];
    let mut facts = link_facts(&invitation);
    facts.resources.push(Resource::new("submission", submission.id));
    let body = json!({"submissionId": submission.id, "submittedAt": submission.submitted_at});
    Ok(Outcome::Write(writes, Reply::made(body), facts))
}
