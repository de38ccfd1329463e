//! The safety rule set as shipped in `rules/safety.json`: the rules with their sources, the substance
//! classes and products they name, and the procedures they tell apart; read once, checked for shape.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::chart::allergy::Severity;
use crate::domain::chart::profile::{Fitzpatrick, HISTORY_FLAGS, PregnancyStatus};
use crate::domain::chart::treatment::TreatmentType;
use crate::domain::chart::vitals::{FLAGGED_MEASURES, Flag};

crate::string_enum! {
    /// How strongly an alert speaks: the first two make a check `blocking`.
    AlertSeverity { Contraindicated = "contraindicated", Serious = "serious", Caution = "caution", Info = "info" }
}

impl AlertSeverity {
    /// Higher is worse: alerts are listed worst first.
    pub fn rank(self) -> u8 {
        match self {
            AlertSeverity::Contraindicated => 3,
            AlertSeverity::Serious => 2,
            AlertSeverity::Caution => 1,
            AlertSeverity::Info => 0,
        }
    }

    /// Whether an alert of this severity stops the action until it is acknowledged.
    pub fn blocks(self) -> bool {
        self.rank() >= AlertSeverity::Serious.rank()
    }
}

/// The whole rule set.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    /// The version the answers name, a date.
    pub version: String,
    /// Who must review the rules before they are relied on, and how the sources were checked.
    pub review: String,
    pub sources: BTreeMap<String, Source>,
    pub classes: Vec<SubstanceClass>,
    pub products: Vec<Product>,
    pub procedures: Vec<Procedure>,
    pub rules: Vec<Rule>,
    /// What the chart summary shows whatever is proposed: facts a practitioner must have in mind.
    pub standing: Vec<Standing>,
}

/// A publication a rule rests on.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub publisher: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What is known of the source where its text could not be read whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Drugs, ingredients or materials that rules treat alike (a class of drugs, a filler's material).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubstanceClass {
    pub id: String,
    pub name: String,
    pub members: Vec<Member>,
}

/// A substance of a class: its name, the other names it is charted under, its RxNorm ingredient code.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub rxnorm: Option<String>,
    /// Its names folded for matching (`words`), once, when the rule set is loaded.
    #[serde(skip)]
    pub folded: Vec<String>,
}

impl Member {
    /// Every name it goes by.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A product of the catalogue and the classes of what it contains.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub manufacturer: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub treatment_type: TreatmentType,
    pub classes: Vec<String>,
    /// The source of what it contains.
    pub source: String,
    /// What the source leaves unverified.
    #[serde(default)]
    pub note: Option<String>,
    /// Its names folded for matching (`words`), once, when the rule set is loaded.
    #[serde(skip)]
    pub folded: Vec<String>,
}

impl Product {
    /// Every name it goes by.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A procedure rules tell apart from others of its treatment type (fully ablative from fractional).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Procedure {
    pub id: String,
    pub name: String,
    pub treatment_type: TreatmentType,
    pub tags: Vec<String>,
}

/// One rule: when it fires, how strongly, what to do, and on what authority.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub severity: AlertSeverity,
    pub summary: String,
    pub advice: String,
    /// Alternatives: the rule fires when any holds.
    pub when: Vec<When>,
    pub sources: Vec<Citation>,
}

/// A standing alert: raised by the chart alone (any of `chart`), shown with the chart summary.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Standing {
    pub id: String,
    pub severity: AlertSeverity,
    pub summary: String,
    pub advice: String,
    pub chart: Vec<ChartMatch>,
    pub sources: Vec<Citation>,
}

/// A source as a rule cites it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Citation {
    pub source: String,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
}

/// What the proposed action is, and what the chart must show (any of `chart`; nothing more when empty).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct When {
    pub proposed: ProposedMatch,
    #[serde(default)]
    pub chart: Vec<ChartMatch>,
    /// Chart facts that keep the rule silent (the exception its source names).
    #[serde(default)]
    pub unless: Vec<ChartMatch>,
}

/// The kind of action a rule is about, and which of that kind.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum ProposedMatch {
    /// A treatment: every criterion given must hold.
    Treatment {
        #[serde(default)]
        types: Vec<TreatmentType>,
        /// A product used contains one of these classes.
        #[serde(default, rename = "productClasses")]
        product_classes: Vec<String>,
        #[serde(default)]
        products: Vec<String>,
        /// The procedure named carries one of these tags.
        #[serde(default, rename = "procedureTags")]
        procedure_tags: Vec<String>,
    },
    /// A medication of one of these classes.
    Medication { classes: Vec<String> },
}

/// A fact of the chart.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum ChartMatch {
    /// Active allergies: to a class (any when empty), of these severities or reactions, at least so many.
    Allergy {
        #[serde(default)]
        classes: Vec<String>,
        #[serde(default)]
        severities: Vec<Severity>,
        /// Words of the recorded reaction, any of them.
        #[serde(default)]
        reactions: Vec<String>,
        #[serde(default = "one", rename = "atLeast")]
        at_least: usize,
    },
    /// A medication of a class taken now, or stopped within the days given.
    Medication {
        classes: Vec<String>,
        #[serde(default, rename = "withinDays")]
        within_days: Option<u32>,
    },
    /// An active condition whose ICD-10 code starts with one of these.
    Condition {
        codes: Vec<String>,
    },
    Pregnancy {
        statuses: Vec<PregnancyStatus>,
    },
    Fitzpatrick {
        types: Vec<Fitzpatrick>,
    },
    /// A history flag of the aesthetic profile set.
    History {
        flags: Vec<String>,
    },
    /// A treatment of these types, or with products of these classes, within the days given.
    Treatment {
        #[serde(default)]
        types: Vec<TreatmentType>,
        #[serde(default, rename = "productClasses")]
        product_classes: Vec<String>,
        #[serde(rename = "withinDays")]
        within_days: u32,
    },
    /// The latest vital signs, taken within the days given, flag one of these measures on this side of its
    /// normal range.
    Vitals {
        measures: Vec<String>,
        flag: Flag,
        #[serde(rename = "withinDays")]
        within_days: u32,
    },
}

fn one() -> usize {
    1
}

/// The rule set shipped with this build.
pub static RULES: LazyLock<RuleSet> = LazyLock::new(|| {
    RuleSet::read(include_str!("../../../rules/safety.json")).expect("rules/safety.json is a rule set")
});

impl RuleSet {
    /// A rule set from its JSON, with every name folded for matching once.
    pub fn read(json: &str) -> serde_json::Result<Self> {
        let mut rules: RuleSet = serde_json::from_str(json)?;
        let fold = |names: Vec<&str>| names.into_iter().map(super::words).filter(|n| !n.trim().is_empty()).collect();
        for member in rules.classes.iter_mut().flat_map(|c| c.members.iter_mut()) {
            member.folded = fold(member.names().collect());
        }
        for product in &mut rules.products {
            product.folded = fold(product.names().collect());
        }
        Ok(rules)
    }

    pub fn class(&self, id: &str) -> Option<&SubstanceClass> {
        self.classes.iter().find(|c| c.id == id)
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn procedure(&self, id: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.id == id)
    }

    /// What is wrong with the rule set's shape: ids repeated, names that lead nowhere, rules without a
    /// source or advice. Empty when it is whole.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut unique = |what: &str, ids: Vec<&str>| {
            let mut seen = HashSet::new();
            for id in ids {
                let kebab =
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !kebab || !seen.insert(id) {
                    problems.push(format!("{what} id {id:?} is repeated or not kebab-case"));
                }
            }
        };
        unique("class", self.classes.iter().map(|c| c.id.as_str()).collect());
        unique("product", self.products.iter().map(|p| p.id.as_str()).collect());
        unique("procedure", self.procedures.iter().map(|p| p.id.as_str()).collect());
        unique(
            "rule",
            self.rules.iter().map(|r| r.id.as_str()).chain(self.standing.iter().map(|s| s.id.as_str())).collect(),
        );
        let tags: HashSet<&str> = self.procedures.iter().flat_map(|p| p.tags.iter().map(String::as_str)).collect();
        for (name, source) in &self.sources {
            if source.url.is_none() && source.note.is_none() {
                problems.push(format!("source {name} has neither a URL nor a note saying why"));
            }
        }
        for class in &self.classes {
            if class.members.is_empty() {
                problems.push(format!("class {} has no members", class.id));
            }
            // A name is matched as whole words: `A/B` would match only text that holds both.
            for name in class.members.iter().flat_map(Member::names).filter(|n| n.contains('/')) {
                problems.push(format!("class {} has the name {name:?}: give each name of it apart", class.id));
            }
        }
        for product in &self.products {
            self.check_classes(&format!("product {}", product.id), &product.classes, &mut problems);
            if !self.sources.contains_key(&product.source) {
                problems.push(format!("product {} cites the unknown source {}", product.id, product.source));
            }
        }
        for rule in &self.rules {
            let owner = format!("rule {}", rule.id);
            let texts = [&rule.summary, &rule.advice];
            self.check_alert(&owner, texts, rule.when.is_empty(), &rule.sources, &mut problems);
            for when in &rule.when {
                match &when.proposed {
                    ProposedMatch::Treatment { types, product_classes, products, procedure_tags } => {
                        if types.is_empty()
                            && product_classes.is_empty()
                            && products.is_empty()
                            && procedure_tags.is_empty()
                        {
                            problems.push(format!("{owner} matches every treatment"));
                        }
                        self.check_classes(&owner, product_classes, &mut problems);
                        for product in products.iter().filter(|p| self.product(p).is_none()) {
                            problems.push(format!("{owner} names the unknown product {product}"));
                        }
                        for tag in procedure_tags.iter().filter(|t| !tags.contains(t.as_str())) {
                            problems.push(format!("{owner} names the procedure tag {tag}, which no procedure has"));
                        }
                    }
                    ProposedMatch::Medication { classes } => self.check_classes(&owner, classes, &mut problems),
                }
                for fact in when.chart.iter().chain(&when.unless) {
                    self.check_fact(&owner, fact, &mut problems);
                }
            }
        }
        for standing in &self.standing {
            let owner = format!("standing alert {}", standing.id);
            let texts = [&standing.summary, &standing.advice];
            self.check_alert(&owner, texts, standing.chart.is_empty(), &standing.sources, &mut problems);
            for fact in &standing.chart {
                self.check_fact(&owner, fact, &mut problems);
            }
        }
        problems
    }

    /// What is wrong with what a rule or a standing alert says: its texts, a condition, its sources.
    fn check_alert(
        &self,
        owner: &str,
        [summary, advice]: [&String; 2],
        unconditional: bool,
        sources: &[Citation],
        problems: &mut Vec<String>,
    ) {
        if summary.trim().is_empty() || advice.trim().is_empty() {
            problems.push(format!("{owner} has no summary or advice"));
        }
        if unconditional || sources.is_empty() {
            problems.push(format!("{owner} has no condition or no source"));
        }
        for citation in sources.iter().filter(|c| !self.sources.contains_key(&c.source)) {
            problems.push(format!("{owner} cites the unknown source {}", citation.source));
        }
    }

    fn check_classes(&self, owner: &str, classes: &[String], problems: &mut Vec<String>) {
        for class in classes.iter().filter(|c| self.class(c).is_none()) {
            problems.push(format!("{owner} names the unknown class {class}"));
        }
    }

    /// What is wrong with a chart fact a rule names.
    fn check_fact(&self, owner: &str, fact: &ChartMatch, problems: &mut Vec<String>) {
        match fact {
            ChartMatch::Allergy { classes, .. } | ChartMatch::Medication { classes, .. } => {
                self.check_classes(owner, classes, problems)
            }
            ChartMatch::Treatment { product_classes, .. } => self.check_classes(owner, product_classes, problems),
            ChartMatch::History { flags } => {
                for flag in flags.iter().filter(|f| !HISTORY_FLAGS.contains(&f.as_str())) {
                    problems.push(format!("{owner} names the unknown history flag {flag}"));
                }
            }
            ChartMatch::Condition { codes } => {
                let code_like = |c: &String| {
                    c.len() >= 3
                        && c.as_bytes()[0].is_ascii_uppercase()
                        && c[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
                };
                for code in codes.iter().filter(|c| !code_like(c)) {
                    problems.push(format!("{owner} names {code:?}, which is no ICD-10 code"));
                }
            }
            ChartMatch::Vitals { measures, .. } => {
                for measure in measures.iter().filter(|m| !FLAGGED_MEASURES.contains(&m.as_str())) {
                    problems.push(format!("{owner} names the unknown vital sign {measure}"));
                }
            }
            ChartMatch::Pregnancy { .. } | ChartMatch::Fitzpatrick { .. } => {}
        }
    }
}
