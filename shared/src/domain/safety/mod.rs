//! Safety checks at the point of care: a proposed treatment or medication held against the patient's
//! chart by the shipped rule set, giving the alerts with the facts that raised them and their sources.

pub mod gate;
pub mod plan;
pub mod products;
pub mod rules;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::chart::allergy::{Allergy, AllergyStatus};
use crate::domain::chart::condition::Condition;
use crate::domain::chart::medication::Medication;
use crate::domain::chart::profile::AestheticProfile;
use crate::domain::chart::treatment::{Treatment, TreatmentType};
use crate::domain::chart::vitals::Vitals;
use crate::domain::chart::{ChartKind, Entry};
use crate::domain::fields::{Context, ParseStr};
use crate::domain::schema::one_of;
use crate::domain::values::EntityId;
use rules::{AlertSeverity, ChartMatch, Citation, Procedure, Product, ProposedMatch, RuleSet, Source};

/// A product of the catalogue, by its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(pub String);

impl ParseStr for ProductId {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        match rules::RULES.product(s).is_some() || EntityId::parse(s).is_some() {
            true => Ok(Self(s.to_string())),
            false => {
                Err("is no product of the catalogue: a shipped product's id, or the id of one the clinic added".into())
            }
        }
    }

    fn schema() -> Value {
        serde_json::json!({"anyOf": [one_of(rules::RULES.products.iter().map(|p| &p.id)), EntityId::schema()]})
    }
}

impl ProductId {
    /// Whether it names a product of the shipped catalogue (else one the clinic added).
    pub fn is_shipped(&self) -> bool {
        rules::RULES.product(&self.0).is_some()
    }
}

/// A substance class of the rule set, by its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClassId(pub String);

impl ParseStr for ClassId {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        match rules::RULES.class(s) {
            Some(_) => Ok(Self(s.to_string())),
            None => Err("is no class of the rule set".into()),
        }
    }

    fn schema() -> Value {
        one_of(rules::RULES.classes.iter().map(|c| &c.id))
    }
}

/// A procedure of the catalogue, by its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcedureId(pub String);

impl ParseStr for ProcedureId {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        match rules::RULES.procedure(s) {
            Some(_) => Ok(Self(s.to_string())),
            None => Err("is no procedure of the catalogue".into()),
        }
    }

    fn schema() -> Value {
        one_of(rules::RULES.procedures.iter().map(|p| &p.id))
    }
}

/// An RxNorm concept id: 1 to 10 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxNormCode(pub String);

impl ParseStr for RxNormCode {
    fn parse_str(s: &str, _: &Context) -> Result<Self, String> {
        let digits = (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if digits { Ok(Self(s.to_string())) } else { Err("must be an RxNorm concept id, 1 to 10 digits".into()) }
    }

    fn schema() -> Value {
        crate::domain::schema::pattern("^[0-9]{1,10}$")
    }
}

/// What a clinician proposes to do, resolved against the catalogue.
#[derive(Debug)]
pub enum Proposed<'r> {
    Treatment {
        treatment_type: TreatmentType,
        products: Vec<&'r Product>,
        procedure: Option<&'r Procedure>,
    },
    /// A medication by its name, in the classes its name or RxNorm code puts it.
    Medication {
        classes: Vec<&'r str>,
    },
}

/// A chart entry that raised an alert, and what of it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fact {
    pub kind: ChartKind,
    pub entry_id: EntityId,
    pub detail: String,
}

/// A source as an alert cites it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cited {
    #[serde(flatten)]
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub rule_id: String,
    pub severity: AlertSeverity,
    pub summary: String,
    pub advice: String,
    /// The chart entries that raised it (none for a rule about the action alone).
    pub facts: Vec<Fact>,
    pub sources: Vec<Cited>,
}

/// Text folded for matching names: accents and case dropped, every run of other characters one space,
/// with a space at each end so that a name is found only as whole words.
pub fn words(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::from(" ");
    for c in text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Whether the folded `text` names `name` (as whole words).
fn names(folded: &str, name: &str) -> bool {
    let name = words(name);
    name.trim() != "" && folded.contains(&name)
}

/// The valid entries of the chart, read as what they record, with the names rules match folded once
/// (`words`): an allergy's substance and reaction, a medication's name, a treatment's products.
pub struct Chart<'e> {
    allergies: Vec<(&'e Entry, Allergy, [String; 2])>,
    medications: Vec<(&'e Entry, Medication, String)>,
    conditions: Vec<(&'e Entry, Condition)>,
    profile: Option<(&'e Entry, AestheticProfile)>,
    treatments: Vec<(&'e Entry, Treatment, Vec<String>)>,
    /// The latest vital signs.
    vitals: Option<(&'e Entry, Vitals)>,
}

fn read<T: serde::de::DeserializeOwned>(entry: &Entry) -> Option<T> {
    serde_json::from_value(Value::Object(entry.data.clone())).ok()
}

impl<'e> Chart<'e> {
    /// The chart of these entries (entered-in-error ones left out; the latest profile counts).
    pub fn of(entries: &'e [Entry]) -> Self {
        let valid = || entries.iter().filter(|e| e.is_valid());
        let of_kind = |kind: ChartKind| valid().filter(move |e| e.kind == kind);
        let text = |t: Option<&crate::domain::values::ShortText>| words(t.map_or("", |t| t.as_str()));
        Self {
            allergies: of_kind(ChartKind::Allergy)
                .filter_map(|e| {
                    let allergy: Allergy = read(e)?;
                    let folded = [text(allergy.substance.as_ref()), text(allergy.reaction.as_ref())];
                    Some((e, allergy, folded))
                })
                .collect(),
            medications: of_kind(ChartKind::Medication)
                .filter_map(|e| {
                    let medication: Medication = read(e)?;
                    let folded = words(medication.name.as_str());
                    Some((e, medication, folded))
                })
                .collect(),
            conditions: of_kind(ChartKind::Condition).filter_map(|e| Some((e, read(e)?))).collect(),
            profile: of_kind(ChartKind::AestheticProfile)
                .max_by(|a, b| a.updated_at.cmp(&b.updated_at))
                .and_then(|e| Some((e, read(e)?))),
            treatments: of_kind(ChartKind::Treatment)
                .filter_map(|e| {
                    let treatment: Treatment = read(e)?;
                    let folded = treatment.products.iter().map(|p| words(p.product.as_str())).collect();
                    Some((e, treatment, folded))
                })
                .collect(),
            vitals: of_kind(ChartKind::Vitals)
                .filter_map(|e| Some((e, read::<Vitals>(e)?)))
                .max_by(|(_, a), (_, b)| a.measured_at.as_str().cmp(b.measured_at.as_str())),
        }
    }
}

fn fact(entry: &Entry, detail: String) -> Fact {
    Fact { kind: entry.kind, entry_id: entry.id, detail }
}

/// Whether a folded text (`words` of a medication's name, an allergy's substance) names a member of one
/// of `classes`, or carries the RxNorm code of one.
fn in_classes(rules: &RuleSet, classes: &[String], folded: &str, rxnorm: Option<&str>) -> bool {
    classes.iter().filter_map(|c| rules.class(c)).flat_map(|c| &c.members).any(|member| {
        member.folded.iter().any(|name| folded.contains(name.as_str()))
            || (rxnorm.is_some() && member.rxnorm.as_deref() == rxnorm)
    })
}

/// The days from `date` to `today`.
fn days_before(today: NaiveDate, date: NaiveDate) -> i64 {
    (today - date).num_days()
}

impl Chart<'_> {
    /// The entries that show `fact`, or `None` when the chart does not.
    fn shows(&self, rules: &RuleSet, fact_match: &ChartMatch, today: NaiveDate) -> Option<Vec<Fact>> {
        let found: Vec<Fact> = match fact_match {
            ChartMatch::Allergy { classes, severities, reactions, at_least } => {
                let found: Vec<Fact> = self
                    .allergies
                    .iter()
                    .filter(|(_, a, _)| a.status == AllergyStatus::Active && !a.no_known_allergies)
                    .filter(|(_, a, [substance, _])| {
                        let code = a.code.as_ref().filter(|c| c.system.as_str() == "rxnorm").map(|c| c.code.as_str());
                        classes.is_empty() || in_classes(rules, classes, substance, code)
                    })
                    .filter(|(_, a, _)| severities.is_empty() || a.severity.is_some_and(|s| severities.contains(&s)))
                    .filter(|(_, _, [_, reaction])| {
                        reactions.is_empty() || reactions.iter().any(|word| names(reaction, word))
                    })
                    .map(|(e, a, _)| {
                        let substance = a.substance.as_ref().map_or("an unnamed substance", |s| s.as_str());
                        let reaction = a.reaction.as_ref().map(|r| format!(", reaction: {}", r.as_str()));
                        let severity = a.severity.map(|s| format!(", {s}"));
                        fact(
                            e,
                            format!(
                                "allergy to {substance}{}{}",
                                reaction.unwrap_or_default(),
                                severity.unwrap_or_default()
                            ),
                        )
                    })
                    .collect();
                if found.len() < *at_least { Vec::new() } else { found }
            }
            ChartMatch::Medication { classes, within_days } => self
                .medications
                .iter()
                .filter(|(_, _, name)| in_classes(rules, classes, name, None))
                // A medication stopped on a date not recorded may have been stopped within any window.
                .filter(|(_, m, _)| {
                    m.status.is_current()
                        || within_days.is_some_and(|days| {
                            m.stop_date.as_ref().is_none_or(|stop| days_before(today, stop.0) <= i64::from(days))
                        })
                })
                .map(|(e, m, _)| {
                    let when = match &m.stop_date {
                        _ if m.status.is_current() => {
                            m.start_date.as_ref().map_or("taken now".into(), |start| format!("taken since {}", start.0))
                        }
                        Some(stop) => format!("stopped {}", stop.0),
                        None => "stopped, date not recorded".into(),
                    };
                    fact(e, format!("{} ({when})", m.name.as_str()))
                })
                .collect(),
            ChartMatch::Condition { codes } => self
                .conditions
                .iter()
                .filter(|(_, c)| c.status.is_active())
                .filter_map(|(e, c)| {
                    let code = c.code.as_ref()?.as_str();
                    codes.iter().any(|prefix| code.starts_with(prefix.as_str())).then(|| {
                        let text = c.text.as_ref().map(|t| format!(" {}", t.as_str())).unwrap_or_default();
                        fact(e, format!("condition {code}{text}"))
                    })
                })
                .collect(),
            ChartMatch::Pregnancy { statuses } => self
                .profile
                .iter()
                .filter_map(|(e, p)| {
                    let pregnancy = p.pregnancy.as_ref().filter(|p| statuses.contains(&p.status))?;
                    Some(fact(e, format!("{} (recorded {})", pregnancy.status, pregnancy.recorded_on.0.0)))
                })
                .collect(),
            ChartMatch::Fitzpatrick { types } => self
                .profile
                .iter()
                .filter_map(|(e, p)| {
                    let phototype = p.fitzpatrick.filter(|f| types.contains(f))?;
                    Some(fact(e, format!("Fitzpatrick type {phototype}")))
                })
                .collect(),
            ChartMatch::History { flags } => self
                .profile
                .iter()
                .flat_map(|(e, p)| {
                    let history = serde_json::to_value(&p.history).unwrap_or_default();
                    flags
                        .iter()
                        .filter(move |flag| history.get(flag.as_str()) == Some(&Value::Bool(true)))
                        .map(move |flag| fact(e, format!("history of {flag}")))
                })
                .collect(),
            ChartMatch::Treatment { types, product_classes, within_days } => self
                .treatments
                .iter()
                .filter(|(_, t, _)| days_before(today, t.performed_at.date()) <= i64::from(*within_days))
                .filter(|(_, t, products)| {
                    types.contains(&t.treatment_type)
                        || products.iter().any(|name| in_classes(rules, product_classes, name, None))
                })
                .map(|(e, t, _)| fact(e, format!("{} on {}", t.treatment_type, t.performed_at.date())))
                .collect(),
            ChartMatch::Vitals { measures, flag, within_days } => self
                .vitals
                .iter()
                .filter(|(_, v)| days_before(today, v.measured_at.date()) <= i64::from(*within_days))
                .flat_map(|(e, v)| {
                    v.flags()
                        .into_iter()
                        .filter(|f| f.flag == *flag && measures.iter().any(|m| m == f.measure))
                        .map(|f| {
                            let value = (f.value * 10.0).round() / 10.0;
                            let at = v.measured_at.as_str();
                            fact(
                                e,
                                format!("{} {value} ({}; normal {}), measured {at}", f.measure, f.flag, f.normal_range),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        (!found.is_empty()).then_some(found)
    }
}

impl Proposed<'_> {
    /// Whether the action is what `proposed` describes.
    fn is(&self, proposed: &ProposedMatch) -> bool {
        match (self, proposed) {
            (
                Proposed::Treatment { treatment_type, products, procedure },
                ProposedMatch::Treatment { types, product_classes, products: named, procedure_tags },
            ) => {
                let contains = |class: &String| products.iter().any(|p| p.classes.contains(class));
                (types.is_empty() || types.contains(treatment_type))
                    && (product_classes.is_empty() || product_classes.iter().any(contains))
                    && (named.is_empty() || products.iter().any(|p| named.contains(&p.id)))
                    && (procedure_tags.is_empty()
                        || procedure.is_some_and(|p| p.tags.iter().any(|t| procedure_tags.contains(t))))
            }
            (Proposed::Medication { classes }, ProposedMatch::Medication { classes: matched }) => {
                classes.iter().any(|c| matched.iter().any(|m| m == c))
            }
            _ => false,
        }
    }
}

/// An alert of a rule (or a standing alert) with these facts, its citations resolved.
fn alert(
    rules: &RuleSet,
    id: &str,
    severity: AlertSeverity,
    (summary, advice): (&str, &str),
    citations: &[Citation],
    facts: Vec<Fact>,
) -> Alert {
    Alert {
        rule_id: id.to_string(),
        severity,
        summary: summary.to_string(),
        advice: advice.to_string(),
        facts,
        sources: citations
            .iter()
            .filter_map(|c| {
                let source = rules.sources.get(&c.source)?.clone();
                Some(Cited { source, section: c.section.clone(), quote: c.quote.clone() })
            })
            .collect(),
    }
}

/// Adds the facts not yet in `facts`.
fn gather(facts: &mut Vec<Fact>, found: Vec<Fact>) {
    for f in found {
        if !facts.contains(&f) {
            facts.push(f);
        }
    }
}

/// The alert of `rule` if it fires for `proposed` on `chart`.
fn fire(
    rules: &RuleSet,
    rule: &rules::Rule,
    chart: &Chart<'_>,
    proposed: &Proposed<'_>,
    today: NaiveDate,
) -> Option<Alert> {
    let mut facts: Vec<Fact> = Vec::new();
    let mut fired = false;
    for when in rule.when.iter().filter(|w| proposed.is(&w.proposed)) {
        if when.unless.iter().any(|m| chart.shows(rules, m, today).is_some()) {
            continue;
        }
        if when.chart.is_empty() {
            fired = true;
        }
        for found in when.chart.iter().filter_map(|m| chart.shows(rules, m, today)) {
            fired = true;
            gather(&mut facts, found);
        }
    }
    fired.then(|| alert(rules, &rule.id, rule.severity, (&rule.summary, &rule.advice), &rule.sources, facts))
}

fn worst_first(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| b.severity.rank().cmp(&a.severity.rank()).then_with(|| a.rule_id.cmp(&b.rule_id)));
}

/// The standing alerts of `chart` on `today` (its own facts, whatever is proposed), worst first.
pub fn standing(rules: &RuleSet, chart: &Chart<'_>, today: NaiveDate) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = rules
        .standing
        .iter()
        .filter_map(|s| {
            let mut facts = Vec::new();
            for found in s.chart.iter().filter_map(|m| chart.shows(rules, m, today)) {
                gather(&mut facts, found);
            }
            (!facts.is_empty()).then(|| alert(rules, &s.id, s.severity, (&s.summary, &s.advice), &s.sources, facts))
        })
        .collect();
    worst_first(&mut alerts);
    alerts
}

/// Every alert the rule set raises for `proposed` on `chart` on `today`, worst first.
pub fn check(rules: &RuleSet, chart: &Chart<'_>, proposed: &Proposed<'_>, today: NaiveDate) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = rules.rules.iter().filter_map(|r| fire(rules, r, chart, proposed, today)).collect();
    worst_first(&mut alerts);
    alerts
}

/// The classes a medication's name or RxNorm code puts it in.
pub fn medication_classes<'r>(rules: &'r RuleSet, name: &str, rxnorm: Option<&str>) -> Vec<&'r str> {
    let folded = words(name);
    rules
        .classes
        .iter()
        .filter(|class| in_classes(rules, std::slice::from_ref(&class.id), &folded, rxnorm))
        .map(|class| class.id.as_str())
        .collect()
}

/// The product a charted name names, by its name or an alias: the shipped catalogue's, else one of the
/// clinic's own.
pub fn product_named<'r>(rules: &'r RuleSet, clinic: &'r [Product], name: &str) -> Option<&'r Product> {
    let wanted = words(name);
    rules.products.iter().chain(clinic).find(|p| p.folded.contains(&wanted))
}
