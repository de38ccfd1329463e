//! Products a clinic adds to the safety catalogue: what the shipped catalogue lacks, with the classes of
//! what each contains, so that the rules see them as they see the shipped products.

use serde::{Deserialize, Serialize};

use super::rules::{Product, RULES};
use super::{ClassId, words};
use crate::domain::chart::treatment::TreatmentType;
use crate::domain::fields::{Form, Issue};
use crate::domain::keys;
use crate::domain::scheduling::{CatalogueStatus, Catalogued, Kind};
use crate::domain::values::{LongText, ShortText};

/// The most other names and classes a product has.
pub const MAX_ALIASES: usize = 10;
pub const MAX_CLASSES: usize = 10;

/// What the clinic says of a product it adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDetails {
    pub name: ShortText,
    pub manufacturer: ShortText,
    /// Other names it is charted under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<ShortText>,
    pub treatment_type: TreatmentType,
    /// The classes of what it contains (`amide-local-anesthetics` for a filler with lidocaine).
    pub classes: Vec<ClassId>,
    /// Where what it contains was read (its label, its instructions for use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<LongText>,
    pub status: CatalogueStatus,
}

impl ProductDetails {
    /// Reads `{"name", "manufacturer", "aliases"?, "treatmentType", "classes", "note"?, "status"?}`. No name
    /// may be one the shipped catalogue knows: the rules would not know which is meant.
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["name", "manufacturer", "aliases", "treatmentType", "classes", "note", "status"]);
        let name: Option<ShortText> = form.req("name");
        let manufacturer = form.req("manufacturer");
        let aliases: Option<Vec<ShortText>> = form.list("aliases", 0, MAX_ALIASES);
        let treatment_type = form.req("treatmentType");
        let classes: Option<Vec<ClassId>> = form.list("classes", 1, MAX_CLASSES);
        let note = form.opt("note");
        let status = form.opt("status").unwrap_or(CatalogueStatus::Active);
        let (name, aliases, classes) = (name?, aliases?, classes?);
        let mut ok = true;
        let named = std::iter::once(("name".to_string(), &name))
            .chain(aliases.iter().enumerate().map(|(i, a)| (format!("aliases[{i}]"), a)));
        for (field, text) in named {
            let folded = words(text.as_str());
            if let Some(shipped) = RULES.products.iter().find(|p| p.folded.contains(&folded)) {
                let why = format!("is the shipped catalogue's product {}: name that one instead", shipped.id);
                form.reject(&field, Issue::Rule(why));
                ok = false;
            }
        }
        if classes.iter().enumerate().any(|(i, c)| classes[..i].contains(c)) {
            form.reject("classes", Issue::Rule("must not name a class twice".into()));
            ok = false;
        }
        ok.then_some(Self {
            name,
            manufacturer: manufacturer?,
            aliases,
            treatment_type: treatment_type?,
            classes,
            note,
            status,
        })
    }

    /// Its names folded for matching, each once (a name of no letter or digit matches nothing).
    pub fn folded(&self) -> Vec<String> {
        let mut folded: Vec<String> = Vec::new();
        for name in std::iter::once(&self.name).chain(&self.aliases).map(|n| words(n.as_str())) {
            if !name.trim().is_empty() && !folded.contains(&name) {
                folded.push(name);
            }
        }
        folded
    }
}

/// A product a clinic added.
pub type ClinicProduct = Catalogued<ProductDetails>;

impl Kind for ProductDetails {
    const PREFIX: &'static str = keys::SAFETY_PRODUCT_PREFIX;
}

impl ClinicProduct {
    /// The product as the checker takes it, by its id.
    pub fn as_product(&self) -> Product {
        let d = &self.details;
        Product {
            id: self.id.to_string(),
            name: d.name.as_str().to_string(),
            manufacturer: d.manufacturer.as_str().to_string(),
            aliases: d.aliases.iter().map(|a| a.as_str().to_string()).collect(),
            treatment_type: d.treatment_type,
            classes: d.classes.iter().map(|c| c.0.clone()).collect(),
            source: "clinic".into(),
            note: d.note.as_ref().map(|n| n.as_str().to_string()),
            folded: d.folded(),
        }
    }
}
