//! ICD-10-CM codes: the shape every code must have, and the names of the common dermatology and
//! aesthetic codes Vellum ships (any well-formed code is accepted; these get a name).

use serde::{Deserialize, Serialize};

use crate::domain::fields::{Context, ParseStr};

/// An ICD-10-CM code such as `L70.0` or `L74.510`, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Icd10Code(String);

impl Icd10Code {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shipped name of the code, if it is one of the common ones.
    pub fn name(&self) -> Option<&'static str> {
        COMMON.iter().find(|(code, _)| *code == self.0).map(|(_, name)| *name)
    }
}

impl ParseStr for Icd10Code {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let code = s.trim().to_ascii_uppercase();
        let (category, subcategory) = match code.split_once('.') {
            Some((c, rest)) => (c, Some(rest)),
            None => (code.as_str(), None),
        };
        let c: Vec<char> = category.chars().collect();
        let category_ok = c.len() == 3
            && c[0].is_ascii_uppercase()
            && c[1].is_ascii_digit()
            && (c[2].is_ascii_digit() || c[2].is_ascii_uppercase());
        let subcategory_ok = subcategory.is_none_or(|s| {
            (1..=4).contains(&s.len()) && s.chars().all(|ch| ch.is_ascii_digit() || ch.is_ascii_uppercase())
        });
        if category_ok && subcategory_ok {
            Ok(Self(code))
        } else {
            Err("must be an ICD-10-CM code: a letter, two characters, then optionally a dot and 1 to 4 more, such as L70.0".into())
        }
    }

    fn schema() -> serde_json::Value {
        crate::domain::schema::trimmed("[A-Za-z][0-9][0-9A-Za-z](\\.[0-9A-Za-z]{1,4})?")
    }
}

/// Common codes in dermatology and aesthetic practice, with their ICD-10-CM names.
pub const COMMON: &[(&str, &str)] = &[
    ("B00.1", "Herpesviral vesicular dermatitis"),
    ("B07.9", "Viral wart, unspecified"),
    ("D18.01", "Hemangioma of skin and subcutaneous tissue"),
    ("D22.9", "Melanocytic nevi, unspecified"),
    ("D23.9", "Other benign neoplasm of skin, unspecified"),
    ("E66.9", "Obesity, unspecified"),
    ("G24.5", "Blepharospasm"),
    ("G43.909", "Migraine, unspecified, not intractable, without status migrainosus"),
    ("G51.0", "Bell's palsy"),
    ("L20.9", "Atopic dermatitis, unspecified"),
    ("L21.9", "Seborrheic dermatitis, unspecified"),
    ("L30.9", "Dermatitis, unspecified"),
    ("L40.0", "Psoriasis vulgaris"),
    ("L57.0", "Actinic keratosis"),
    ("L57.4", "Cutis laxa senilis"),
    ("L57.8", "Other skin changes due to chronic exposure to nonionizing radiation"),
    ("L63.9", "Alopecia areata, unspecified"),
    ("L64.9", "Androgenic alopecia, unspecified"),
    ("L65.9", "Nonscarring hair loss, unspecified"),
    ("L68.0", "Hirsutism"),
    ("L70.0", "Acne vulgaris"),
    ("L70.9", "Acne, unspecified"),
    ("L71.9", "Rosacea, unspecified"),
    ("L72.0", "Epidermal cyst"),
    ("L74.510", "Primary focal hyperhidrosis, axilla"),
    ("L74.512", "Primary focal hyperhidrosis, palms"),
    ("L74.519", "Primary focal hyperhidrosis, unspecified"),
    ("L80", "Vitiligo"),
    ("L81.0", "Postinflammatory hyperpigmentation"),
    ("L81.1", "Chloasma"),
    ("L81.4", "Other melanin hyperpigmentation"),
    ("L82.1", "Other seborrheic keratosis"),
    ("L90.5", "Scar conditions and fibrosis of skin"),
    ("L91.0", "Hypertrophic scar"),
    ("L98.8", "Other specified disorders of the skin and subcutaneous tissue"),
    ("M35.9", "Systemic involvement of connective tissue, unspecified"),
    ("R61", "Generalized hyperhidrosis"),
    ("T88.7", "Unspecified adverse effect of drug or medicament"),
    ("Z41.1", "Encounter for cosmetic surgery"),
    ("Z41.8", "Encounter for other procedures for purposes other than remedying health state"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Icd10Code, String> {
        Icd10Code::parse_str(s, &Context::timeless())
    }

    #[test]
    fn well_formed_codes_are_accepted_and_named_when_common() {
        assert_eq!(parse("l70.0").unwrap().name(), Some("Acne vulgaris"));
        assert_eq!(parse("L74.510").unwrap().as_str(), "L74.510");
        assert_eq!(parse("R61").unwrap().name(), Some("Generalized hyperhidrosis"));
        assert_eq!(parse("S01.21XA").unwrap().name(), None, "well-formed but not shipped: accepted without a name");
        for bad in ["", "70.0", "L7", "L70.", "L70.12345", "LL0.0", "L70-0", "L7 0"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_shipped_code_is_well_formed_and_listed_once() {
        for (code, _) in COMMON {
            assert_eq!(parse(code).unwrap().as_str(), *code);
        }
        let mut codes: Vec<&str> = COMMON.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), COMMON.len());
    }
}
