//! A clinic's plan: its prices where they differ from the list, the units included each month, a monthly
//! spend cap, and the burst quota (weighted units a minute). Set by the operator only; a clinic without
//! one is on the list prices with no cap.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Unit;
use crate::domain::fields::{Form, Issue};
use crate::domain::keys;
use crate::domain::values::{EntityId, ShortText};
use crate::store::{Item, Key, entity_item};

crate::string_enum! {
    /// What happens once a month's spend reaches the cap: keep serving and flag it, or refuse changes.
    AtCap { Soft = "soft", Hard = "hard" }
}

/// Weighted units a minute a clinic without a plan may use: a busy clinic's twenty staff at a call a
/// second each use a few thousand; a script writing thirty-odd records a second is stopped.
pub const DEFAULT_BURST: u32 = 20_000;

/// A clinic's plan as stored and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub name: ShortText,
    /// Prices that differ from the list, in millionths of a dollar per unit.
    #[serde(default)]
    pub prices: BTreeMap<Unit, u64>,
    /// Units each month before any is billed.
    #[serde(default)]
    pub included: BTreeMap<Unit, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cap_usd: Option<u32>,
    pub at_cap: AtCap,
    pub burst_units_per_minute: u32,
    /// The clinic as the payment provider knows it (`cus_…`): the billing export names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    /// 0 for the default plan of a clinic that has none stored.
    pub version: u64,
}

impl Plan {
    pub fn key(clinic: EntityId) -> Key {
        Key::new(keys::clinic_pk(clinic), "PLAN")
    }

    /// The plan of a clinic that has none.
    pub fn list() -> Self {
        Self {
            name: serde_json::from_value("pay-per-use".into()).unwrap_or_else(|_| unreachable!("a valid name")),
            prices: BTreeMap::new(),
            included: BTreeMap::new(),
            monthly_cap_usd: None,
            at_cap: AtCap::Soft,
            burst_units_per_minute: DEFAULT_BURST,
            stripe_customer_id: None,
            version: 0,
        }
    }

    pub fn to_item(&self, clinic: EntityId) -> Item {
        entity_item(&Self::key(clinic), self)
    }

    /// What one unit costs on this plan, in millionths of a dollar.
    pub fn price_of(&self, unit: Unit) -> u64 {
        self.prices.get(&unit).copied().unwrap_or(unit.price().micro_usd)
    }

    /// How many of a month's `count` units are billed: those beyond the included ones.
    pub fn billable(&self, unit: Unit, count: u64) -> u64 {
        count.saturating_sub(self.included.get(&unit).copied().unwrap_or(0))
    }

    /// What `count` units cost in a month on this plan, once the included ones are used.
    pub fn amount(&self, unit: Unit, count: u64) -> u64 {
        self.billable(unit, count) * self.price_of(unit)
    }

    /// The clinic's plan as stored, or the list plan when it has none.
    pub async fn of(records: &dyn crate::store::Records, clinic: EntityId) -> Result<Self, crate::store::StoreError> {
        match records.get(crate::store::Table::Records, &Self::key(clinic)).await? {
            Some(item) => crate::store::entity_from(item),
            None => Ok(Self::list()),
        }
    }
}

/// Reads `{unit: whole number}` with each unit at most once and the number within `max`.
fn read_per_unit(form: &Form<'_>, field: &str, max: f64) -> Option<BTreeMap<Unit, u64>> {
    form.object(field, false, |units| {
        let names: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
        units.only(&names);
        let mut out = BTreeMap::new();
        for unit in Unit::ALL {
            if let Some(value) = units.number(unit.as_str(), false, 0.0, max, "units") {
                if value.fract() != 0.0 {
                    units.reject(unit.as_str(), Issue::Rule("must be a whole number".into()));
                    return None;
                }
                out.insert(*unit, value as u64);
            }
        }
        Some(out)
    })
    .or_else(|| (!form.given(field)).then(BTreeMap::new))
}

/// What the operator sends.
pub fn read(form: &Form<'_>) -> Option<Plan> {
    form.only(&["name", "prices", "included", "monthlyCapUsd", "atCap", "burstUnitsPerMinute", "stripeCustomerId"]);
    let name = form.req("name");
    let prices = read_per_unit(form, "prices", 1_000_000_000.0);
    let included = read_per_unit(form, "included", 1_000_000_000.0);
    let cap = form.number("monthlyCapUsd", false, 1.0, 10_000_000.0, "dollars");
    let at_cap = form.opt("atCap").unwrap_or(AtCap::Soft);
    let burst = form.number("burstUnitsPerMinute", false, 10.0, 1_000_000.0, "units");
    for (field, value) in [("monthlyCapUsd", cap), ("burstUnitsPerMinute", burst)] {
        if value.is_some_and(|v| v.fract() != 0.0) {
            form.reject(field, Issue::Rule("must be a whole number".into()));
            return None;
        }
    }
    let customer: Option<ShortText> = form.opt("stripeCustomerId");
    let customer = customer.map(|c| c.as_str().to_string());
    if customer.as_deref().is_some_and(|c| {
        !(c.starts_with("cus_") && c.len() > 4 && c.len() <= 64 && c[4..].chars().all(|ch| ch.is_ascii_alphanumeric()))
    }) {
        form.reject("stripeCustomerId", Issue::Rule("must be a customer id such as cus_NffrFeUfNV2Hib".into()));
        return None;
    }
    Some(Plan {
        stripe_customer_id: customer,
        name: name?,
        prices: prices?,
        included: included?,
        monthly_cap_usd: cap.map(|c| c as u32),
        at_cap,
        burst_units_per_minute: burst.map_or(DEFAULT_BURST, |b| b as u32),
        version: 0,
    })
}

/// How long a function keeps a clinic's plan before reading it again.
const CACHED_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Plans as one process last read them (the quota check reads a plan on every call).
#[derive(Default)]
pub struct PlanCache(std::sync::Mutex<std::collections::HashMap<EntityId, (Plan, std::time::Instant)>>);

impl PlanCache {
    /// The clinic's plan, read at most once a minute.
    pub async fn get(
        &self,
        records: &dyn crate::store::Records,
        clinic: EntityId,
    ) -> Result<Plan, crate::store::StoreError> {
        let fresh = self.0.lock().ok().and_then(|cache| {
            cache.get(&clinic).filter(|(_, at)| at.elapsed() < CACHED_FOR).map(|(plan, _)| plan.clone())
        });
        if let Some(plan) = fresh {
            return Ok(plan);
        }
        let plan = Plan::of(records, clinic).await?;
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(clinic, (plan.clone(), std::time::Instant::now()));
        }
        Ok(plan)
    }

    /// Drops a clinic's plan, so the next call reads the one just saved.
    pub fn forget(&self, clinic: EntityId) {
        if let Ok(mut cache) = self.0.lock() {
            cache.remove(&clinic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn included_units_come_off_before_the_plans_price() {
        let mut plan = Plan::list();
        plan.included.insert(Unit::RecordRead, 10);
        plan.prices.insert(Unit::RecordRead, 10);
        assert_eq!(plan.amount(Unit::RecordRead, 25), 150);
        assert_eq!(plan.amount(Unit::RecordRead, 5), 0);
        assert_eq!(plan.amount(Unit::RecordWrite, 2), 400);
    }
}
