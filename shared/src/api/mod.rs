//! Route handlers: each turns a request into a domain decision and an outcome for the pipeline.

pub mod appointments;
pub mod audit;
pub mod availability;
pub mod booking;
pub mod break_glass;
pub mod catalogue;
pub mod chart;
pub mod chart_guard;
pub mod clinics;
pub mod erasure;
pub mod exports;
pub mod feeds;
pub mod fhir;
pub mod fhir_import;
pub mod forms;
pub mod hours;
pub mod intake;
pub mod invitations;
pub mod patients;
pub mod photos;
pub mod plans;
pub mod recall;
pub mod safety;
pub mod staff;
pub mod submissions;
pub mod usage;

use serde_json::{Value, json};

use crate::crypto::sha256_hex;
use crate::http::cursor;
use crate::http::input::Params;
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Item, Page};

/// A list query's scope: the route plus its filters, so a cursor only continues the query that issued it.
pub fn scope(ctx: &Ctx, filters: &[Option<&str>]) -> String {
    let joined: Vec<&str> = filters.iter().map(|f| f.unwrap_or("")).collect();
    format!("{}:{}", ctx.route.name, sha256_hex(joined.join("\u{1f}").as_bytes()))
}

/// The position a `cursor` parameter continues from.
pub fn start_after(ctx: &Ctx, params: &Params, scope: &str) -> Result<Option<Item>, ApiError> {
    params.get("cursor").map(|c| open_cursor(ctx, scope, c)).transpose()
}

/// The position a cursor the caller was given continues from (sealed to the clinic and the query's scope).
pub fn open_cursor(ctx: &Ctx, scope: &str, sealed: &str) -> Result<Item, ApiError> {
    cursor::open(&ctx.app.keys()?.cursor, &ctx.clinic()?.to_string(), scope, sealed)
}

/// The cursor of the page after `position`, if there is one.
pub fn seal_cursor(ctx: &Ctx, scope: &str, position: Option<Item>) -> Result<Option<String>, ApiError> {
    let clinic = ctx.clinic()?.to_string();
    position.map(|p| ctx.app.keys().map(|keys| cursor::seal(&keys.cursor, &clinic, scope, p))).transpose()
}

/// A page of results with the cursor for the next one.
pub fn page_body(ctx: &Ctx, scope: &str, items: Vec<Value>, page_next: Option<Item>) -> Result<Value, ApiError> {
    Ok(json!({ "items": items, "nextCursor": seal_cursor(ctx, scope, page_next)? }))
}

/// Maps a store page's items, skipping none: an unreadable item is an error, not a silent gap.
pub fn map_items<T>(page: &Page, f: impl Fn(&Item) -> Result<T, ApiError>) -> Result<Vec<T>, ApiError> {
    page.items.iter().map(f).collect()
}
