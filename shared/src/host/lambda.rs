//! The Lambda host: one route's router handed to `lambda_http::run`, with state built once per cold start.

use std::sync::Arc;

use crate::app::App;
use crate::host::config;
use crate::http::pipeline;
use crate::http::routes::Served;

pub use lambda_http::Error;

/// The state of a function that works on the photo bucket outside the API: DynamoDB, S3 and KMS (it seals
/// no cursors; a random key satisfies the state's shape).
fn photo_worker_from_env() -> Result<Arc<App>, Error> {
    let sdk = config::lambda_sdk_config()?;
    let records = config::dynamo(&sdk)?;
    let photos = config::aws_photos_required(&sdk)?;
    Ok(Arc::new(App::new(Arc::new(records), crate::crypto::SecretKey::generate()).with_photos(photos)))
}

/// Runs the photo processing on the S3 events of the quarantine prefix.
pub async fn serve_photo_uploads() -> Result<(), Error> {
    crate::telemetry::init();
    let app = photo_worker_from_env()?;
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
    let app = photo_worker_from_env()?;
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
    let sdk = config::lambda_sdk_config()?;
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo(&sdk)?);
    let archive = Arc::new(crate::archive::Archive { records, blobs: config::aws_archive_required(&sdk)? });
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
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo(&config::lambda_sdk_config()?)?);
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
    let sdk = config::lambda_sdk_config()?;
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo(&sdk)?);
    let archive = Arc::new(crate::archive::Archive { records, blobs: config::aws_archive_required(&sdk)? });
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
    let sdk = config::lambda_sdk_config()?;
    let records: Arc<dyn crate::store::Records> = Arc::new(config::dynamo(&sdk)?);
    let blobs = config::aws_archive_required(&sdk)?;
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
    let sdk = config::lambda_sdk_config()?;
    let records = config::dynamo(&sdk)?;
    let cursor_key = config::cursor_key_from_secret(&sdk).await?;
    let app = Arc::new(App::new(Arc::new(records), cursor_key));
    let messenger: Arc<dyn crate::messages::Messenger> = Arc::new(config::aws_messenger(&sdk)?);
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

/// Runs the export worker on its schedule: DynamoDB, the photo bucket and data keys, and the audit archive
/// (a patient's access log reads on into it).
pub async fn serve_exports_run() -> Result<(), Error> {
    crate::telemetry::init();
    let sdk = config::lambda_sdk_config()?;
    let records = config::dynamo(&sdk)?;
    let app = App::new(Arc::new(records), crate::crypto::SecretKey::generate())
        .with_photos(config::aws_photos_required(&sdk)?)
        .with_archive(config::aws_archive_required(&sdk)?);
    let app = Arc::new(app);
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |_event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                let report = crate::exports::run(&app, app.clock.now()).await.map_err(|e| Error::from(e.code()))?;
                tracing::info!(built = report.built, failed = report.failed, expired = report.expired, "exports run");
                Ok::<_, Error>(report.to_json())
            }
        },
    ))
    .await
}

/// Serves `served`, one function's routes, on Lambda: DynamoDB and the cursor key from its secret,
/// the photo bucket and data keys only when `PHOTOS`, the audit archive's bucket only when `ARCHIVE`. The
/// function's binary names its routes at compile time ([`crate::function_main!`]), so what it does not
/// serve is not linked into it.
pub async fn serve<const PHOTOS: bool, const ARCHIVE: bool>(served: &'static [Served]) -> Result<(), Error> {
    crate::telemetry::init();
    let sdk = config::lambda_sdk_config()?;
    let records = config::dynamo(&sdk)?;
    // The cursor key's secret is read when a call first needs it, in the background from now if a route
    // here ever will: a cold start does not wait for it.
    let read = config::cursor_key_reader(&sdk)?;
    let mut app = App::reading_keys(Arc::new(records), read).with_public_url(config::public_url());
    // Built without an `await`, so a function that needs neither carries neither.
    if ARCHIVE {
        app = app.with_archive(config::aws_archive_required(&sdk)?);
    }
    if PHOTOS {
        app = app.with_photos(config::aws_photos_required(&sdk)?);
    }
    let app = Arc::new(app);
    if served.iter().any(|s| s.route.uses_keys()) {
        let early = app.clone();
        tokio::spawn(async move {
            if let Err(e) = early.load_keys().await {
                tracing::warn!(error = ?e, "the cursor key's secret could not be read yet");
            }
        });
    }
    lambda_http::run(pipeline::router(app, served)).await
}

/// The `main` of the Lambda function that serves the routes the route table gives to `$function`:
/// `vellum::function_main!("patients-get");`. The routes are picked from the table at compile time.
#[macro_export]
macro_rules! function_main {
    ($function:literal) => {
        const _: () =
            assert!($crate::http::routes::count_served_by(Some($function)) > 0, "no route is served by this function");
        static SERVED: [$crate::http::routes::Served; $crate::http::routes::count_served_by(Some($function))] =
            $crate::http::routes::served_by(Some($function));

        #[tokio::main]
        async fn main() -> Result<(), $crate::host::lambda::Error> {
            const PHOTOS: bool = $crate::http::routes::needs(&SERVED, $crate::http::routes::Capability::Photos);
            const ARCHIVE: bool = $crate::http::routes::needs(&SERVED, $crate::http::routes::Capability::Archive);
            $crate::host::lambda::serve::<PHOTOS, ARCHIVE>(&SERVED).await
        }
    };
}
