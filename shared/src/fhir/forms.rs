//! What a patient sent through a link: each form as a QuestionnaireResponse, each signed consent as a
//! Consent pointing at its PDF.

use serde_json::{Map, Value, json};

use super::{ResourceType, coded, patient_reference, record_id, version_meta};
use crate::domain::forms::invitation::{Submission, SubmittedForm};
use crate::domain::values::EntityId;

/// The canonical URL of a form template's version, which a response answers.
pub const FORMS: &str = "urn:vellum:form";
const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
const LOINC: &str = "http://loinc.org";

/// When a submission last changed: its sending, or the latest acceptance of its answers into the chart.
pub fn updated_at(submission: &Submission) -> String {
    let accepted = submission.accepted.iter().map(|a| a.at.as_str());
    accepted.chain([submission.submitted_at.as_str()]).max().unwrap_or_default().to_string()
}

/// Each form of the submission as a QuestionnaireResponse (ids end in `f1`, `f2`, … by the form's place).
pub fn responses(submission: &Submission) -> Vec<Value> {
    submission
        .forms
        .iter()
        .enumerate()
        .map(|(i, form)| {
            json!({
                "resourceType": ResourceType::QuestionnaireResponse.as_str(),
                "id": record_id(submission.patient_id, submission.id, Some(&format!("f{}", i + 1))),
                "meta": version_meta(submission.version, &updated_at(submission)),
                "identifier": { "system": "urn:vellum:submission", "value": submission.id.to_string() },
                "questionnaire": format!("{FORMS}:{}|{}", form.template_id, form.version),
                "status": "completed",
                "subject": patient_reference(submission.patient_id),
                "authored": submission.submitted_at,
                "author": patient_reference(submission.patient_id),
                "source": patient_reference(submission.patient_id),
                "item": items(submission.patient_id, form),
            })
        })
        .collect()
}

/// The answered questions of a form, in the order of their ids; a list (allergies, medications) is a
/// repeated group with an item per field.
fn items(patient: EntityId, form: &SubmittedForm) -> Vec<Value> {
    let Some(answers) = form.answers.as_object() else { return Vec::new() };
    answers.iter().flat_map(|(question, value)| item(patient, question, value)).collect()
}

/// One question's items: none when unanswered, one per entry of a list.
fn item(patient: EntityId, question: &str, value: &Value) -> Vec<Value> {
    match value {
        Value::Array(values) if values.iter().all(Value::is_object) => values
            .iter()
            .filter_map(Value::as_object)
            .map(|fields| json!({ "linkId": question, "item": group(patient, fields) }))
            .filter(|group| group["item"].as_array().is_some_and(|i| !i.is_empty()))
            .collect(),
        _ => {
            let answers = answers(patient, value);
            if answers.is_empty() { Vec::new() } else { vec![json!({ "linkId": question, "answer": answers })] }
        }
    }
}

/// The fields of one entry of a list, as items.
fn group(patient: EntityId, fields: &Map<String, Value>) -> Vec<Value> {
    fields.iter().flat_map(|(field, value)| item(patient, field, value)).collect()
}

/// An answer's values, by their JSON shape: text (a date when it is one, a photo when it names one), a
/// yes/no, a number, chosen options, or a signature (the name typed; the Consent holds the rest).
fn answers(patient: EntityId, value: &Value) -> Vec<Value> {
    match value {
        Value::String(text) if text.trim().is_empty() => Vec::new(),
        Value::String(text) => {
            if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() && text.len() == 10 {
                vec![json!({ "valueDate": text })]
            } else if let Some(photo) = EntityId::parse(text) {
                vec![json!({ "valueReference": { "reference": format!("Media/{}", record_id(patient, photo, None)) } })]
            } else {
                vec![json!({ "valueString": text })]
            }
        }
        Value::Bool(b) => vec![json!({ "valueBoolean": b })],
        Value::Number(n) => match n.as_i64().filter(|i| i32::try_from(*i).is_ok()) {
            Some(i) => vec![json!({ "valueInteger": i })],
            None => vec![json!({ "valueDecimal": n })],
        },
        Value::Array(chosen) => {
            chosen.iter().filter_map(Value::as_str).map(|c| json!({ "valueCoding": { "code": c } })).collect()
        }
        Value::Object(signed) => signed
            .get("typedName")
            .and_then(Value::as_str)
            .map(|name| vec![json!({ "valueString": format!("Signed: {name}") })])
            .unwrap_or_default(),
        Value::Null => Vec::new(),
    }
}

/// Each signed consent of the submission as a Consent (ids end in `c1`, `c2`, … by the signature's place),
/// its signed PDF at the JSON API's route under `origin`.
pub fn consents(submission: &Submission, origin: &str) -> Vec<Value> {
    submission
        .signatures
        .iter()
        .enumerate()
        .map(|(i, signature)| {
            let title = submission
                .forms
                .iter()
                .find(|f| f.template_id == signature.template_id)
                .map_or("Consent", |f| f.title.as_str());
            let pdf = format!(
                "{origin}/v1/patients/{}/submissions/{}/consents/{}",
                submission.patient_id, submission.id, signature.template_id
            );
            json!({
                "resourceType": ResourceType::Consent.as_str(),
                "id": record_id(submission.patient_id, submission.id, Some(&format!("c{}", i + 1))),
                "meta": version_meta(submission.version, &updated_at(submission)),
                "identifier": [{ "system": "urn:vellum:consent-text-sha256", "value": signature.consent_text_sha256 }],
                "status": "active",
                "scope": coded(CONSENT_SCOPE, "treatment", Some("Treatment")),
                "category": [coded(LOINC, "59284-0", Some("Patient Consent"))],
                "patient": patient_reference(submission.patient_id),
                "dateTime": signature.signed_at,
                "performer": [patient_reference(submission.patient_id)],
                "sourceAttachment": { "contentType": "application/pdf", "url": pdf, "title": title },
                "policyRule": { "text": format!("{title}, as signed (form {})", signature.template_id) },
                "provision": { "type": "permit" },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_typed_by_its_value() {
        let patient = EntityId::parse("01JD0000000000000000000002").unwrap();
        let typed = |v: Value| answers(patient, &v);
        assert_eq!(typed(json!("2026-05-01")), [json!({"valueDate": "2026-05-01"})]);
        assert_eq!(typed(json!("Hives")), [json!({"valueString": "Hives"})]);
        assert_eq!(typed(json!(" ")), Vec::<Value>::new());
        assert_eq!(typed(json!(true)), [json!({"valueBoolean": true})]);
        assert_eq!(typed(json!(3)), [json!({"valueInteger": 3})]);
        assert_eq!(typed(json!(3.5)), [json!({"valueDecimal": 3.5})]);
        assert_eq!(typed(json!(["a", "b"])).len(), 2);
        assert_eq!(
            typed(json!("01JD0000000000000000000009")),
            [json!({"valueReference": {"reference": "Media/01JD0000000000000000000002-01JD0000000000000000000009"}})]
        );
        assert_eq!(typed(json!({"signed": true, "typedName": "Ana"})), [json!({"valueString": "Signed: Ana"})]);
        let listed =
            item(patient, "allergies", &json!([{"substance": "Latex"}, {"substance": "Penicillin", "reaction": null}]));
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1]["item"], json!([{"linkId": "substance", "answer": [{"valueString": "Penicillin"}]}]));
    }
}
