//! JSON Schema fragments for what the value types accept, in the regular-expression dialect that
//! ECMA-262, Python and Rust's `regex` share, so the OpenAPI document states each type's own rule.

use serde_json::{Value, json};

/// Unicode's White_Space characters (what `str::trim` removes), as a class body.
pub const SPACE: &str = "\\t\\n\\x0B\\x0C\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// Unicode's control characters (`char::is_control`), as a class body.
pub const CONTROL: &str = "\\x00-\\x1F\\x7F-\\x9F";
/// The control characters a multi-line text keeps besides line breaks and tabs, as a class body.
const CONTROL_BUT_LINES: &str = "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F";

/// A string matching `pattern` (anchored by the caller).
pub fn pattern(pattern: impl Into<String>) -> Value {
    json!({"type": "string", "pattern": pattern.into()})
}

/// Text that is kept trimmed: 1 to `max` characters once surrounding white space is dropped, without
/// control characters (but line breaks and tabs where `multiline`).
pub fn trimmed_text(max: usize, multiline: bool) -> Value {
    let inner = if multiline { format!("[^{CONTROL_BUT_LINES}]") } else { format!("[^{CONTROL}]") };
    let edge = if multiline { format!("[^{CONTROL_BUT_LINES}{SPACE}]") } else { format!("[^{CONTROL}{SPACE}]") };
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": max,
        "pattern": format!("^[{SPACE}]*{edge}({inner}*{edge})?[{SPACE}]*$"),
    })
}

/// Trimmed text matching `core` (a pattern without anchors) once surrounding white space is dropped.
pub fn trimmed(core: &str) -> Value {
    pattern(format!("^[{SPACE}]*({core})[{SPACE}]*$"))
}

/// A body's field given: present and not `null` (which means absent).
pub fn given(field: &str) -> Value {
    json!({"required": [field], "properties": {field: {"not": {"type": "null"}}}})
}

/// A body's field absent (or `null`).
pub fn absent(field: &str) -> Value {
    json!({"properties": {field: {"type": "null"}}})
}

/// At least one of a body's fields given.
pub fn any_given(fields: &[&str]) -> Value {
    json!({"anyOf": fields.iter().map(|f| given(f)).collect::<Vec<_>>()})
}

/// One of a fixed list of strings.
pub fn one_of<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> Value {
    json!({"enum": values.into_iter().map(|v| v.to_string()).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Days, NaiveDate};
    use serde_json::Value;

    use crate::domain::break_glass::Scope;
    use crate::domain::chart::icd10::Icd10Code;
    use crate::domain::chart::treatment::LotNumber;
    use crate::domain::fields::{Context, ParseStr};
    use crate::domain::patient::SexAtBirth;
    use crate::domain::safety::{ProcedureId, ProductId, RxNormCode};
    use crate::domain::scheduling::booking::BookingSlug;
    use crate::domain::scheduling::hours::LocalTime;
    use crate::domain::values::*;

    fn ctx() -> Context {
        Context::at(NaiveDate::from_ymd_opt(2026, 6, 15).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc())
    }

    fn date(s: &str) -> Option<NaiveDate> {
        (s.len() == 10).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten()
    }

    /// Whether `schema` accepts the string `s`, for the keywords the value types use; the formats of our
    /// own (`past-…`) as their descriptions say.
    fn accepts(schema: &Value, s: &str) -> bool {
        let earliest = NaiveDate::from_ymd_opt(1880, 1, 1).unwrap();
        let chars = s.chars().count() as u64;
        let format_ok = match schema.get("format").and_then(Value::as_str) {
            None => true,
            Some("date") => date(s).is_some(),
            Some("past-date") => {
                date(s).is_some_and(|d| d >= earliest && d <= ctx().today.checked_add_days(Days::new(1)).unwrap())
            }
            Some("past-date-time") => DateTime::parse_from_rfc3339(s)
                .is_ok_and(|t| t.to_utc() <= ctx().now + chrono::Duration::minutes(5) && t.date_naive() >= earliest),
            Some(other) => panic!("a format the test does not know: {other}"),
        };
        format_ok
            && schema["pattern"].as_str().is_none_or(|p| regex::Regex::new(p).unwrap().is_match(s))
            && schema["minLength"].as_u64().is_none_or(|m| chars >= m)
            && schema["maxLength"].as_u64().is_none_or(|m| chars <= m)
            && schema["enum"].as_array().is_none_or(|values| values.iter().any(|v| v == s))
            && schema.get("not").is_none_or(|not| !accepts(not, s))
            && schema["allOf"].as_array().is_none_or(|all| all.iter().all(|part| accepts(part, s)))
            && schema["anyOf"].as_array().is_none_or(|any| any.iter().any(|part| accepts(part, s)))
    }

    /// The type accepts exactly the probes its schema accepts.
    fn agree<T: ParseStr>(probes: &[&str]) {
        let schema = T::schema();
        for probe in probes {
            let parsed = T::parse_str(probe, &ctx()).is_ok();
            assert_eq!(parsed, accepts(&schema, probe), "{} on {probe:?}: {schema}", std::any::type_name::<T>());
        }
    }

    const AROUND_TEXT: &[&str] = &[
        "",
        " ",
        "a",
        " a ",
        "\ta\n",
        "a b",
        "a\nb",
        "a\tb",
        "a\u{7}",
        "\u{85}a\u{3000}",
        "\u{1c}a",
        "a\u{200b}",
        "Élodie",
    ];

    #[test]
    fn every_value_type_s_schema_accepts_what_it_accepts() {
        let long = "x".repeat(201);
        agree::<ShortText>(
            &[AROUND_TEXT, &[long.as_str(), &"x".repeat(200), &format!(" {} ", "x".repeat(200))]].concat(),
        );
        agree::<LongText>(&[AROUND_TEXT, &["line\r\nline", "\u{b}a", "a\u{b}b"]].concat());
        agree::<Email>(&[
            "nurse.joy@clinic.example",
            " a@b.co ",
            "0@0.com",
            "a@EXAMPLE.org",
            "",
            "plain",
            "a@b",
            "a@@b.org",
            "a b@c.org",
            "@c.org",
            "a@-c.org",
            "a@c.o",
            ".a@b.co",
            "a.@b.co",
            "é@b.co",
            "a@bü.co",
            "a@b..co",
            &format!("{}@b.co", "x".repeat(64)),
            &format!("{}@b.co", "x".repeat(65)),
        ]);
        agree::<Phone>(&["+14155550123", "+1000000", "4155550123", "+0123456789", "+1 415 555", "+1234567890123456"]);
        agree::<Date>(&["2026-02-28", "2026-02-30", "26-01-01", "2026-1-1", "0001-01-01", " 2026-01-01"]);
        agree::<BirthDate>(&["1990-02-28", "2026-06-16", "2026-06-17", "1879-12-31", "1880-01-01", "1990-02-30"]);
        agree::<PastInstant>(&[
            "2026-06-15T08:00:00-04:00",
            "2026-06-15T12:04:00Z",
            "2026-06-15T12:06:00Z",
            "2026-06-15",
            "yesterday",
            "1850-01-01T00:00:00Z",
            "2000-01-01T00:00:00.123456Z",
        ]);
        agree::<CountryCode>(&["US", "FR", "XX", "U", "USA"]);
        agree::<TimeZoneName>(&["America/New_York", "Europe/Paris", "UTC", "Mars/Olympus", ""]);
        agree::<LanguageTag>(&["en", "es-MX", "zh-Hant", "english!", "e", "en-", "en-123456789", "abcd"]);
        agree::<PostalCode>(&["94105", "SW1A 1AA", " 75001 ", "A-1", "-", "", " ", "ab_c", &"1".repeat(17)]);
        agree::<UserId>(&["2f1c9c1e-6d1b-4b8f", "dr.rivera+1@x", "has space", "", &"u".repeat(128), &"u".repeat(129)]);
        agree::<EntityId>(&[
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "01arz3ndektsv4rrffq69g5fav",
            "81ARZ3NDEKTSV4RRFFQ69G5FAV",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
            "01ARZ3NDEKTSV4RRFFQ69G5FAI",
            "",
        ]);
        agree::<BookingSlug>(&["glow-spa", "ab", "abc", "-abc", "abc-", "Glow", "confirm", "confirmations", "a_b"]);
        agree::<LocalTime>(&["00:00", "09:05", "09:07", "24:00", "24:05", "23:55", "9:00", "12:60"]);
        agree::<Icd10Code>(&["L70.0", " l70.0 ", "L74.510", "L7", "L70.", "L70.12345", "170.0"]);
        agree::<LotNumber>(&["C7788A1", " c77-88/a.1 ", "--", " ", "A B", &"A".repeat(40), &"A".repeat(41)]);
        agree::<Scope>(&["photos", "note", "allergy", "x"]);
        agree::<SexAtBirth>(&["female", "Female", ""]);
        agree::<ProductId>(&[
            "restylane-l",
            "Restylane-L",
            " restylane-l",
            "miracle-gel",
            "",
            "01JD0000000000000000000099",
            "01jd0000000000000000000099",
        ]);
        agree::<ProcedureId>(&["deep-peel", "deep peel", "Deep-Peel", ""]);
        agree::<RxNormCode>(&["6064", "R6064", " 6064", "12345678901", "1234567890", ""]);
    }
}
