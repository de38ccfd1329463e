//! The Lambda host: one route's router handed to `lambda_http::run`, with state built once per cold start.

use std::sync::Arc;

use crate::app::App;
use crate::host::config::{self, ConfigError};
use crate::http::{pipeline, routes};

pub use lambda_http::Error;

/// Builds the state for a deployed function: DynamoDB, and the cursor key from `VELLUM_CURSOR_KEY`.
pub async fn app_from_env() -> Result<App, ConfigError> {
    let records = config::dynamo_from_env().await?;
    let cursor_key = config::key_from_env("VELLUM_CURSOR_KEY")?
        .ok_or_else(|| ConfigError("set the environment variable VELLUM_CURSOR_KEY".into()))?;
    Ok(App::new(Arc::new(records), cursor_key))
}

/// Serves the routes of `function` on Lambda.
pub async fn serve(function: &str) -> Result<(), Error> {
    crate::telemetry::init();
    let routes = routes::by_function(function);
    if routes.is_empty() {
        return Err(format!("no route is served by {function}").into());
    }
    let app = Arc::new(app_from_env().await?);
    lambda_http::run(pipeline::router(app, routes)).await
}
