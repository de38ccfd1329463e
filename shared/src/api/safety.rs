//! Safety checks: a proposed treatment or medication held against the patient's chart (nothing written
//! but the audit event), the gate every charted treatment and medication passes, and the clinic's list of
//! the alerts its clinicians acknowledged to go ahead.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{chart, patients};
use super::{page_body, scope, start_after};
use crate::domain::audit::Resource;
use crate::domain::chart::medication::Medication;
use crate::domain::chart::treatment::{Treatment, TreatmentType};
use crate::domain::chart::{ChartKind, Entry, Source};
use crate::domain::fields::{Form, Issue};
use crate::domain::keys;
use crate::domain::safety::gate::{ACKNOWLEDGEMENTS, Acknowledgement, Decision, Refusal, SafetyRecord};
use crate::domain::safety::rules::{RULES, RuleSet};
use crate::domain::safety::{self, Chart, ProcedureId, ProductId, Proposed, RxNormCode};
use crate::domain::values::{EntityId, ShortText};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::{PK, SK};
use crate::store::{Cond, Item, Query, Table, Write, str_attr};

/// The most products one proposed treatment names.
pub const MAX_PRODUCTS: usize = 10;

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
            if treatment_type.names_its_procedure() && !t.given("procedure") {
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

/// A charted entry as the action the rule set checks, the day it is checked on, and the products the
/// catalogue does not know; `None` for a medication not taken now (a record of the past is not checked).
fn as_proposed(ctx: &Ctx, entry: &Entry) -> Result<Option<(Proposed<'static>, NaiveDate, Vec<String>)>, ApiError> {
    let unreadable = || ApiError::Internal(format!("the {} being written is unreadable", entry.kind));
    let content = Value::Object(entry.data.clone());
    match entry.kind {
        ChartKind::Treatment => {
            let treatment: Treatment = serde_json::from_value(content).map_err(|_| unreadable())?;
            let mut products = Vec::new();
            let mut unmatched = Vec::new();
            for used in &treatment.products {
                match safety::product_named(&RULES, used.product.as_str()) {
                    Some(product) => products.push(product),
                    None => unmatched.push(used.product.as_str().to_string()),
                }
            }
            let procedure = treatment.procedure.as_ref().and_then(|p| RULES.procedure(&p.0));
            let proposed = Proposed::Treatment { treatment_type: treatment.treatment_type, products, procedure };
            Ok(Some((proposed, treatment.performed_at.date(), unmatched)))
        }
        ChartKind::Medication => {
            let medication: Medication = serde_json::from_value(content).map_err(|_| unreadable())?;
            if !medication.status.is_current() {
                return Ok(None);
            }
            let classes = safety::medication_classes(&RULES, medication.name.as_str(), None);
            Ok(Some((Proposed::Medication { classes }, ctx.now.date_naive(), Vec::new())))
        }
        _ => Ok(None),
    }
}

/// The safety gate of a new version of a treatment or medication (see `domain::safety::gate`), held
/// against the rest of the chart with the entries this request adds: what to keep with it, or the refusal.
/// Staff's own entries are refused on an unacknowledged blocking alert; a patient's or an import's only
/// keep their alerts. `None` for what is not checked.
pub async fn gate(
    ctx: &Ctx,
    entry: &Entry,
    given: Vec<Acknowledgement>,
    replaced: Option<&Entry>,
    added: &[Entry],
) -> Result<Option<SafetyRecord>, ApiError> {
    let (alerts, unmatched) = match as_proposed(ctx, entry)? {
        Some((proposed, day, unmatched)) => {
            let mut entries = chart::current_entries(ctx, entry.patient_id).await?;
            entries.extend(added.iter().cloned());
            entries.retain(|e| e.id != entry.id);
            (safety::check(&RULES, &Chart::of(&entries), &proposed, day), unmatched)
        }
        None if given.is_empty() => return Ok(None),
        None => (Vec::new(), Vec::new()),
    };
    let kept = replaced.and_then(|r| r.safety.as_ref()).map_or(&[][..], |s| s.overrides.as_slice());
    let decision = Decision { alerts, given, kept, enforced: entry.source == Source::StaffEntered };
    let field = |index: usize| format!("{ACKNOWLEDGEMENTS}[{index}].ruleId");
    match decision.decide(&entry.updated_by, &entry.updated_at, unmatched) {
        Ok(record) => Ok(Some(record)),
        Err(Refusal::Unacknowledged { alerts, missing }) => Err(ApiError::SafetyAlerts { alerts, missing }),
        Err(Refusal::Moot { index }) => Err(ApiError::field_rule(
            &field(index),
            "raised no blocking alert for this entry: acknowledge only the blocking alerts a refusal listed",
        )),
        Err(Refusal::Repeated { index }) => Err(ApiError::field_rule(&field(index), "is acknowledged twice")),
    }
}

/// What of a version the safety check looks at: a change to it is checked again.
pub fn checked_part(entry: &Entry) -> Value {
    let field = |name: &str| entry.data.get(name).cloned().unwrap_or(Value::Null);
    match entry.kind {
        ChartKind::Treatment => {
            let products = entry.data.get("products").and_then(Value::as_array).map_or(Vec::new(), |lines| {
                lines.iter().map(|line| line.get("product").cloned().unwrap_or(Value::Null)).collect()
            });
            json!([field("type"), field("procedure"), field("performedAt"), products])
        }
        ChartKind::Medication => json!([field("name"), field("status"), field("stopDate")]),
        _ => Value::Null,
    }
}

/// The overrides index items of the alerts this version acknowledged (those it kept are indexed already).
pub fn override_writes(clinic: EntityId, entry: &Entry) -> Vec<Guarded> {
    let Some(record) = &entry.safety else { return Vec::new() };
    record
        .made_at(&entry.updated_at)
        .map(|o| {
            let mut item = Item::new();
            item.insert(PK.into(), keys::overrides_pk(clinic).into());
            item.insert(SK.into(), keys::override_sk(&o.at, entry.id, entry.version, &o.rule_id).into());
            let fields = json!({
                "patientId": entry.patient_id,
                "entryKind": entry.kind,
                "entryId": entry.id,
                "entryVersion": entry.version,
                "ruleSet": record.rule_set,
                "ruleId": o.rule_id,
                "severity": o.severity,
                "summary": o.summary,
                "reason": o.reason,
                "by": o.by,
                "at": o.at,
            });
            if let Value::Object(map) = fields {
                item.extend(map);
            }
            let conflict = ApiError::Conflict("an override was recorded by a concurrent change; retry".into());
            Guarded::new(Write::put(Table::Records, item, Cond::NotExists), conflict)
        })
        .collect()
}

/// The audit resources of the alerts this version acknowledged, by rule id.
pub fn override_resources(entry: &Entry) -> Vec<Resource> {
    let Some(record) = &entry.safety else { return Vec::new() };
    record.made_at(&entry.updated_at).map(|o| Resource::new("safety-override", &o.rule_id)).collect()
}

/// `GET /v1/overrides?limit=&cursor=`: the blocking alerts the clinic's clinicians acknowledged, newest
/// first, each with its reason, who and when, and the entry it let through.
pub async fn overrides(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let limit = params.limit()?;
    let scope = scope(&ctx, &[]);
    let after = start_after(&ctx, &params, &scope)?;
    let query =
        Query::new(Table::Records, keys::overrides_pk(ctx.clinic()?)).backward().limit(limit).start_after(after);
    let page = ctx.app.records.query(query).await?;
    let mut patients = Vec::new();
    let mut items = Vec::new();
    for mut item in page.items {
        patients.extend(str_attr(&item, "patientId").and_then(EntityId::parse));
        item.remove(PK);
        item.remove(SK);
        items.push(Value::Object(item));
    }
    let body = page_body(&ctx, &scope, items, page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::listing(patients)))
}
