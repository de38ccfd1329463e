//! The Lambda host: one route's router handed to `lambda_http::run`, with state built once per cold start.

use std::sync::Arc;

use crate::app::App;
use crate::host::config::{self, ConfigError};
use crate::http::{pipeline, routes};

pub use lambda_http::Error;

/// Builds the state for a deployed function: DynamoDB, the cursor key from `VELLUM_CURSOR_KEY`, S3 and
/// KMS for the functions that handle photos, and the archive bucket for the one that verifies it.
pub async fn app_from_env() -> Result<App, ConfigError> {
    let records = config::dynamo_from_env().await?;
    let cursor_key = config::key_from_env("VELLUM_CURSOR_KEY")?
        .ok_or_else(|| ConfigError("set the environment variable VELLUM_CURSOR_KEY".into()))?;
    let mut app = App::new(Arc::new(records), cursor_key).with_public_url(config::public_url());
    if let Some(archive) = config::aws_archive_if_configured().await? {
        app = app.with_archive(archive);
    }
    Ok(match config::aws_photos_from_env().await? {
        Some(photos) => app.with_photos(photos),
        None => app,
    })
}

/// The state of a function that works on the photo bucket outside the API: DynamoDB, S3 and KMS (it seals
/// no cursors; a random key satisfies the state's shape).
async fn photo_worker_from_env() -> Result<Arc<App>, Error> {
    let records = config::dynamo_from_env().await?;
    let photos = config::aws_photos_from_env()
        .await?
        .ok_or_else(|| ConfigError("set the environment variable VELLUM_PHOTO_BUCKET".into()))?;
    Ok(Arc::new(App::new(Arc::new(records), crate::crypto::SecretKey::generate()).with_photos(photos)))
}

/// Runs the photo processing on the S3 events of the quarantine prefix.
pub async fn serve_photo_uploads() -> Result<(), Error> {
    crate::telemetry::init();
    let app = photo_worker_from_env().await?;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::s3::S3Event>| {
            let app = app.clone();
            async move {
                let request_id = event.context.request_id.clone();
                crate::photos::process::handle_s3_event(app, event.payload, &request_id).await.map_err(Error::from)
            }
        },
    ))
    .await
}

/// Serves the scheduled sweep of photo objects no record names (see `photos::sweep`).
pub async fn serve_photo_sweep() -> Result<(), Error> {
    crate::telemetry::init();
    let app = photo_worker_from_env().await?;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |_event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                let report =
                    crate::photos::sweep::sweep(&app, app.clock.now().timestamp()).await.map_err(Error::from)?;
                Ok::<_, Error>(report.to_json())
            }
        },
    ))
    .await
}

/// Archives the audit table's stream (see `archive`).
pub async fn serve_audit_archive() -> Result<(), Error> {
    crate::telemetry::init();
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo_from_env().await?);
    let archive = Arc::new(crate::archive::Archive { records, blobs: config::aws_archive_from_env().await? });
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::dynamodb::Event>| {
            let archive = archive.clone();
            async move {
                let records = crate::archive::from_stream_event(event.payload).map_err(Error::from)?;
                let report = archive.handle(records, chrono::Utc::now()).await.map_err(Error::from)?;
                tracing::info!(
                    archived = report.archived,
                    duplicates = report.duplicates,
                    batches = report.batches,
                    "audit archived"
                );
                Ok::<_, Error>(())
            }
        },
    ))
    .await
}

/// Meters the audit table's stream (see `metering::meter`): a delivery that fails is retried whole, and
/// counts nothing twice.
pub async fn serve_usage_meter() -> Result<(), Error> {
    crate::telemetry::init();
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo_from_env().await?);
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<aws_lambda_events::dynamodb::Event>| {
            let records = records.clone();
            async move {
                let changes = crate::archive::from_stream_event(event.payload).map_err(Error::from)?;
                let report = crate::metering::meter::meter(records.as_ref(), &changes, chrono::Utc::now())
                    .await
                    .map_err(Error::from)?;
                tracing::info!(
                    counted = report.counted,
                    duplicates = report.duplicates,
                    unmetered = report.unmetered,
                    "usage metered"
                );
                Ok::<_, Error>(())
            }
        },
    ))
    .await
}

/// Serves the scheduled retirement of old audit events (see `archive::retire`).
pub async fn serve_audit_retire() -> Result<(), Error> {
    crate::telemetry::init();
    let days = config::retention_days()?;
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo_from_env().await?);
    let archive = Arc::new(crate::archive::Archive { records, blobs: config::aws_archive_from_env().await? });
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |_event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| {
            let archive = archive.clone();
            async move {
                let report =
                    crate::archive::retire::retire(&archive, chrono::Utc::now(), days).await.map_err(Error::from)?;
                tracing::info!(
                    chains = report.chains,
                    retired = report.retired,
                    refused = report.refused.len(),
                    "audit retired"
                );
                Ok::<_, Error>(report.to_json())
            }
        },
    ))
    .await
}

/// Serves the billing export (see `metering::export`): its schedule exports the latest closed month; an
/// invocation with `{"month": "YYYY-MM"}` exports that month.
pub async fn serve_usage_export() -> Result<(), Error> {
    crate::telemetry::init();
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo_from_env().await?);
    let blobs = config::aws_archive_from_env().await?;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (records, blobs) = (records.clone(), blobs.clone());
            async move {
                let report =
                    crate::metering::export::handle(records.as_ref(), blobs.as_ref(), &event.payload, chrono::Utc::now())
                        .await
                        .map_err(Error::from)?;
                tracing::info!(month = %report.month, events = report.events, written = report.written, "usage exported");
                Ok::<_, Error>(report.to_json())
            }
        },
    ))
    .await
}

/// Serves the dispatcher of reminders and messages (see `messages::dispatch`), run by a schedule.
pub async fn serve_messages_dispatch() -> Result<(), Error> {
    crate::telemetry::init();
    let records = config::dynamo_from_env().await?;
    let cursor_key = config::key_from_env("VELLUM_CURSOR_KEY")?
        .ok_or_else(|| ConfigError("set the environment variable VELLUM_CURSOR_KEY".into()))?;
    let app = Arc::new(App::new(Arc::new(records), cursor_key));
    let messenger: Arc<dyn crate::messages::Messenger> = Arc::new(config::aws_messenger_from_env().await?);
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |_event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (app, messenger) = (app.clone(), messenger.clone());
            async move {
                let report = crate::messages::dispatch::run(&app, messenger.as_ref(), app.clock.now())
                    .await
                    .map_err(Error::from)?;
                tracing::info!(
                    reminders = report.reminders_queued,
                    sent = report.sent,
                    failed = report.failed,
                    retrying = report.retrying,
                    "messages dispatched"
                );
                Ok::<_, Error>(report.to_json())
            }
        },
    ))
    .await
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
