//! Safety checks: a proposed treatment or medication held against the patient's chart (nothing written
//! but the audit event), the gate every charted treatment and medication passes, and the clinic's list of
//! the alerts its clinicians acknowledged to go ahead.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{chart, patients};
use super::{page_body, scope, start_after};
use crate::domain::audit::Resource;
use crate::domain::chart::medication::Medication;
use crate::domain::chart::treatment::Treatment;
use crate::domain::chart::{ChartKind, Entry, Source};
use crate::domain::fields::{Form, Issue};
use crate::domain::keys;
use crate::domain::safety::gate::{ACKNOWLEDGEMENTS, Acknowledgement, Decision, Refusal, SafetyRecord};
use crate::domain::safety::plan::{TreatmentPlan, Unresolved};
use crate::domain::safety::products::ClinicProduct;
use crate::domain::safety::rules::{Product, RULES};
use crate::domain::safety::{self, Alert, Chart, Proposed, RxNormCode};
use crate::domain::values::{EntityId, ShortText};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::http::routes;
use crate::store::schema::{PK, SK};
use crate::store::{Cond, Item, Query, SkRange, Table, Write, entity_from, str_attr};

/// A proposed action as sent: a planned treatment, or a medication by name.
enum Proposal {
    Treatment(TreatmentPlan),
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
        let treatment = form.object("treatment", false, TreatmentPlan::read).map(Proposal::Treatment);
        let medication = form.object("medication", false, |m| {
            m.only(&["name", "rxnormCode"]);
            let name = m.req("name");
            let rxnorm = m.opt("rxnormCode");
            Some(Proposal::Medication { name: name?, rxnorm })
        });
        treatment.or(medication)
    }

    /// The proposal in the catalogue's terms, the clinic's own products among `clinic`.
    fn proposed<'a>(&self, clinic: &'a [Product]) -> Result<Proposed<'a>, ApiError> {
        match self {
            Proposal::Treatment(plan) => plan.resolve(clinic).map_err(|unresolved| match unresolved {
                Unresolved::Unknown(i) => ApiError::unknown(
                    &format!("treatment.products[{i}]"),
                    "is no product of the catalogue nor one the clinic added",
                ),
                Unresolved::OfAnotherType(i, why) => ApiError::unsuitable(&format!("treatment.products[{i}]"), why),
            }),
            Proposal::Medication { name, rxnorm } => Ok(Proposed::Medication {
                classes: safety::medication_classes(&RULES, name.as_str(), rxnorm.as_ref().map(|c| c.0.as_str())),
            }),
        }
    }
}

/// The products the clinic added to the safety catalogue, as the checker takes them (retired ones too:
/// what was charted under a name still contains what it did).
pub async fn clinic_products(ctx: &Ctx) -> Result<Vec<Product>, ApiError> {
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(keys::SAFETY_PRODUCT_PREFIX.into()))
        .limit(100);
    let items = chart::query_all(ctx, query).await?;
    items.into_iter().map(|item| Ok(entity_from::<ClinicProduct>(item)?.as_product())).collect()
}

/// `POST /v1/patients/{patientId}/safety-checks`: the alerts the rule set raises for the proposed action.
pub async fn check(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient_id = input.entity("patientId")?;
    let proposal = input.form(ctx.rules(), Proposal::read)?;
    patients::load(&ctx, patient_id).await?;
    let clinic = match &proposal {
        Proposal::Treatment(plan) if plan.names_clinic_products() => clinic_products(&ctx).await?,
        _ => Vec::new(),
    };
    let proposed = proposal.proposed(&clinic)?;
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

/// A charted entry as the action the rule set checks, the day it is checked on, and the products neither
/// catalogue knows (the clinic's own products among `clinic`); `None` for a medication not taken now (a
/// record of the past is not checked).
fn as_proposed<'a>(
    ctx: &Ctx,
    entry: &Entry,
    clinic: &'a [Product],
) -> Result<Option<(Proposed<'a>, NaiveDate, Vec<String>)>, ApiError> {
    let content = Value::Object(entry.data.clone());
    match entry.kind {
        ChartKind::Treatment => {
            let treatment: Treatment = serde_json::from_value(content).map_err(|_| unreadable(entry))?;
            let mut products = Vec::new();
            let mut unmatched = Vec::new();
            for used in &treatment.products {
                match safety::product_named(&RULES, clinic, used.product.as_str()) {
                    Some(product) => products.push(product),
                    None => unmatched.push(used.product.as_str().to_string()),
                }
            }
            let procedure = treatment.procedure.as_ref().and_then(|p| RULES.procedure(&p.0));
            let proposed = Proposed::Treatment { treatment_type: treatment.treatment_type, products, procedure };
            Ok(Some((proposed, treatment.performed_at.date(), unmatched)))
        }
        ChartKind::Medication => {
            let medication: Medication = serde_json::from_value(content).map_err(|_| unreadable(entry))?;
            if !medication.status.is_current() {
                return Ok(None);
            }
            let classes = safety::medication_classes(&RULES, medication.name.as_str(), None);
            Ok(Some((Proposed::Medication { classes }, ctx.now.date_naive(), Vec::new())))
        }
        _ => Ok(None),
    }
}

fn unreadable(entry: &Entry) -> ApiError {
    ApiError::Internal(format!("the {} being written is unreadable", entry.kind))
}

/// Whether a charted treatment names a product the shipped catalogue does not know (which the clinic's
/// own may).
fn names_unshipped_products(entry: &Entry) -> bool {
    let products = entry.data.get("products").and_then(Value::as_array);
    products.is_some_and(|lines| {
        lines
            .iter()
            .filter_map(|line| line.get("product").and_then(Value::as_str))
            .any(|name| safety::product_named(&RULES, &[], name).is_none())
    })
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
    let clinic = if names_unshipped_products(entry) { clinic_products(ctx).await? } else { Vec::new() };
    let (alerts, unmatched) = match as_proposed(ctx, entry, &clinic)? {
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
        Err(Refusal::Unacknowledged { alerts, missing }) => {
            Err(ApiError::SafetyAlerts { alerts, missing, withheld: 0 })
        }
        Err(Refusal::Moot { index }) => Err(ApiError::unsuitable(
            &field(index),
            "raised no blocking alert for this entry: acknowledge only the blocking alerts a refusal listed",
        )),
        Err(Refusal::Repeated { index }) => Err(ApiError::unsuitable(&field(index), "is acknowledged twice")),
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

/// What an acknowledgement let through: a version of a chart entry, or an appointment.
pub struct Target<'a> {
    pub patient: EntityId,
    pub kind: &'a str,
    pub id: EntityId,
    pub version: u64,
}

impl<'a> Target<'a> {
    pub fn entry(entry: &'a Entry) -> Self {
        Self { patient: entry.patient_id, kind: entry.kind.as_str(), id: entry.id, version: entry.version }
    }
}

/// The overrides index items of the alerts acknowledged at `at` (those kept from before are indexed
/// already).
pub fn override_writes(clinic: EntityId, target: Target<'_>, record: &SafetyRecord, at: &str) -> Vec<Guarded> {
    record
        .made_at(at)
        .map(|o| {
            let mut item = Item::new();
            item.insert(PK.into(), keys::overrides_pk(clinic).into());
            item.insert(SK.into(), keys::override_sk(&o.at, target.id, target.version, &o.rule_id).into());
            let fields = json!({
                "patientId": target.patient,
                "entryKind": target.kind,
                "entryId": target.id,
                "entryVersion": target.version,
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

/// The audit resources of the alerts acknowledged at `at`, by rule id.
pub fn override_resources(record: &SafetyRecord, at: &str) -> Vec<Resource> {
    record.made_at(at).map(|o| Resource::new("safety-override", &o.rule_id)).collect()
}

/// The safety gate of a booking of a service that names its treatment, as of the appointment's day: the
/// record of what it raised, and the alerts the caller may see. An alert that rests on a chart entry the
/// caller's role does not read is never shown to them nor acknowledged by them: a blocking one is
/// `withheld`, for a practitioner or nurse to act on.
pub async fn booking_gate(
    ctx: &Ctx,
    patient: EntityId,
    plan: &TreatmentPlan,
    day: NaiveDate,
    given: Vec<Acknowledgement>,
) -> Result<(SafetyRecord, Vec<Alert>), ApiError> {
    let clinic = if plan.names_clinic_products() { clinic_products(ctx).await? } else { Vec::new() };
    let proposed = plan.resolve(&clinic).map_err(|unresolved| {
        let why = match unresolved {
            Unresolved::Unknown(i) => format!("product {i} is not the clinic's"),
            Unresolved::OfAnotherType(i, why) => format!("product {i} {why}"),
        };
        ApiError::Conflict(format!("the service's treatment names a {why}: correct the service"))
    })?;
    let entries = chart::current_entries(ctx, patient).await?;
    let alerts = safety::check(&RULES, &Chart::of(&entries), &proposed, day);
    let role = ctx.caller.role;
    let reads = |kind: ChartKind| routes::reads_chart(kind, role);
    let visible = |alert: &Alert| alert.facts.iter().all(|f| reads(f.kind));
    for (index, ack) in given.iter().enumerate() {
        let acknowledgeable = alerts.iter().any(|a| a.rule_id == ack.rule_id && a.severity.blocks() && visible(a));
        if !acknowledgeable {
            return Err(ApiError::unsuitable(
                &format!("{ACKNOWLEDGEMENTS}[{index}].ruleId"),
                "raised no blocking alert you may acknowledge for this booking: acknowledge only those a refusal listed",
            ));
        }
    }
    let shown: Vec<Alert> = alerts.iter().filter(|a| visible(a)).cloned().collect();
    let decision = Decision { alerts, given, kept: &[], enforced: true };
    match decision.decide(&ctx.actor(), &ctx.now_text(), Vec::new()) {
        Ok(record) => Ok((record, shown)),
        Err(Refusal::Unacknowledged { missing, .. }) => {
            let (seen, withheld): (Vec<String>, Vec<String>) =
                missing.into_iter().partition(|id| shown.iter().any(|a| &a.rule_id == id));
            Err(ApiError::SafetyAlerts { alerts: shown, missing: seen, withheld: withheld.len() })
        }
        // Each acknowledgement was held to a blocking alert the caller sees above: only a repeat is left.
        Err(Refusal::Moot { index } | Refusal::Repeated { index }) => {
            Err(ApiError::unsuitable(&format!("{ACKNOWLEDGEMENTS}[{index}].ruleId"), "is acknowledged twice"))
        }
    }
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
