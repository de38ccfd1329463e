//! Lot recall: every patient of the clinic who received a product lot, read from the recall index that
//! treatments keep in step with their products (one query, never a scan).

use serde_json::Value;

use super::{page_body, scope, start_after};
use crate::domain::chart::treatment::LotNumber;
use crate::domain::keys;
use crate::domain::values::{EntityId, search_fold};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::{PK, SK};
use crate::store::{Query, Table, str_attr};

/// `GET /v1/lot-recall?lotNumber=&product=&manufacturer=&limit=&cursor=`, newest treatment first.
pub async fn recall(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let lot = match params.parsed::<LotNumber>("lotNumber", &ctx.rules())? {
        Some(lot) => lot.folded(),
        None => return Err(ApiError::field("lotNumber", "is required")),
    };
    let filter = |name: &str| params.get(name).map(search_fold).filter(|f| !f.is_empty());
    let (product, manufacturer) = (filter("product"), filter("manufacturer"));
    let limit = params.limit()?;
    let scope = scope(&ctx, &[Some(&lot), product.as_deref(), manufacturer.as_deref()]);
    let after = start_after(&ctx, &params, &scope)?;
    let query =
        Query::new(Table::Records, keys::lot_pk(ctx.clinic()?, &lot)).backward().limit(limit).start_after(after);
    let page = ctx.app.records.query(query).await?;
    let matches = |item: &serde_json::Map<String, Value>, field: &str, wanted: &Option<String>| {
        wanted.as_ref().is_none_or(|w| str_attr(item, field).is_some_and(|v| search_fold(v).starts_with(w.as_str())))
    };
    let mut uses = Vec::new();
    let mut patients: Vec<EntityId> = Vec::new();
    for mut item in page.items {
        if !matches(&item, "product", &product) || !matches(&item, "manufacturer", &manufacturer) {
            continue;
        }
        patients.extend(str_attr(&item, "patientId").and_then(EntityId::parse));
        item.remove(PK);
        item.remove(SK);
        uses.push(Value::Object(item));
    }
    let facts = Facts::listing(patients);
    let body = page_body(&ctx, &scope, uses, page.next)?;
    Ok(Outcome::Read(Reply::ok(body), facts))
}
