//! Usage ledgers: a clinic's month (UTC days) as JSON (`GET /v1/usage`) and as CSV (`GET /v1/usage.csv`),
//! one line per unit with its count, weight, price and amount, the daily counts, the month's total so far
//! and whether it is closed; and every clinic's totals for the operator (`GET /v1/operator/usage`).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use super::chart::query_all;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::metering::meter::{closes_at, month_of, month_start, month_totals, usage_pk};
use crate::metering::plan::{AtCap, Plan};
use crate::metering::spend::SpendFlag;
use crate::metering::{Unit, dollars};
use crate::store::schema::SK;
use crate::store::{Query, SkRange, Table, str_attr};

/// The month a ledger route asks for (`?month=YYYY-MM`, this month by default): 400 malformed, 422 ahead.
fn asked_month(ctx: &Ctx, input: &Input) -> Result<NaiveDate, ApiError> {
    let params = input.params(ctx.route.query)?;
    let this_month = month_of(ctx.now.date_naive());
    let first = match params.get("month") {
        None => this_month,
        Some(text) => month_start(text).ok_or_else(|| ApiError::field("month", "must be a month written YYYY-MM"))?,
    };
    if first > this_month {
        return Err(ApiError::field_rule("month", "must not be in the future"));
    }
    Ok(first)
}

/// One count of a day: how many, and how many of them arrived after their own month had closed.
#[derive(Clone, Copy, Default)]
struct Count {
    count: u64,
    late: u64,
}

/// A clinic's month, as its counters hold it.
struct Ledger {
    first: NaiveDate,
    closed: bool,
    days: BTreeMap<String, BTreeMap<Unit, Count>>,
}

impl Ledger {
    async fn load(ctx: &Ctx, first: NaiveDate) -> Result<Self, ApiError> {
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
        let last = next.pred_opt().unwrap_or(first);
        let query = Query::new(Table::Records, usage_pk(ctx.clinic()?))
            .sk(SkRange::Between(format!("DAY#{first}"), format!("DAY#{last}~")));
        let mut days: BTreeMap<String, BTreeMap<Unit, Count>> = BTreeMap::new();
        for item in query_all(ctx, query).await? {
            let parsed = str_attr(&item, SK).and_then(|sk| sk.strip_prefix("DAY#")).and_then(|rest| {
                let (day, unit) = rest.split_once('#')?;
                Some((day.to_string(), Unit::named(unit)?))
            });
            let read = |name: &str| item.get(name).and_then(Value::as_u64).unwrap_or(0);
            if let Some((day, unit)) = parsed {
                days.entry(day).or_default().insert(unit, Count { count: read("count"), late: read("late") });
            }
        }
        Ok(Self { first, closed: ctx.now >= closes_at(first), days })
    }

    fn month(&self) -> String {
        format!("{:04}-{:02}", self.first.year(), self.first.month())
    }

    fn totals(&self) -> BTreeMap<Unit, Count> {
        let mut totals: BTreeMap<Unit, Count> = BTreeMap::new();
        for counts in self.days.values() {
            for (unit, c) in counts {
                let total = totals.entry(*unit).or_default();
                total.count += c.count;
                total.late += c.late;
            }
        }
        totals
    }
}

/// A line of a ledger on `plan`: the unit, its count, the units included, weight and price, and the amount.
fn line(plan: &Plan, unit: Unit, count: u64) -> (Value, u64) {
    let amount = plan.amount(unit, count);
    let line = json!({"unit": unit, "count": count, "included": plan.included.get(&unit).copied().unwrap_or(0),
                      "weight": unit.price().weight, "priceUsd": dollars(plan.price_of(unit)),
                      "amountUsd": dollars(amount)});
    (line, amount)
}

/// `GET /v1/usage?month=YYYY-MM` (this month by default).
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let first = asked_month(&ctx, &input)?;
    let ledger = Ledger::load(&ctx, first).await?;
    let plan = ctx.app.plans.get(ctx.app.records.as_ref(), ctx.clinic()?).await?;
    let totals = ledger.totals();
    let mut total = 0;
    let lines: Vec<Value> = totals
        .iter()
        .map(|(unit, c)| {
            let (line, amount) = line(&plan, *unit, c.count);
            total += amount;
            line
        })
        .collect();
    let late: u64 = totals.values().map(|c| c.late).sum();
    let days: Vec<Value> = ledger
        .days
        .iter()
        .map(|(date, counts)| {
            let late: u64 = counts.values().map(|c| c.late).sum();
            let counts: serde_json::Map<String, Value> =
                counts.iter().map(|(unit, c)| (unit.to_string(), json!(c.count))).collect();
            json!({"date": date, "counts": counts, "late": late})
        })
        .collect();
    let mut note =
        String::from("counted from the audit trail once each, by UTC day; refused calls are counted, never billed");
    if late > 0 {
        note.push_str(&format!("; {late} of these arrived after their own month had closed and are counted here"));
    }
    let flag = SpendFlag::read(ctx.app.records.as_ref(), ctx.clinic()?, first).await?;
    let cap = plan.monthly_cap_usd.map(|cap| {
        // The levels the meter raised under this cap (a notice went to the administrators at each).
        let reached = flag.as_ref().filter(|f| f.holds_under(cap)).map(|f| f.percent);
        let this_month = first == month_of(ctx.now.date_naive());
        let stopped = plan.at_cap == AtCap::Hard && this_month && flag.is_some_and(|f| f.stops_changes(cap));
        json!({"capUsd": cap, "percent": (total as f64 / (f64::from(cap) * 1e6) * 1000.0).round() / 10.0,
               "atCap": plan.at_cap, "reachedPercent": reached, "changesStopped": stopped})
    });
    let body = json!({
        "month": ledger.month(), "closed": ledger.closed, "closesAt": crate::ids::sortable_time(closes_at(first)),
        "plan": plan.name, "cap": cap, "lines": lines, "daily": days, "totalUsd": dollars(total), "note": note,
    });
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("usage", ledger.month())))
}

/// `GET /v1/usage.csv?month=YYYY-MM`: the same month, a row per day and unit.
pub async fn csv(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let first = asked_month(&ctx, &input)?;
    let ledger = Ledger::load(&ctx, first).await?;
    let plan = ctx.app.plans.get(ctx.app.records.as_ref(), ctx.clinic()?).await?;
    // Per day at the plan's price; the units the plan includes come off the month's lines, not the days'.
    let mut out = String::from("date,unit,count,late,weight,price_usd,amount_before_included_usd\r\n");
    for (date, counts) in &ledger.days {
        for (unit, c) in counts {
            let price = plan.price_of(*unit);
            out.push_str(&format!(
                "{date},{unit},{},{},{},{},{}\r\n",
                c.count,
                c.late,
                unit.price().weight,
                dollars(price),
                dollars(c.count * price)
            ));
        }
    }
    let reply = Reply::bytes("text/csv; charset=utf-8", out.into_bytes());
    Ok(Outcome::Read(reply, Facts::resource("usage", ledger.month())))
}

/// `GET /v1/operator/usage?month=YYYY-MM`: every clinic's totals for a month, by unit (one query).
pub async fn every_clinic(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let first = asked_month(&ctx, &input)?;
    let month = first.format("%Y-%m").to_string();
    let items: Vec<Value> = month_totals(ctx.app.records.as_ref(), first, None)
        .await?
        .into_iter()
        .map(|(clinic, units)| {
            // At list prices: a plan's own prices and included units are in the clinic's ledger.
            let list = Plan::list();
            let mut total = 0;
            let lines: Vec<Value> = units
                .into_iter()
                .map(|(unit, count)| {
                    let (line, amount) = line(&list, unit, count);
                    total += amount;
                    line
                })
                .collect();
            json!({"clinicId": clinic, "lines": lines, "totalUsd": dollars(total)})
        })
        .collect();
    let body = json!({"month": month, "closed": ctx.now >= closes_at(first), "items": items});
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("usage", month)))
}
