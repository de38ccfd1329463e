//! The safety gate of a charted treatment or medication: its blocking alerts stop the write unless each
//! is acknowledged with a reason, and what the check said is kept with the entry.

use serde::{Deserialize, Serialize};

use super::Alert;
use super::rules::{AlertSeverity, RULES};
use crate::domain::chart::Actor;
use crate::domain::fields::{Form, Issue};
use crate::domain::values::ShortText;

/// The most acknowledgements one write carries.
pub const MAX_ACKNOWLEDGEMENTS: usize = 20;

/// The request field that carries them.
pub const ACKNOWLEDGEMENTS: &str = "safetyOverrides";

/// A blocking alert acknowledged in a request: the rule, and why the action goes ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    pub rule_id: String,
    pub reason: ShortText,
}

impl Acknowledgement {
    /// `{"ruleId", "reason"}`: a rule of the rule set, and a reason (without one, 422).
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["ruleId", "reason"]);
        let rule_id: Option<ShortText> = form.req("ruleId");
        let reason: Option<ShortText> = form.opt("reason");
        if !form.given("reason") {
            let why = "is required: say why the action goes ahead despite the alert";
            form.reject("reason", Issue::Rule(why.into()));
            return None;
        }
        let rule_id = rule_id?.as_str().to_string();
        if !RULES.rules.iter().any(|r| r.id == rule_id) {
            form.reject("ruleId", Issue::Rule("names no rule of the rule set".into()));
            return None;
        }
        Some(Self { rule_id, reason: reason? })
    }

    /// The list a create body or a patch carries (none when absent).
    pub fn read_all(form: &Form<'_>) -> Option<Vec<Self>> {
        form.objects(ACKNOWLEDGEMENTS, 0, MAX_ACKNOWLEDGEMENTS, Self::read)
    }
}

/// A blocking alert that was acknowledged, as kept with the entry and listed for the clinic's admins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    pub rule_id: String,
    pub severity: AlertSeverity,
    pub summary: String,
    pub reason: ShortText,
    pub by: Actor,
    pub at: String,
}

/// What the safety check said when a version was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyRecord {
    pub rule_set: String,
    pub checked_at: String,
    /// Every alert raised, worst first.
    pub alerts: Vec<Alert>,
    /// The blocking alerts acknowledged, this version's and those kept from the version it replaced.
    pub overrides: Vec<Override>,
    /// Products named on a treatment that the catalogue does not know: checked by the treatment's type
    /// only.
    pub unmatched_products: Vec<String>,
}

impl SafetyRecord {
    /// The overrides made by the version checked at `at` (those kept from earlier versions left out).
    pub fn made_at<'a>(&'a self, at: &'a str) -> impl Iterator<Item = &'a Override> {
        self.overrides.iter().filter(move |o| o.at == at)
    }
}

/// Why a write may not go ahead.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// Blocking alerts that nobody acknowledged (`missing`, by rule id); `alerts` is every alert raised.
    Unacknowledged { alerts: Vec<Alert>, missing: Vec<String> },
    /// The acknowledgement at `index` names a rule that raised no blocking alert.
    Moot { index: usize },
    /// The acknowledgement at `index` names a rule acknowledged before it in the same request.
    Repeated { index: usize },
}

/// What a write's check decides.
pub struct Decision<'a> {
    pub alerts: Vec<Alert>,
    /// The acknowledgements of this request.
    pub given: Vec<Acknowledgement>,
    /// The overrides of the version being replaced: an alert acknowledged once stays acknowledged.
    pub kept: &'a [Override],
    /// False for an entry that records what another source says (a patient's form, an import): its alerts
    /// are kept with it, never refused.
    pub enforced: bool,
}

impl Decision<'_> {
    /// The record to keep with the entry, or why the write is refused.
    pub fn decide(self, by: &Actor, at: &str, unmatched_products: Vec<String>) -> Result<SafetyRecord, Refusal> {
        let blocking: Vec<&Alert> = self.alerts.iter().filter(|a| a.severity.blocks()).collect();
        for (index, ack) in self.given.iter().enumerate() {
            if self.given[..index].iter().any(|earlier| earlier.rule_id == ack.rule_id) {
                return Err(Refusal::Repeated { index });
            }
            if !blocking.iter().any(|a| a.rule_id == ack.rule_id) {
                return Err(Refusal::Moot { index });
            }
        }
        let mut overrides = Vec::new();
        let mut missing = Vec::new();
        for alert in &blocking {
            if let Some(ack) = self.given.iter().find(|g| g.rule_id == alert.rule_id) {
                overrides.push(Override {
                    rule_id: alert.rule_id.clone(),
                    severity: alert.severity,
                    summary: alert.summary.clone(),
                    reason: ack.reason.clone(),
                    by: by.clone(),
                    at: at.to_string(),
                });
            } else if let Some(kept) = self.kept.iter().find(|k| k.rule_id == alert.rule_id) {
                overrides.push(kept.clone());
            } else {
                missing.push(alert.rule_id.clone());
            }
        }
        if self.enforced && !missing.is_empty() {
            return Err(Refusal::Unacknowledged { alerts: self.alerts, missing });
        }
        Ok(SafetyRecord {
            rule_set: RULES.version.clone(),
            checked_at: at.to_string(),
            alerts: self.alerts,
            overrides,
            unmatched_products,
        })
    }
}
