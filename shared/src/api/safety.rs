//! Safety checks: a proposed treatment or medication held against the patient's chart, nothing written
//! but the audit event.

use serde_json::json;

use super::{chart, patients};
use crate::domain::audit::Resource;
use crate::domain::chart::treatment::TreatmentType;
use crate::domain::fields::{Form, Issue};
use crate::domain::safety::rules::{RULES, RuleSet};
use crate::domain::safety::{self, Chart, ProcedureId, ProductId, Proposed, RxNormCode};
use crate::domain::values::ShortText;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;

/// The most products one proposed treatment names.
pub const MAX_PRODUCTS: usize = 10;

/// Whether a proposed treatment of this type must name its procedure: the types whose rules tell their
/// procedures apart (an ablative laser from a non-ablative one, a deep peel from a superficial one).
pub fn needs_procedure(kind: TreatmentType) -> bool {
    matches!(kind, TreatmentType::Laser | TreatmentType::ChemicalPeel)
}

/// A proposed action as sent, before the catalogue resolves it.
enum Proposal {
    Treatment { treatment_type: TreatmentType, products: Vec<ProductId>, procedure: Option<ProcedureId> },
    Medication { name: ShortText, rxnorm: Option<RxNormCode> },
}

impl Proposal {
    /// `{"treatment": {type, products?, procedure?}}` or `{"medication": {name, rxnormCode?}}`.
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["treatment", "medication"]);
        if form.given("treatment") == form.given("medication") {
            form.reject("treatment", Issue::Shape("give a treatment or a medication, one of them".into()));
            return None;
        }
        let treatment = form.object("treatment", false, |t| {
            t.only(&["type", "products", "procedure"]);
            let treatment_type: TreatmentType = t.req("type")?;
            let products = t.list("products", usize::from(treatment_type.uses_products()), MAX_PRODUCTS);
            let procedure = t.opt("procedure");
            if needs_procedure(treatment_type) && !t.given("procedure") {
                let why = format!("is required for {treatment_type}: the rules tell its procedures apart");
                t.reject("procedure", Issue::Rule(why));
                return None;
            }
            Some(Proposal::Treatment { treatment_type, products: products?, procedure })
        });
        let medication = form.object("medication", false, |m| {
            m.only(&["name", "rxnormCode"]);
            let name = m.req("name");
            let rxnorm = m.opt("rxnormCode");
            Some(Proposal::Medication { name: name?, rxnorm })
        });
        treatment.or(medication)
    }

    /// The proposal in the catalogue's terms: a product or procedure of another treatment type is 422.
    fn resolve(self, rules: &RuleSet) -> Result<Proposed<'_>, ApiError> {
        match self {
            Proposal::Treatment { treatment_type, products, procedure } => {
                let mismatch = |field: String, kind: TreatmentType| {
                    ApiError::field_rule(&field, format!("is for {kind} treatments, not {treatment_type}"))
                };
                let mut known = Vec::new();
                for (i, ProductId(id)) in products.iter().enumerate() {
                    let product = rules.product(id).ok_or_else(|| ApiError::Internal(format!("product {id}")))?;
                    if product.treatment_type != treatment_type {
                        return Err(mismatch(format!("treatment.products[{i}]"), product.treatment_type));
                    }
                    known.push(product);
                }
                let procedure = match procedure {
                    None => None,
                    Some(ProcedureId(id)) => {
                        let procedure =
                            rules.procedure(&id).ok_or_else(|| ApiError::Internal(format!("procedure {id}")))?;
                        if procedure.treatment_type != treatment_type {
                            return Err(mismatch("treatment.procedure".into(), procedure.treatment_type));
                        }
                        Some(procedure)
                    }
                };
                Ok(Proposed::Treatment { treatment_type, products: known, procedure })
            }
            Proposal::Medication { name, rxnorm } => Ok(Proposed::Medication {
                classes: safety::medication_classes(rules, name.as_str(), rxnorm.as_ref().map(|c| c.0.as_str())),
            }),
        }
    }
}

/// `POST /v1/patients/{patientId}/safety-checks`: the alerts the rule set raises for the proposed action.
pub async fn check(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient_id = input.entity("patientId")?;
    let proposal = input.form(ctx.rules(), Proposal::read)?;
    let proposed = proposal.resolve(&RULES)?;
    patients::load(&ctx, patient_id).await?;
    let entries = chart::current_entries(&ctx, patient_id).await?;
    let alerts = safety::check(&RULES, &Chart::of(&entries), &proposed, ctx.now.date_naive());
    let blocking = alerts.iter().any(|a| a.severity.blocks());
    // The event names every entry the answer shows, as a chart read would.
    let mut facts = Facts::patient(patient_id);
    for fact in alerts.iter().flat_map(|a| &a.facts) {
        let shown = Resource::new(fact.kind.as_str(), fact.entry_id);
        if !facts.resources.contains(&shown) {
            facts.resources.push(shown);
        }
    }
    let body = json!({"ruleSet": RULES.version, "blocking": blocking, "alerts": alerts});
    Ok(Outcome::Read(Reply::ok(body), facts))
}
