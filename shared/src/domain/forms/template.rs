//! Form templates: sections of typed questions, with required flags, help text and limits. Checked as a
//! whole when a clinic saves one; every save is a new version, and a submission names the version it
//! answered.

use serde::{Deserialize, Serialize};

use crate::domain::fields::FieldError;

crate::string_enum! {
    /// What a question asks for.
    QuestionKind {
        ShortText = "short-text",
        LongText = "long-text",
        Number = "number",
        Date = "date",
        SingleChoice = "single-choice",
        MultipleChoice = "multiple-choice",
        YesNo = "yes-no",
        AllergyList = "allergy-list",
        MedicationList = "medication-list",
        Signature = "signature",
        Photo = "photo",
    }
}

/// One choice of a choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub required: bool,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Numbers: the smallest and largest accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Text: the longest accepted answer.
    #[serde(default, deserialize_with = "whole_number", skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Yes/no: a question shown (and, if required, asked) only when the answer is yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Box<Question>>,
    /// Signatures: the exact text the patient signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_text: Option<String>,
}

/// A titled group of questions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Section {
    pub title: String,
    pub questions: Vec<Question>,
}

/// What a clinic writes: a template's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateContent {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub sections: Vec<Section>,
}

/// The most questions a template may hold (follow-ups included).
pub const MAX_QUESTIONS: usize = 200;
/// The longest text answer any question may accept.
pub const MAX_TEXT: usize = 10_000;

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

/// Checks a template id: lower-case letters, digits and hyphens, 1 to 64.
pub fn valid_template_id(id: &str) -> bool {
    is_slug(id)
}

/// Text of 1 to `max` characters as sent, not blank, without control characters but line breaks and
/// tabs (the OpenAPI document's `trimmed_text(max, true)`).
fn text_ok(s: &str, max: usize) -> bool {
    let t = s.trim();
    !t.is_empty() && s.chars().count() <= max && !t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// A whole number, however JSON writes it (`431` or `431.0`); a fraction, a negative or one too large
/// is refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Ok(Some(n as usize)),
        Some(n) => Err(serde::de::Error::custom(format!("{n} is not a whole number of characters"))),
    }
}

/// A `null` where a list or a flag may be left out means the same as leaving it out.
fn null_as_default<'de, D: serde::Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Question {
    /// The longest text answer accepted.
    pub fn text_limit(&self) -> usize {
        self.max_length.unwrap_or(if self.kind == QuestionKind::LongText { 5000 } else { 200 })
    }

    fn check(&self, path: &str, ids: &mut Vec<String>, errors: &mut Vec<FieldError>) {
        let rule = |errors: &mut Vec<FieldError>, field: &str, m: &str| {
            errors.push(FieldError::rule(format!("{path}.{field}"), m))
        };
        if !is_slug(&self.id) {
            rule(errors, "id", "must be 1 to 64 lower-case letters, digits or hyphens");
        } else if ids.contains(&self.id) {
            rule(errors, "id", "is used by another question of this template");
        } else {
            ids.push(self.id.clone());
        }
        if !text_ok(&self.label, 500) {
            rule(errors, "label", "must be 1 to 500 characters");
        }
        if self.help.as_deref().is_some_and(|h| !text_ok(h, 2000)) {
            rule(errors, "help", "must be 1 to 2000 characters");
        }
        let choices = matches!(self.kind, QuestionKind::SingleChoice | QuestionKind::MultipleChoice);
        if choices {
            let mut values: Vec<&str> = self.options.iter().map(|o| o.value.as_str()).collect();
            values.sort();
            values.dedup();
            if self.options.len() < 2 || self.options.len() > 50 || values.len() != self.options.len() {
                rule(errors, "options", "must hold 2 to 50 choices with distinct values");
            }
            if self.options.iter().any(|o| !text_ok(&o.value, 100) || !text_ok(&o.label, 200)) {
                rule(errors, "options", "every choice needs a value (up to 100 characters) and a label (up to 200)");
            }
        } else if !self.options.is_empty() {
            rule(errors, "options", "are only for choice questions");
        }
        if (self.min.is_some() || self.max.is_some()) && self.kind != QuestionKind::Number {
            rule(errors, "min", "min and max are only for number questions");
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            rule(errors, "max", "must not be below min");
        }
        if let Some(limit) = self.max_length
            && (!matches!(self.kind, QuestionKind::ShortText | QuestionKind::LongText)
                || limit == 0
                || limit > MAX_TEXT)
        {
            rule(errors, "maxLength", &format!("is only for text questions, from 1 to {MAX_TEXT}"));
        }
        match (&self.follow_up, self.kind) {
            (Some(follow), QuestionKind::YesNo) => {
                if follow.follow_up.is_some() {
                    rule(errors, "followUp.followUp", "a follow-up cannot have a follow-up of its own");
                }
                follow.check(&format!("{path}.followUp"), ids, errors);
            }
            (Some(_), _) => rule(errors, "followUp", "is only for yes/no questions"),
            (None, _) => {}
        }
        match (&self.consent_text, self.kind) {
            (Some(text), QuestionKind::Signature) if !text_ok(text, 20_000) => {
                rule(errors, "consentText", "must be 1 to 20,000 characters")
            }
            (None, QuestionKind::Signature) => rule(errors, "consentText", "is required: it is what the patient signs"),
            (Some(_), kind) if kind != QuestionKind::Signature => rule(errors, "consentText", "is only for signatures"),
            _ => {}
        }
    }

    /// This question and its follow-up, if any.
    pub fn with_follow_up(&self) -> impl Iterator<Item = &Question> {
        std::iter::once(self).chain(self.follow_up.as_deref())
    }
}

impl TemplateContent {
    /// Every rule a template must keep, as field errors (empty when it is sound).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !text_ok(&self.title, 200) {
            errors.push(FieldError::rule("title", "must be 1 to 200 characters"));
        }
        if self.description.as_deref().is_some_and(|d| !text_ok(d, 5000)) {
            errors.push(FieldError::rule("description", "must be 1 to 5000 characters"));
        }
        if self.sections.is_empty() || self.sections.len() > 30 {
            errors.push(FieldError::rule("sections", "must hold 1 to 30 sections"));
        }
        let mut ids = Vec::new();
        for (s, section) in self.sections.iter().enumerate() {
            if !text_ok(&section.title, 200) {
                errors.push(FieldError::rule(format!("sections[{s}].title"), "must be 1 to 200 characters"));
            }
            if section.questions.is_empty() {
                errors.push(FieldError::rule(format!("sections[{s}].questions"), "must hold at least one question"));
            }
            for (q, question) in section.questions.iter().enumerate() {
                question.check(&format!("sections[{s}].questions[{q}]"), &mut ids, &mut errors);
            }
        }
        if ids.len() > MAX_QUESTIONS {
            errors.push(FieldError::rule("sections", format!("must hold at most {MAX_QUESTIONS} questions")));
        }
        errors
    }

    /// Every question, follow-ups included, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter()).flat_map(Question::with_follow_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(questions: serde_json::Value) -> TemplateContent {
        serde_json::from_value(json!({"title": "T", "sections": [{"title": "S", "questions": questions}]})).unwrap()
    }

    #[test]
    fn a_sound_template_has_no_errors_and_a_broken_one_names_each_fault() {
        let sound = content(json!([
            {"id": "smoker", "kind": "yes-no", "label": "Do you smoke?", "followUp": {"id": "per-day", "kind": "number", "label": "How many a day?", "min": 0, "max": 100}},
            {"id": "sign", "kind": "signature", "label": "Sign", "required": true, "consentText": "I agree."},
        ]));
        assert!(sound.check().is_empty(), "{:?}", sound.check());
        let broken = content(json!([
            {"id": "Bad Id", "kind": "single-choice", "label": "Pick", "options": [{"value": "a", "label": "A"}]},
            {"id": "dup", "kind": "short-text", "label": "x", "min": 1},
            {"id": "dup", "kind": "signature", "label": "Sign"},
        ]));
        let fields: Vec<String> = broken.check().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "sections[0].questions[0].id",
                "sections[0].questions[0].options",
                "sections[0].questions[1].min",
                "sections[0].questions[2].id",
                "sections[0].questions[2].consentText"
            ]
        );
    }

    #[test]
    fn every_built_in_template_is_sound() {
        for builtin in crate::domain::forms::builtin::ALL {
            let content = builtin.content();
            assert!(content.check().is_empty(), "{}: {:?}", builtin.id, content.check());
        }
    }
}
