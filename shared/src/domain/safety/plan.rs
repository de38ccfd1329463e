//! A planned treatment as a safety check or a service names it: its type, and the catalogue's products and
//! procedure, which must be of that type.

use serde::{Deserialize, Serialize};

use super::rules::{Product, RULES, RuleSet};
use super::{ProcedureId, ProductId, Proposed};
use crate::domain::chart::treatment::{TreatmentType, procedure_fits};
use crate::domain::fields::{Form, Issue};

/// The most products one planned treatment names.
pub const MAX_PRODUCTS: usize = 10;

/// Why a plan's product at a position does not resolve.
#[derive(Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// Neither a shipped product nor one of the clinic's.
    Unknown(usize),
    /// Of another treatment type than the plan's, with what it is for.
    OfAnotherType(usize, String),
}

/// A planned treatment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TreatmentPlan {
    #[serde(rename = "type")]
    pub treatment_type: TreatmentType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<ProcedureId>,
}

impl TreatmentPlan {
    /// `{"type", "products"?, "procedure"?}`. A type that puts a product into the patient names its
    /// products and a laser or peel its procedure (the rules turn on them: without them a check would say
    /// "clear" of what it never looked at); a product or procedure of another type is refused.
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["type", "products", "procedure"]);
        let treatment_type: TreatmentType = form.req("type")?;
        let products: Option<Vec<ProductId>> =
            form.list("products", usize::from(treatment_type.uses_products()), MAX_PRODUCTS);
        let procedure: Option<ProcedureId> = form.opt("procedure");
        let mut fits = procedure_fits(form, treatment_type, procedure.as_ref());
        let products = products?;
        for (i, ProductId(id)) in products.iter().enumerate() {
            if let Some(product) = RULES.product(id).filter(|p| p.treatment_type != treatment_type) {
                let why = format!("is for {} treatments, not {treatment_type}", product.treatment_type);
                form.reject(&format!("products[{i}]"), Issue::Rule(why));
                fits = false;
            }
        }
        fits.then_some(Self { treatment_type, products, procedure })
    }

    /// Whether it names a product the clinic added (which only the clinic's catalogue resolves).
    pub fn names_clinic_products(&self) -> bool {
        self.products.iter().any(|p| !p.is_shipped())
    }

    /// The plan as the checker takes it, the clinic's own products found among `clinic`; else the first
    /// product that is not the clinic's, or is of another treatment type.
    pub fn resolve<'a>(&self, clinic: &'a [Product]) -> Result<Proposed<'a>, Unresolved> {
        let rules: &'static RuleSet = &RULES;
        let mut products = Vec::new();
        for (i, ProductId(id)) in self.products.iter().enumerate() {
            let product = rules.product(id).or_else(|| clinic.iter().find(|p| &p.id == id));
            match product {
                None => return Err(Unresolved::Unknown(i)),
                Some(p) if p.treatment_type != self.treatment_type => {
                    let why = format!("is for {} treatments, not {}", p.treatment_type, self.treatment_type);
                    return Err(Unresolved::OfAnotherType(i, why));
                }
                Some(p) => products.push(p),
            }
        }
        Ok(Proposed::Treatment {
            treatment_type: self.treatment_type,
            products,
            procedure: self.procedure.as_ref().and_then(|p| rules.procedure(&p.0)),
        })
    }
}
