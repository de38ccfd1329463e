//! Clinics' plans: the clinic reads its own (`GET /v1/plan`), the operator sets one
//! (`PUT /v1/operator/clinics/{clinicId}/plan`, the first time without `If-Match`, then on the version read).

use serde_json::json;

use super::catalogue::load_item;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::metering::plan::{self, Plan};
use crate::store::{Table, Write};

/// `GET /v1/plan`: the caller's clinic's plan (the list prices when it has none; version 0).
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let clinic = ctx.clinic()?;
    let plan = Plan::of(ctx.app.records.as_ref(), clinic).await?;
    let version = plan.version;
    Ok(Outcome::Read(Reply::ok(json!(plan)).versioned(version), Facts::resource("plan", clinic)))
}

/// `PUT /v1/operator/clinics/{clinicId}/plan` with the whole plan.
pub async fn save(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let plan = input.form(ctx.rules(), plan::read)?;
    let clinic = input.entity("clinicId")?;
    super::clinics::load(&ctx, clinic).await?;
    let current: Option<Plan> = load_item(&ctx, Plan::key(clinic)).await?;
    let cond = input.replace_cond(current.as_ref().map(|c| c.version))?;
    let plan = Plan { version: current.map_or(1, |c| c.version + 1), ..plan };
    let write = Guarded::new(Write::put(Table::Records, plan.to_item(clinic), cond), ApiError::PreconditionFailed);
    // This process reads the new plan at once; other functions within a minute.
    ctx.app.plans.forget(clinic);
    let version = plan.version;
    let facts = Facts { clinic: Some(clinic), ..Facts::resource("plan", clinic) };
    Ok(Outcome::Write(vec![write], Reply::ok(json!(plan)).versioned(version), facts))
}
