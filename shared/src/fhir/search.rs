//! A FHIR search's parameters, read from the query string against the type's own: anything unknown,
//! repeated or malformed is refused, never ignored.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{ResourceType, SearchParam};
use crate::domain::values::EntityId;
use crate::http::problem::ApiError;

/// Resources per page unless `_count` says otherwise, and at most.
pub const DEFAULT_COUNT: usize = 20;
pub const MAX_COUNT: usize = 100;

/// One `_lastUpdated` condition: the moments `[start, end)` the value names, and how to compare with them.
#[derive(Clone, Debug, PartialEq)]
pub struct DateBound {
    prefix: Prefix,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Prefix {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl DateBound {
    /// Whether `t` meets the condition.
    pub fn holds(&self, t: DateTime<Utc>) -> bool {
        match self.prefix {
            Prefix::Eq => self.start <= t && t < self.end,
            Prefix::Gt => t >= self.end,
            Prefix::Ge => t >= self.start,
            Prefix::Lt => t < self.start,
            Prefix::Le => t < self.end,
        }
    }

    fn parse(raw: &str) -> Result<Self, String> {
        let prefixes =
            [("eq", Prefix::Eq), ("gt", Prefix::Gt), ("ge", Prefix::Ge), ("lt", Prefix::Lt), ("le", Prefix::Le)];
        let (prefix, value) = match prefixes.iter().find(|(p, _)| raw.starts_with(p)) {
            Some((p, prefix)) => (*prefix, &raw[p.len()..]),
            None if raw.starts_with(|c: char| c.is_ascii_lowercase()) => {
                return Err("takes the prefixes eq, gt, ge, lt and le only".into());
            }
            None => (Prefix::Eq, raw),
        };
        let (start, end) = date_range(value).ok_or_else(|| {
            "must be a date (YYYY, YYYY-MM or YYYY-MM-DD) or a date and time with its offset, after an optional prefix"
                .to_string()
        })?;
        Ok(Self { prefix, start, end })
    }
}

/// The moments a FHIR date or dateTime names, at its precision.
fn date_range(value: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let day = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
    };
    let number = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<u32>().ok()).flatten();
    match value.len() {
        4 => {
            let y = number(value)? as i32;
            Some((day(y, 1, 1)?, day(y + 1, 1, 1)?))
        }
        7 if value.as_bytes()[4] == b'-' => {
            let (y, m) = (number(&value[..4])? as i32, number(&value[5..])?);
            let start = day(y, m, 1)?;
            let next = if m == 12 { day(y + 1, 1, 1)? } else { day(y, m + 1, 1)? };
            Some((start, next))
        }
        10 => {
            let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
            let start = day(date.year(), date.month(), date.day())?;
            Some((start, start + Duration::days(1)))
        }
        _ => {
            let t = DateTime::parse_from_rfc3339(value).ok()?.to_utc();
            Some((t, t + Duration::microseconds(1)))
        }
    }
}

/// A search, read.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub patient: Option<EntityId>,
    pub id: Option<EntityId>,
    pub family: Option<String>,
    pub birthdate: Option<String>,
    pub identifier: Option<String>,
    pub last_updated: Vec<DateBound>,
    pub count: usize,
    pub cursor: Option<String>,
    /// The parameters given but the cursor, in order: what the page's links repeat.
    pub given: Vec<(String, String)>,
}

impl Search {
    /// Whether a moment, as stored, meets every `_lastUpdated` condition.
    pub fn updated_within(&self, at: &str) -> bool {
        match DateTime::parse_from_rfc3339(at) {
            Ok(t) => self.last_updated.iter().all(|b| b.holds(t.to_utc())),
            Err(_) => self.last_updated.is_empty(),
        }
    }

    /// What makes two pages part of one search (the cursor is sealed to it).
    pub fn scope(&self) -> Vec<String> {
        self.given.iter().filter(|(k, _)| k != "_count").map(|(k, v)| format!("{k}={v}")).collect()
    }
}

/// The patient a reference names: `Patient/{id}`, a URL ending so, or the bare id.
pub fn patient_reference(raw: &str) -> Option<EntityId> {
    let id = match raw.rfind("Patient/") {
        Some(at) => &raw[at + "Patient/".len()..],
        None => raw,
    };
    EntityId::parse(id)
}

/// Reads the query string of a search of `resource_type`.
pub fn read(resource_type: ResourceType, query: Option<&str>) -> Result<Search, ApiError> {
    let search = read_params(resource_type.as_str(), resource_type.search_params(), query)?;
    if resource_type != ResourceType::Patient && search.patient.is_none() {
        return Err(ApiError::field(
            "patient",
            format!("is required: {resource_type} is searched one patient's record at a time"),
        ));
    }
    Ok(search)
}

/// Reads the query string of a patient's `$everything`.
pub fn read_everything(query: Option<&str>) -> Result<Search, ApiError> {
    read_params(super::EVERYTHING, super::EVERYTHING_PARAMS, query)
}

/// Reads a query string of the parameters `params` of `what`.
fn read_params(what: &str, params: &[SearchParam], query: Option<&str>) -> Result<Search, ApiError> {
    let mut search = Search { count: DEFAULT_COUNT, ..Search::default() };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let (name, value) = (name.to_string(), value.to_string());
        if !params.iter().any(|p| p.name == name) {
            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
            return Err(ApiError::field(&name, format!("is not a parameter of {what}; it takes {}", names.join(", "))));
        }
        if name != "_lastUpdated" && seen.contains(&name) {
            return Err(ApiError::field(&name, "must be given once"));
        }
        seen.push(name.clone());
        let bad = |message: &str| ApiError::field(&name, message);
        match name.as_str() {
            "patient" => {
                search.patient =
                    Some(patient_reference(&value).ok_or_else(|| bad("must name a patient: Patient/{id}"))?)
            }
            "_id" => search.id = Some(EntityId::parse(&value).ok_or_else(|| bad("must be a patient's id"))?),
            "family" => {
                if value.chars().count() > 200 {
                    return Err(bad("must be at most 200 characters"));
                }
                search.family = Some(value.clone());
            }
            "birthdate" => {
                let date =
                    NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| bad("must be a date, YYYY-MM-DD"))?;
                search.birthdate = Some(date.to_string());
            }
            "identifier" => {
                let mrn = value.rsplit('|').next().unwrap_or("");
                if mrn.len() != 8 || !mrn.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("must be the 8-digit medical record number, after an optional system|"));
                }
                search.identifier = Some(mrn.to_string());
            }
            "_lastUpdated" => {
                if search.last_updated.len() == 2 {
                    return Err(bad("may be given at most twice (a range)"));
                }
                search.last_updated.push(DateBound::parse(&value).map_err(|m| bad(&m))?);
            }
            "_count" => {
                search.count = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| bad("must be a whole number from 1 to 100"))?;
            }
            "_cursor" => {
                search.cursor = Some(value);
                continue;
            }
            _ => {}
        }
        search.given.push((name, value));
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn last_updated_compares_at_the_precision_given() {
        let s = read(ResourceType::Patient, Some("_lastUpdated=ge2026-03&_lastUpdated=lt2026-04-02")).unwrap();
        assert!(!s.updated_within("2026-02-28T23:59:59Z"));
        assert!(s.updated_within("2026-03-01T00:00:00Z"));
        assert!(s.updated_within("2026-04-01T23:59:59.999999Z"));
        assert!(!s.updated_within("2026-04-02T00:00:00Z"));
        let day = DateBound::parse("2026-05-01").unwrap();
        assert!(day.holds(at("2026-05-01T12:00:00Z")) && !day.holds(at("2026-05-02T00:00:00Z")));
        assert!(DateBound::parse("gt2026").unwrap().holds(at("2027-01-01T00:00:00Z")));
        assert!(!DateBound::parse("gt2026").unwrap().holds(at("2026-12-31T00:00:00Z")));
        assert!(DateBound::parse("le2026-05-01T10:00:00+02:00").unwrap().holds(at("2026-05-01T08:00:00Z")));
    }

    #[test]
    fn unknown_repeated_or_malformed_parameters_are_refused() {
        let refused = |t: ResourceType, q: &str| read(t, Some(q)).unwrap_err().status().as_u16();
        assert_eq!(refused(ResourceType::Patient, "name=Ada"), 400);
        assert_eq!(refused(ResourceType::AllergyIntolerance, "_id=01JD0000000000000000000002"), 400);
        assert_eq!(refused(ResourceType::Condition, "_count=20"), 400, "patient is required");
        assert_eq!(refused(ResourceType::Patient, "_count=0"), 400);
        assert_eq!(refused(ResourceType::Patient, "_count=5&_count=6"), 400);
        assert_eq!(refused(ResourceType::Patient, "_lastUpdated=sa2026"), 400);
        assert_eq!(refused(ResourceType::Patient, "_lastUpdated=2026-13"), 400);
        assert_eq!(refused(ResourceType::Patient, "identifier=123"), 400);
        let s = read(ResourceType::Procedure, Some("patient=Patient/01JD0000000000000000000002&_count=5&_cursor=x"))
            .unwrap();
        assert_eq!(s.patient.map(|p| p.to_string()).as_deref(), Some("01JD0000000000000000000002"));
        assert_eq!((s.count, s.cursor.as_deref(), s.given.len()), (5, Some("x"), 2));
    }
}
