//! A patient's answers to one form, checked against the exact template version they answered: every
//! required question answered (a yes/no follow-up only when the answer is yes), every answer of the
//! question's shape and within its limits. Errors name `answers.<templateId>.<questionId>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::template::{Question, QuestionKind, TemplateContent};
use crate::domain::fields::{Context, FieldError, ParseStr};
use crate::domain::values::{Date, EntityId};

/// The most entries an allergy or medication list may hold.
pub const MAX_LIST: usize = 50;
/// The largest drawn signature accepted (PNG bytes); a pad's drawing is a few tens of KiB.
pub const MAX_SIGNATURE_BYTES: usize = 64 * 1024;
/// The largest drawn signature accepted, in pixels a side.
pub const MAX_SIGNATURE_EDGE: u32 = 4000;

/// The PNG bytes of a drawn signature given as a `data:image/png;base64,` URL, if it is a PNG of a sane
/// size (read from its header: nothing is decoded here).
pub fn signature_png(drawing: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(drawing.strip_prefix("data:image/png;base64,")?).ok()?;
    if bytes.len() > MAX_SIGNATURE_BYTES || !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return None;
    }
    let (w, h) = image::ImageReader::with_format(std::io::Cursor::new(&bytes), image::ImageFormat::Png)
        .into_dimensions()
        .ok()?;
    (w > 0 && h > 0 && w <= MAX_SIGNATURE_EDGE && h <= MAX_SIGNATURE_EDGE).then_some(bytes)
}

fn text(value: &Value, max: usize) -> Result<(), String> {
    match value.as_str().map(str::trim) {
        Some("") => Err("must not be empty".into()),
        Some(t) if t.chars().count() > max => Err(format!("must be at most {max} characters")),
        Some(t) if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Err("must not hold control characters".into())
        }
        Some(_) => Ok(()),
        None => Err("must be text".into()),
    }
}

/// One allergy or medication of a list: an object whose `main` field is required, the others optional text.
fn list(value: &Value, main: &str, others: &[&str]) -> Result<(), String> {
    let items = value.as_array().ok_or("must be a list")?;
    if items.len() > MAX_LIST {
        return Err(format!("must hold at most {MAX_LIST} entries"));
    }
    for (i, item) in items.iter().enumerate() {
        let object = item.as_object().ok_or(format!("entry {} must be an object", i + 1))?;
        if let Some(unknown) = object.keys().find(|k| k.as_str() != main && !others.contains(&k.as_str())) {
            return Err(format!("entry {}: {unknown} is not a known field", i + 1));
        }
        text(object.get(main).unwrap_or(&Value::Null), 200).map_err(|m| format!("entry {}: {main} {m}", i + 1))?;
        for field in others {
            if let Some(v) = object.get(*field).filter(|v| !v.is_null()) {
                text(v, 200).map_err(|m| format!("entry {}: {field} {m}", i + 1))?;
            }
        }
    }
    Ok(())
}

/// Checks one present answer against its question.
fn answer(question: &Question, value: &Value, photos: &[EntityId]) -> Result<(), String> {
    let options = || question.options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>();
    match question.kind {
        QuestionKind::ShortText | QuestionKind::LongText => text(value, question.text_limit()),
        QuestionKind::Number => {
            let n = value.as_f64().ok_or("must be a number")?;
            let (lo, hi) = (question.min.unwrap_or(f64::MIN), question.max.unwrap_or(f64::MAX));
            if n < lo || n > hi {
                return Err(format!(
                    "must be from {} to {}",
                    question.min.unwrap_or(f64::MIN),
                    question.max.unwrap_or(f64::MAX)
                ));
            }
            Ok(())
        }
        QuestionKind::Date => {
            let s = value.as_str().ok_or("must be a date written YYYY-MM-DD")?;
            Date::parse_str(s, &Context::timeless()).map(|_| ())
        }
        QuestionKind::SingleChoice => match value.as_str() {
            Some(v) if options().contains(&v) => Ok(()),
            _ => Err(format!("must be one of: {}", options().join(", "))),
        },
        QuestionKind::MultipleChoice => {
            let chosen = value.as_array().ok_or("must be a list of choices")?;
            let mut seen = Vec::new();
            for c in chosen {
                match c.as_str() {
                    Some(v) if options().contains(&v) && !seen.contains(&v) => seen.push(v),
                    _ => return Err(format!("must list distinct choices from: {}", options().join(", "))),
                }
            }
            if question.required && seen.is_empty() {
                return Err("choose at least one".into());
            }
            Ok(())
        }
        QuestionKind::YesNo => value.as_bool().map(|_| ()).ok_or_else(|| "must be yes (true) or no (false)".into()),
        QuestionKind::AllergyList => list(value, "substance", &["reaction", "severity"]),
        QuestionKind::MedicationList => list(value, "name", &["dose", "frequency"]),
        QuestionKind::Signature => {
            let object = value.as_object().ok_or("must hold the typed name and the drawn signature")?;
            text(object.get("typedName").unwrap_or(&Value::Null), 200).map_err(|m| format!("typedName {m}"))?;
            let drawing = object.get("drawing").and_then(Value::as_str).unwrap_or("");
            signature_png(drawing).ok_or("the drawn signature must be a PNG data URL of at most 64 KiB")?;
            if object.keys().any(|k| k != "typedName" && k != "drawing") {
                return Err("must hold only typedName and drawing".into());
            }
            Ok(())
        }
        QuestionKind::Photo => {
            let id = value.as_str().and_then(EntityId::parse).ok_or("must be the id of an uploaded photo")?;
            if photos.contains(&id) { Ok(()) } else { Err("names no photo uploaded through this link".into()) }
        }
    }
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// The answers with every follow-up dropped whose question was not answered yes: what was not asked is
/// not kept.
pub fn asked_only(content: &TemplateContent, answers: &Value) -> Value {
    let mut kept = answers.clone();
    if let Some(map) = kept.as_object_mut() {
        for question in content.sections.iter().flat_map(|s| s.questions.iter()) {
            if let Some(follow) = &question.follow_up
                && map.get(&question.id).and_then(Value::as_bool) != Some(true)
            {
                map.remove(&follow.id);
            }
        }
    }
    kept
}

/// Checks the answers to one template for submission; `photos` are the photos uploaded through the link.
pub fn check(template_id: &str, content: &TemplateContent, answers: &Value, photos: &[EntityId]) -> Vec<FieldError> {
    let empty = Map::new();
    let field = |id: &str| format!("answers.{template_id}.{id}");
    let Some(given) = (match answers {
        Value::Null => Some(&empty),
        Value::Object(map) => Some(map),
        _ => None,
    }) else {
        return vec![FieldError::shape(
            format!("answers.{template_id}"),
            "must be an object of answers by question id",
        )];
    };
    let mut errors = Vec::new();
    let known: Vec<&str> = content.questions().map(|q| q.id.as_str()).collect();
    for id in given.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.push(FieldError::shape(field(id), "is not a question of this form"));
    }
    for section in &content.sections {
        for question in &section.questions {
            let value = given.get(&question.id);
            check_one(question, value, photos, &field, &mut errors);
            if let Some(follow) = &question.follow_up {
                let asked = value.and_then(Value::as_bool) == Some(true);
                let follow_value = given.get(&follow.id);
                if asked {
                    check_one(follow, follow_value, photos, &field, &mut errors);
                }
            }
        }
    }
    errors
}

fn check_one(
    question: &Question,
    value: Option<&Value>,
    photos: &[EntityId],
    field: &dyn Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) {
    if is_blank(value) {
        if question.required {
            errors.push(FieldError::rule(field(&question.id), "is required"));
        }
    } else if let Some(v) = value
        && let Err(message) = answer(question, v, photos)
    {
        errors.push(FieldError::rule(field(&question.id), message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forms::builtin;
    use serde_json::json;

    #[test]
    fn required_answers_and_follow_ups_are_asked_for_by_name() {
        let content = builtin::find("medical-history").unwrap().content();
        let unasked = asked_only(&content, &json!({"bleeding": false, "bleeding-details": "x"}));
        assert_eq!(unasked, json!({"bleeding": false}), "a follow-up not asked is not kept");
        let errors = check("medical-history", &content, &json!({"allergies": [], "bleeding": true}), &[]);
        let fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "answers.medical-history.medications",
                "answers.medical-history.pregnant",
                "answers.medical-history.keloids",
                "answers.medical-history.cold-sores",
                "answers.medical-history.bleeding-details",
            ]
        );
    }

    #[test]
    fn answers_of_the_wrong_shape_are_refused() {
        let content = builtin::find("aesthetic-consultation").unwrap().content();
        let answers = json!({
            "areas": ["lips", "nose"], "goals": "Fuller lips", "look": "subtle", "previous-treatments": false,
            "budget": -5, "photo": ulid::Ulid::new().to_string(), "shoe-size": 42,
        });
        let fields: Vec<String> = check("c", &content, &answers, &[]).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["answers.c.shoe-size", "answers.c.areas", "answers.c.budget", "answers.c.photo"]);
    }

    #[test]
    fn a_signature_needs_a_name_and_a_png_drawing() {
        let content = builtin::find("neurotoxin-consent").unwrap().content();
        let mut real = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut real),
            &[0u8; 3 * 8 * 4],
            8,
            4,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
        let png = format!("data:image/png;base64,{}", STANDARD.encode(&real));
        let ok = json!({"understood": true, "signature": {"typedName": "Ana García", "drawing": png}});
        assert!(check("n", &content, &ok, &[]).is_empty());
        let bad =
            json!({"understood": true, "signature": {"typedName": "Ana", "drawing": "data:image/jpeg;base64,AAAA"}});
        assert_eq!(check("n", &content, &bad, &[]).len(), 1);
    }
}
