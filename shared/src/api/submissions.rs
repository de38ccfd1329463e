//! Staff review of what patients sent: submissions per patient, the signed consents as PDFs, and the
//! acceptance of answered allergies and medications into the chart. Nothing a patient wrote changes the
//! chart until a member of staff accepts it, and what is accepted says where it came from.

use serde_json::{Value, json};

use super::chart::{new_entry, query_all};
use super::chart_guard::ChartChange;
use super::{forms, patients};
use crate::domain::audit::Resource;
use crate::domain::chart::{ChartKind, Source};
use crate::domain::clinic::Clinic;
use crate::domain::fields::Issue;
use crate::domain::forms::invitation::{Accepted, Signature, Submission};
use crate::domain::forms::pdf::consent_pdf;
use crate::domain::forms::template::QuestionKind;
use crate::domain::keys;
use crate::domain::patient::Patient;
use crate::domain::values::EntityId;
use crate::http::input::{Input, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from};

async fn load(ctx: &Ctx, patient: EntityId, id: EntityId) -> Result<Submission, ApiError> {
    let item = ctx.app.records.get(Table::Records, &Submission::key(ctx.clinic()?, patient, id)).await?;
    Ok(entity_from(item.ok_or(ApiError::NotFound)?)?)
}

fn facts(patient: EntityId, submission: EntityId) -> Facts {
    Facts::patient(patient).with("submission", submission)
}

/// `GET /v1/patients/{patientId}/submissions`, newest first.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient = input.entity("patientId")?;
    input.params(ctx.route.query)?;
    patients::load(&ctx, patient).await?;
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(Submission::PREFIX.into()));
    let submissions: Vec<Submission> =
        query_all(&ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let items: Vec<Value> = submissions.iter().rev().map(Submission::to_json).collect();
    Ok(Outcome::Read(Reply::ok(json!({"items": items})), Facts::patient(patient)))
}

/// `GET /v1/patients/{patientId}/submissions/{submissionId}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("submissionId")?);
    let submission = load(&ctx, patient, id).await?;
    Ok(Outcome::Read(Reply::ok(submission.to_json()).versioned(submission.version), facts(patient, id)))
}

/// `GET /v1/patients/{patientId}/submissions/{submissionId}/consents/{templateId}`: the signed consent as a PDF.
pub async fn consent(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (patient_id, id) = (input.entity("patientId")?, input.entity("submissionId")?);
    let template = input.path.get("templateId").cloned().unwrap_or_default();
    let submission = load(&ctx, patient_id, id).await?;
    let signature = submission.signatures.iter().find(|s| s.template_id == template).ok_or(ApiError::NotFound)?;
    let patient = patients::load(&ctx, patient_id).await?;
    let pdf = signed_consent_pdf(&clinic_of(&ctx).await?, &patient, &submission, signature);
    let mut facts = facts(patient_id, id);
    facts.resources.push(Resource::new("consent", &template));
    Ok(Outcome::Read(Reply::bytes("application/pdf", pdf), facts))
}

/// The caller's clinic.
pub async fn clinic_of(ctx: &Ctx) -> Result<Clinic, ApiError> {
    let item =
        ctx.app.records.get(Table::Records, &Key::new(keys::clinic_pk(ctx.clinic()?), keys::CLINIC_PROFILE)).await?;
    Ok(entity_from(item.ok_or_else(|| ApiError::Internal("the caller's clinic is missing".into()))?)?)
}

/// A signature of a submission as its signed PDF: the clinic, the patient as the record names them, the
/// form's title and the signature.
pub fn signed_consent_pdf(
    clinic: &Clinic,
    patient: &Patient,
    submission: &Submission,
    signature: &Signature,
) -> Vec<u8> {
    let template = &signature.template_id;
    let title = submission.forms.iter().find(|f| &f.template_id == template).map_or("Consent", |f| f.title.as_str());
    let d = &patient.details;
    let who = format!(
        "{} {}, born {}, record {}",
        d.given_name.as_str(),
        d.family_name.as_str(),
        d.birth_date.0,
        patient.mrn
    );
    consent_pdf(clinic.name.as_str(), &who, title, signature)
}

/// One answer to accept: a form, a list question, and an entry of the list (none: "no allergies").
struct Pick {
    template_id: String,
    question_id: String,
    index: Option<usize>,
}

/// The most answers one acceptance takes: each is two writes (the entry and its history copy) of one
/// transaction.
pub const MAX_PICKS: usize = 45;

fn read_picks(form: &crate::domain::fields::Form<'_>) -> Option<Vec<Pick>> {
    form.only(&["items"]);
    form.objects("items", 1, MAX_PICKS, |item| {
        item.only(&["templateId", "questionId", "index"]);
        let template: Option<crate::domain::values::ShortText> = item.req("templateId");
        let question: Option<crate::domain::values::ShortText> = item.req("questionId");
        let index = match item.number("index", false, 0.0, 49.0, "") {
            Some(i) if i.fract() != 0.0 => {
                item.reject("index", Issue::Rule("must be a whole number".into()));
                return None;
            }
            other => other.map(|i| i as usize),
        };
        Some(Pick { template_id: template?.as_str().to_string(), question_id: question?.as_str().to_string(), index })
    })
}

/// `POST /v1/patients/{patientId}/submissions/{submissionId}/accept` with `{"items": [{templateId,
/// questionId, index}]}`: each answered allergy or medication becomes a chart entry with patient-entered
/// provenance pointing at the submission (an allergy list answered empty becomes "no known allergies").
pub async fn accept(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let (patient, id) = (input.entity("patientId")?, input.entity("submissionId")?);
    let body = input.json(&["application/json"])?;
    let picks = read_form(&body, ctx.rules(), read_picks)?;
    let submission = load(&ctx, patient, id).await?;
    let mut writes: Vec<Guarded> = Vec::new();
    let mut accepted = submission.accepted.clone();
    let mut created = Vec::new();
    let mut change = ChartChange::new(ctx.clinic()?, patient);
    for (i, pick) in picks.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let not_a_list = || {
            ApiError::unknown(&field("questionId"), "names no answered allergy or medication list of this submission")
        };
        let form = submission.forms.iter().find(|f| f.template_id == pick.template_id).ok_or_else(not_a_list)?;
        // The question's kind comes from the exact template version the patient answered.
        let template = forms::version(&ctx, ctx.clinic()?, &form.template_id, form.version)
            .await?
            .ok_or_else(|| ApiError::Internal("a submission's template version is missing".into()))?;
        let is_allergy_list = match template.content.questions().find(|q| q.id == pick.question_id).map(|q| q.kind) {
            Some(QuestionKind::AllergyList) => true,
            Some(QuestionKind::MedicationList) => false,
            _ => return Err(not_a_list()),
        };
        let answer = form.answers.get(&pick.question_id).and_then(Value::as_array).ok_or_else(not_a_list)?;
        if accepted
            .iter()
            .any(|a| a.template_id == pick.template_id && a.question_id == pick.question_id && a.index == pick.index)
        {
            return Err(ApiError::Conflict(format!("items[{i}] was already accepted into the chart")));
        }
        let (kind, data) = match pick.index {
            None if answer.is_empty() && is_allergy_list => (ChartKind::Allergy, json!({"noKnownAllergies": true})),
            None if answer.is_empty() => {
                return Err(ApiError::field_rule(
                    &field("questionId"),
                    "the patient listed no medicines: there is nothing to accept",
                ));
            }
            None => {
                return Err(ApiError::field_rule(&field("index"), "is required: name the entry of the list to accept"));
            }
            Some(n) => {
                let entry = answer
                    .get(n)
                    .ok_or_else(|| ApiError::field_rule(&field("index"), "is past the end of the list"))?;
                let keep = |names: &[&str]| -> Value {
                    Value::Object(
                        names
                            .iter()
                            .filter_map(|k| entry.get(*k).filter(|v| !v.is_null()).map(|v| (k.to_string(), v.clone())))
                            .collect(),
                    )
                };
                if is_allergy_list {
                    let mut data = keep(&["substance", "reaction"]);
                    // A patient's own words for severity are kept only when they name one of the grades.
                    if let Some(severity) = entry.get("severity").and_then(Value::as_str)
                        && crate::domain::chart::allergy::Severity::ALL.iter().any(|s| s.as_str() == severity)
                    {
                        data["severity"] = json!(severity);
                    }
                    (ChartKind::Allergy, data)
                } else {
                    (ChartKind::Medication, keep(&["name", "dose", "frequency"]))
                }
            }
        };
        let content = read_form(&data, ctx.rules(), |form| kind.read_new(form)).map_err(|_| {
            ApiError::field_rule(&field("index"), "this answer cannot become a chart entry as it is: record it by hand")
        })?;
        let source = Source::PatientEntered { submission_id: id };
        let (entry, entry_writes) = new_entry(&ctx, &mut change, kind, content, source, Vec::new()).await?;
        writes.extend(entry_writes);
        accepted.push(Accepted {
            kind: kind.as_str().into(),
            entry_id: entry.id,
            template_id: pick.template_id.clone(),
            question_id: pick.question_id.clone(),
            index: pick.index,
            by: ctx.actor(),
            at: ctx.now_text(),
        });
        created.push(entry.to_json());
    }
    writes.extend(change.guard_writes());
    let next = Submission { accepted, version: submission.version + 1, ..submission.clone() };
    writes.push(Guarded::new(
        Write::put(Table::Records, next.item(ctx.clinic()?), Cond::VersionIs(submission.version)),
        ApiError::Conflict("the submission was reviewed by someone else meanwhile; reload it".into()),
    ));
    let mut facts = facts(patient, id);
    facts.resources.extend(created.iter().filter_map(|e| e["id"].as_str()).map(|e| Resource::new("chart-entry", e)));
    let body = json!({"submission": next.to_json(), "created": created});
    Ok(Outcome::Write(writes, Reply::ok(body).versioned(next.version), facts))
}
