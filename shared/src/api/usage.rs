//! `GET /v1/usage?month=YYYY-MM`: a clinic's ledger for a month (UTC days): one line per unit with its
//! count, weight, price and amount, the daily counts, and the month's total so far.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use super::chart::query_all;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::metering::meter::usage_pk;
use crate::metering::{Unit, dollars};
use crate::store::schema::SK;
use crate::store::{Query, SkRange, Table, str_attr};

/// The first day of `YYYY-MM`.
fn month_start(text: &str) -> Option<NaiveDate> {
    let (year, month) = text.split_once('-')?;
    let ok = year.len() == 4 && month.len() == 2 && year.chars().chain(month.chars()).all(|c| c.is_ascii_digit());
    ok.then(|| NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)).flatten()
}

/// `GET /v1/usage?month=YYYY-MM` (this month by default).
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let today = ctx.now.date_naive();
    let this_month = today.with_day(1).unwrap_or(today);
    let first = match params.get("month") {
        None => this_month,
        Some(text) => month_start(text).ok_or_else(|| ApiError::field("month", "must be a month written YYYY-MM"))?,
    };
    if first > this_month {
        return Err(ApiError::field_rule("month", "must not be in the future"));
    }
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    let last = next.pred_opt().unwrap_or(first);
    let clinic = ctx.clinic()?;
    let query = Query::new(Table::Records, usage_pk(clinic))
        .sk(SkRange::Between(format!("DAY#{first}"), format!("DAY#{last}~")));
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut daily: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for item in query_all(&ctx, query).await? {
        let parsed = str_attr(&item, SK).and_then(|sk| sk.strip_prefix("DAY#")).and_then(|rest| {
            let (day, unit) = rest.split_once('#')?;
            Some((day.to_string(), Unit::ALL.iter().copied().find(|u| u.as_str() == unit)?))
        });
        let count = item.get("count").and_then(Value::as_u64).unwrap_or(0);
        if let Some((day, unit)) = parsed {
            *totals.entry(unit.as_str()).or_default() += count;
            daily.entry(day).or_default().insert(unit.as_str().into(), json!(count));
        }
    }
    let mut total = 0;
    let lines: Vec<Value> = Unit::ALL
        .iter()
        .filter_map(|unit| {
            let count = *totals.get(unit.as_str())?;
            let price = unit.price();
            let amount = count * price.micro_usd;
            total += amount;
            Some(json!({"unit": unit, "count": count, "weight": price.weight,
                        "priceUsd": dollars(price.micro_usd), "amountUsd": dollars(amount)}))
        })
        .collect();
    let days: Vec<Value> = daily.into_iter().map(|(date, counts)| json!({"date": date, "counts": counts})).collect();
    let body = json!({
        "month": format!("{:04}-{:02}", first.year(), first.month()),
        "closed": false,
        "lines": lines,
        "daily": days,
        "totalUsd": dollars(total),
        "note": "counted from the audit trail once each, by UTC day; refused calls are counted and not billed",
    });
    Ok(Outcome::Read(Reply::ok(body), Facts::resource("usage", first.format("%Y-%m"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_written_year_dash_month_and_amounts_in_dollars() {
        assert_eq!(month_start("2026-12"), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert!(month_start("2026-13").is_none() && month_start("26-12").is_none() && month_start("2026-1").is_none());
        assert_eq!(dollars(1_234_567), "1.234567");
        assert_eq!(dollars(20), "0.000020");
    }
}
