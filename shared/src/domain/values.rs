//! Value types that parse themselves: once one exists, it is valid.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use serde_json::{Value, json};

use super::fields::{Context, ParseStr};
use super::schema;

/// Declares an enum carried in JSON as one of a fixed set of strings.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::domain::fields::ParseStr for $name {
            fn parse_str(s: &str, _: &$crate::domain::fields::Context) -> Result<Self, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("must be one of: {}", names.join(", "))
                })
            }

            fn schema() -> serde_json::Value {
                $crate::domain::schema::one_of($name::ALL.iter().map(|v| v.as_str()))
            }
        }
    };
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Trimmed single-line text of 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShortText(String);

impl ShortText {
    pub const MAX: usize = 200;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks text is at most `max` characters as sent and not blank, with line breaks and tabs only where
/// `multiline`; keeps it trimmed.
fn bounded_text(s: &str, max: usize, multiline: bool) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if multiline && t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("must not hold control characters other than line breaks and tabs".into());
    }
    if !multiline && has_control(t) {
        return Err("must be a single line without control characters".into());
    }
    Ok(t.to_string())
}

impl ParseStr for ShortText {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        bounded_text(s, Self::MAX, false).map(Self)
    }

    fn schema() -> Value {
        schema::trimmed_text(Self::MAX, false)
    }
}

/// An e-mail address (`local@domain.tld`), the domain lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParseStr for Email {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let bad = || "must be an e-mail address such as name@example.org".to_string();
        let s = s.trim();
        if s.chars().count() > 254 || has_control(s) || s.contains(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.chars().count() > 64
            || local.contains('@')
            || local.starts_with('.')
            || local.ends_with('.')
        {
            return Err(bad());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) || labels.last().is_some_and(|tld| tld.len() < 2) {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// Internationalised domains are written in their ASCII (punycode) form.
    fn schema() -> Value {
        let (space, control) = (schema::SPACE, schema::CONTROL);
        let local_edge = format!("[^@.{space}{control}]");
        let local = format!("{local_edge}([^@{space}{control}]{{0,62}}{local_edge})?");
        let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        let last = "[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]";
        let mut email = schema::trimmed(&format!("{local}@({label}\\.)+{last}"));
        email["maxLength"] = json!(254);
        email
    }
}

/// A phone number in E.164 form (`+` then 7 to 15 digits, no leading zero).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParseStr for Phone {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let digits = s.strip_prefix('+').unwrap_or("");
        let ok =
            (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
        if ok { Ok(Self(s.to_string())) } else { Err("must be an E.164 phone number such as +14155550123".into()) }
    }

    fn schema() -> Value {
        schema::pattern("^\\+[1-9][0-9]{6,14}$")
    }
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

impl ParseStr for Date {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        if s.len() != 10 {
            return Err("must be a date written YYYY-MM-DD".into());
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Date).map_err(|_| "must be a real date written YYYY-MM-DD".into())
    }

    fn schema() -> Value {
        json!({"type": "string", "format": "date"})
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// A real date that is not in the future, and not before 1880.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PastDate(pub Date);

impl ParseStr for PastDate {
    fn parse_str(s: &str, ctx: &Context) -> Result<Self, String> {
        let date = Date::parse_str(s, ctx)?;
        // The earliest time zone is 14 hours ahead of UTC: "tomorrow" in UTC may be today there.
        let latest = ctx.today.checked_add_days(Days::new(1)).unwrap_or(ctx.today);
        if date.0 > latest {
            return Err("must not be in the future".into());
        }
        if date.0 < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(date.0) {
            return Err("must not be before 1880".into());
        }
        Ok(Self(date))
    }

    /// `past-date`: a `date` that has come (in some time zone), from 1880 on.
    fn schema() -> Value {
        json!({"type": "string", "format": "past-date", "description": "A date written YYYY-MM-DD, not in the future and not before 1880"})
    }
}

/// A date of birth: a real date, not in the future and not before 1880.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BirthDate(pub Date);

impl ParseStr for BirthDate {
    fn parse_str(s: &str, ctx: &Context) -> Result<Self, String> {
        PastDate::parse_str(s, ctx).map(|d| Self(d.0))
    }

    fn schema() -> Value {
        PastDate::schema()
    }
}

/// A moment that has already happened, written in RFC 3339 and kept as sortable UTC text.
/// Five minutes of clock skew between a device and Vellum are allowed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PastInstant(String);

impl PastInstant {
    pub fn at(t: chrono::DateTime<chrono::Utc>) -> Self {
        Self(crate::ids::sortable_time(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UTC calendar date of the moment.
    pub fn date(&self) -> NaiveDate {
        chrono::DateTime::parse_from_rfc3339(&self.0).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
    }
}

impl ParseStr for PastInstant {
    fn parse_str(s: &str, ctx: &Context) -> Result<Self, String> {
        let t = chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|_| "must be a date and time in RFC 3339 form such as 2026-05-01T14:30:00Z".to_string())?
            .to_utc();
        if t > ctx.now + chrono::Duration::minutes(5) {
            return Err("must not be in the future".into());
        }
        if t.date_naive() < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(NaiveDate::MIN) {
            return Err("must not be before 1880".into());
        }
        Ok(Self::at(t))
    }

    /// `past-date-time`: an RFC 3339 `date-time` that has come (five minutes of skew allowed), from 1880 on.
    fn schema() -> Value {
        json!({"type": "string", "format": "past-date-time", "description": "An RFC 3339 date and time, not in the future (five minutes of clock skew allowed) and not before 1880"})
    }
}

/// Free text of 1 to 20,000 characters; line breaks and tabs allowed, other control characters not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LongText(String);

impl LongText {
    pub const MAX: usize = 20_000;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParseStr for LongText {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        bounded_text(s, Self::MAX, true).map(Self)
    }

    fn schema() -> Value {
        schema::trimmed_text(Self::MAX, true)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountryCode(String);

const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM \
FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV \
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD \
SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC \
VE VG VI VN VU WF WS YE YT ZA ZM ZW";

impl ParseStr for CountryCode {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() == 2 && COUNTRIES.split_ascii_whitespace().any(|c| c == upper) {
            Ok(Self(upper))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code such as US or FR".into())
        }
    }

    fn schema() -> Value {
        schema::one_of(COUNTRIES.split_ascii_whitespace())
    }
}

/// An IANA time zone name such as `America/New_York`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// The zone itself (a stored name was checked when it was written; UTC if it ever is not one).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }
}

impl ParseStr for TimeZoneName {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        s.parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_string()))
            .map_err(|_| "must be an IANA time zone such as Europe/Paris".into())
    }

    fn schema() -> Value {
        schema::one_of(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()))
    }
}

/// A BCP 47 language tag such as `en`, `es-MX` or `zh-Hant`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParseStr for LanguageTag {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let mut parts = s.split('-');
        let primary = parts.next().unwrap_or("");
        let primary_ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if primary_ok && rest_ok && s.len() <= 35 {
            Ok(Self(s.to_string()))
        } else {
            Err("must be a BCP 47 language tag such as en or es-MX".into())
        }
    }

    fn schema() -> Value {
        let mut tag = schema::pattern("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$");
        tag["maxLength"] = json!(35);
        tag
    }
}

/// A postal code: 1 to 16 letters, digits, spaces or hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PostalCode(String);

impl ParseStr for PostalCode {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let t = s.trim();
        let ok = (1..=16).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if ok { Ok(Self(t.to_string())) } else { Err("must be 1 to 16 letters, digits, spaces or hyphens".into()) }
    }

    fn schema() -> Value {
        schema::trimmed("[A-Za-z0-9-]([A-Za-z0-9 -]{0,14}[A-Za-z0-9-])?")
    }
}

/// The identity-provider id of a staff member (a Cognito `sub`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ParseStr for UserId {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let ok = (1..=128).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'));
        if ok { Ok(Self(s.to_string())) } else { Err("must be 1 to 128 letters, digits or - _ . @ +".into()) }
    }

    fn schema() -> Value {
        schema::pattern("^[A-Za-z0-9._@+-]{1,128}$")
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ULID-based entity id, checked on the way in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(pub ulid::Ulid);

impl EntityId {
    /// A ULID in its canonical form: 26 characters of Crockford's base 32, upper case, at most
    /// `7ZZZZZZZZZZZZZZZZZZZZZZZZZ`.
    pub fn parse(s: &str) -> Option<Self> {
        let id: ulid::Ulid = (s.len() == 26).then(|| s.parse().ok()).flatten()?;
        (id.to_string() == s).then_some(EntityId(id))
    }
}

impl ParseStr for EntityId {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        EntityId::parse(s).ok_or_else(|| "must be a 26-character id".into())
    }

    fn schema() -> Value {
        schema::pattern("^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
    }
}

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Folds text for prefix search: decomposed, accents and punctuation dropped, lower case.
pub fn search_fold(s: &str) -> String {
    s.nfd().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::at(NaiveDate::from_ymd_opt(2026, 6, 15).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc())
    }

    fn ok<T: ParseStr>(s: &str) -> bool {
        T::parse_str(s, &ctx()).is_ok()
    }

    #[test]
    fn e_mail_addresses_are_checked_for_shape() {
        assert!(ok::<Email>("nurse.joy@clinic.example"));
        assert_eq!(Email::parse_str("a@EXAMPLE.org", &ctx()).unwrap().as_str(), "a@example.org");
        for bad in ["", "plain", "a@b", "a@@b.org", "a b@c.org", "@c.org", "a@-c.org", "a@c.o"] {
            assert!(!ok::<Email>(bad), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(ok::<Phone>("+14155550123"));
        for bad in ["4155550123", "+0123456789", "+1 415 555", "+1234", "+1234567890123456", "+1415abc0123"] {
            assert!(!ok::<Phone>(bad), "{bad}");
        }
    }

    #[test]
    fn a_birth_date_cannot_be_in_the_future_or_impossible() {
        assert!(ok::<BirthDate>("1990-02-28"));
        assert!(ok::<BirthDate>("2026-06-16"), "tomorrow in UTC may be today east of it");
        for bad in ["2026-06-17", "1990-02-30", "1879-12-31", "90-01-01", "1990-1-1"] {
            assert!(!ok::<BirthDate>(bad), "{bad}");
        }
    }

    #[test]
    fn codes_and_names_are_checked_against_their_lists() {
        assert!(ok::<CountryCode>("fr"));
        assert!(!ok::<CountryCode>("XX"));
        assert!(ok::<TimeZoneName>("America/New_York"));
        assert!(!ok::<TimeZoneName>("Mars/Olympus"));
        assert!(ok::<LanguageTag>("es-MX"));
        assert!(!ok::<LanguageTag>("english!"));
        assert!(ok::<ShortText>(" Ana "));
        assert!(!ok::<ShortText>("   "));
        assert!(!ok::<ShortText>("two\nlines"));
        assert!(!ok::<ShortText>(&"x".repeat(201)));
        assert!(ok::<UserId>("2f1c9c1e-6d1b-4b8f-9e1a-1a2b3c4d5e6f"));
        assert!(!ok::<UserId>("has space"));
        assert!(ok::<LongText>("S: itchy\nO: hives"));
        assert!(!ok::<LongText>("bell\u{7}"));
        assert!(!ok::<LongText>(&"x".repeat(20_001)));
    }

    #[test]
    fn an_instant_must_have_happened_and_is_kept_in_utc() {
        let t = PastInstant::parse_str("2026-06-15T08:00:00-04:00", &ctx()).unwrap();
        assert_eq!(t.as_str(), "2026-06-15T12:00:00.000000Z");
        assert!(ok::<PastInstant>("2026-06-15T12:04:00Z"), "a few minutes of clock skew are allowed");
        for bad in ["2026-06-15T12:06:00Z", "2026-06-15", "yesterday", "1850-01-01T00:00:00Z"] {
            assert!(!ok::<PastInstant>(bad), "{bad}");
        }
    }

    #[test]
    fn search_folding_drops_accents_case_and_punctuation() {
        assert_eq!(search_fold("Müller-O'Brien"), "mullerobrien");
        assert_eq!(search_fold("ÉLODIE"), "elodie");
    }
}
