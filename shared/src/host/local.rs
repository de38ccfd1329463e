//! The local host: every route on one port, playing API Gateway's part (bearer token → request context),
//! plus the development-only token route.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, header};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::blobs::Blobs;
use crate::blobs::local::{DOWNLOAD_PATH, LocalBlobs, UPLOAD_PATH, UploadRefused};
use crate::domain::role::Role;
use crate::host::config::{self, Backend, ConfigError};
use crate::host::token::TokenKeys;
use crate::http::input::{Input, read_form};
use crate::http::pipeline;
use crate::http::problem::ApiError;
use crate::http::routes::{ROUTES, SERVED};

/// How long a development token lives.
const DEV_TOKEN_SECONDS: i64 = 8 * 3600;

/// What the local host offers besides the API, and the names it answers to.
#[derive(Clone)]
pub struct HostOptions {
    /// The upload route of the embedded blobs (none when photos live in S3).
    pub uploads: Option<Arc<LocalBlobs>>,
    /// Whether `POST /v1/dev/token` is mounted (never with real data: see `config::dev_tokens`).
    pub dev_tokens: bool,
    /// The port it listens on: `Host` must name a loopback name on it (or the public URL's host).
    pub port: u16,
    /// The `host[:port]` of `VELLUM_PUBLIC_URL`, when the server is reached under another name.
    pub public_host: Option<String>,
}

impl HostOptions {
    /// Options for a server listening on `port`, reached also through `public_url` when given.
    pub fn new(port: u16, public_url: Option<&str>) -> Self {
        let public_host = public_url
            .and_then(|u| u.split_once("://").map(|(_, rest)| rest))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_ascii_lowercase());
        Self { uploads: None, dev_tokens: false, port, public_host }
    }

    pub fn with_uploads(mut self, uploads: Option<Arc<LocalBlobs>>) -> Self {
        self.uploads = uploads;
        self
    }

    pub fn with_dev_tokens(mut self, on: bool) -> Self {
        self.dev_tokens = on;
        self
    }

    /// Whether `host` is a loopback name on this server's port.
    fn is_loopback_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        ["localhost", "127.0.0.1", "[::1]"].iter().any(|name| host == format!("{name}:{}", self.port))
    }

    /// Whether the server answers a request for `host`: a page on another site that re-points its own
    /// name at this machine (DNS rebinding) sends its own name, and is refused.
    fn answers(&self, host: &str) -> bool {
        self.is_loopback_host(host) || self.public_host.as_deref() == Some(host.to_ascii_lowercase().as_str())
    }
}

#[derive(Clone)]
struct Gateway {
    app: Arc<App>,
    tokens: TokenKeys,
    options: HostOptions,
}

/// Every route, the development token route (when enabled), the upload route for the embedded blobs
/// (when given), the gateway's token check in front of the API, and the `Host` check in front of all.
pub fn router(app: Arc<App>, tokens: TokenKeys, options: HostOptions) -> Router {
    let dev_tokens = options.dev_tokens;
    let gateway = Gateway { app: app.clone(), tokens, options };
    let api = pipeline::router(app, SERVED.iter())
        .layer(middleware::from_fn_with_state(gateway.clone(), authorize))
        .layer(middleware::from_fn(crate::fhir::outcome::as_operation_outcome));
    let mut local = Router::new()
        .route(&format!("{UPLOAD_PATH}{{*key}}"), axum::routing::put(upload))
        .route(&format!("{DOWNLOAD_PATH}{{*key}}"), axum::routing::get(download))
        .route("/v1/openapi.json", axum::routing::get(|| async { axum::Json(crate::http::openapi::document()) }));
    if dev_tokens {
        local = local.route("/v1/dev/token", post(dev_token));
    }
    local.with_state(gateway.clone()).merge(api).layer(middleware::from_fn_with_state(gateway, check_host))
}

fn host_header(headers: &HeaderMap) -> &str {
    headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Refuses requests for any name but this server's own.
async fn check_host(State(gw): State<Gateway>, req: Request<Body>, next: Next) -> Response {
    if gw.options.answers(host_header(req.headers())) {
        return next.run(req).await;
    }
    let mut response = ApiError::BadRequest("this server answers only requests for its own host name".into())
        .to_response(&ulid::Ulid::new().to_string());
    *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
    response
}

fn unauthorized() -> Response {
    let mut response =
        ApiError::Unauthorized("a valid bearer token is required".into()).to_response(&ulid::Ulid::new().to_string());
    response.headers_mut().insert(header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Whether the matched route is one of a patient's link routes, which API Gateway serves without the
/// JWT authorizer.
fn is_public(req: &Request<Body>) -> bool {
    let matched = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str());
    ROUTES.iter().any(|r| r.is_public() && Some(r.path) == matched)
}

/// Verifies the bearer token and fills in the request context the API Gateway JWT authorizer would (for
/// a link route, the context without an authorizer).
async fn authorize(State(gw): State<Gateway>, mut req: Request<Body>, next: Next) -> Response {
    let now = gw.app.clock.now();
    let claims = bearer(req.headers()).and_then(|t| gw.tokens.verify(t, now.timestamp()).ok());
    let authorizer = match claims {
        _ if is_public(&req) => serde_json::Value::Null,
        Some(claims) => json!({ "jwt": { "claims": claims, "scopes": null } }),
        None => return unauthorized(),
    };
    let source_ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let context = json!({
        "routeKey": format!("{} {}", req.method(), req.uri().path()),
        "accountId": "local",
        "stage": "$default",
        "requestId": ulid::Ulid::new().to_string(),
        "apiId": "local",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
        "authorizer": authorizer,
        "http": {
            "method": req.method().as_str(),
            "path": req.uri().path(),
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": user_agent,
        },
    });
    match serde_json::from_value::<ApiGatewayV2httpRequestContext>(context) {
        Ok(ctx) => {
            req.extensions_mut().insert(RequestContext::ApiGatewayV2(ctx));
            next.run(req).await
        }
        Err(_) => unauthorized(),
    }
}

/// `POST /v1/dev/token` (local only, embedded backend only, from this machine only):
/// `{"clinicId", "userId", "role"}` → `{"token"}`.
async fn dev_token(
    State(gw): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = ulid::Ulid::new().to_string();
    if !peer.ip().is_loopback() || !gw.options.is_loopback_host(host_header(&headers)) {
        return ApiError::Forbidden("development tokens are issued only to this machine's loopback address".into())
            .to_response(&request_id);
    }
    let input = Input { headers, body, ..Input::default() };
    let rules = crate::domain::fields::Context::at(gw.app.clock.now());
    let parsed = input.json(&["application/json"]).and_then(|body| {
        read_form(&body, rules, |form| {
            form.only(&["clinicId", "userId", "role"]);
            let user = form.req::<crate::domain::values::UserId>("userId");
            let role = form.req::<Role>("role");
            let clinic = form.opt::<crate::domain::values::EntityId>("clinicId");
            if role == Some(Role::System) {
                form.reject("role", crate::domain::fields::Issue::Rule("is Vellum's own, never a caller's".into()));
            }
            if role.is_some_and(Role::is_staff) && clinic.is_none() && !form.has("clinicId") {
                form.reject("clinicId", crate::domain::fields::Issue::Shape("is required for clinic staff".into()));
            }
            Some((user?, role?, clinic))
        })
    });
    match parsed {
        Ok((user, role, clinic)) => {
            let now = gw.app.clock.now().timestamp();
            let token = gw.tokens.issue(&user, clinic, role, now, DEV_TOKEN_SECONDS);
            (StatusCode::OK, axum::Json(json!({ "token": token, "expiresIn": DEV_TOKEN_SECONDS }))).into_response()
        }
        Err(e) => e.to_response(&request_id),
    }
}

/// `PUT /v1/local-uploads/{key}?contentType=&size=&expires=&signature=`: what S3 does with a presigned
/// URL (checked the same way), then the processing S3 would trigger, run at once.
async fn upload(
    State(gw): State<Gateway>,
    axum::extract::Path(key): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let request_id = ulid::Ulid::new().to_string();
    let Some(blobs) = gw.options.uploads.clone() else {
        return ApiError::NotFound.to_response(&request_id);
    };
    let refuse = |refused: UploadRefused| {
        let detail = match refused {
            UploadRefused::BadSignature => "the upload URL's signature does not match",
            UploadRefused::Expired => "the upload URL has expired",
            UploadRefused::WrongContentType => "the content type differs from the one the URL was signed for",
            UploadRefused::WrongSize => "the size differs from the one the URL was signed for",
        };
        ApiError::Forbidden(detail.into()).to_response(&request_id)
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let now = gw.app.clock.now().timestamp();
    // Nothing of the body is read before the URL is known to be good, and then no more than it signed.
    let signed_size = match blobs.check_upload(&key, &query, content_type, declared, now) {
        Ok(size) => size,
        Err(refused) => return refuse(refused),
    };
    let bytes = match axum::body::to_bytes(body, signed_size as usize).await {
        Ok(bytes) if bytes.len() as u64 == signed_size => bytes,
        _ => return refuse(UploadRefused::WrongSize),
    };
    if let Err(e) = blobs.put(&key, bytes.to_vec(), content_type.unwrap_or("")).await {
        return ApiError::Unavailable(e.to_string()).to_response(&request_id);
    }
    match crate::photos::process::process_upload(&gw.app, &key, &request_id).await {
        Ok(outcome) => (StatusCode::OK, axum::Json(outcome.to_json())).into_response(),
        Err(e) => ApiError::Unavailable(e.to_string()).to_response(&request_id),
    }
}

/// `GET /v1/local-downloads/{key}?filename=&expires=&signature=`: what S3 does with a presigned download
/// URL (checked the same way): the object, as an attachment.
async fn download(
    State(gw): State<Gateway>,
    axum::extract::Path(key): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let request_id = ulid::Ulid::new().to_string();
    let Some(blobs) = gw.options.uploads.clone() else {
        return ApiError::NotFound.to_response(&request_id);
    };
    let filename = match blobs.check_download(&key, &query, gw.app.clock.now().timestamp()) {
        Ok(filename) => filename,
        Err(UploadRefused::Expired) => {
            return ApiError::Forbidden("the download URL has expired".into()).to_response(&request_id);
        }
        Err(_) => {
            return ApiError::Forbidden("the download URL's signature does not match".into()).to_response(&request_id);
        }
    };
    match blobs.get(&key).await {
        Ok(Some(bytes)) => {
            let media = if key.ends_with(".zip") { "application/zip" } else { "application/octet-stream" };
            let disposition = crate::blobs::attachment(&filename);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, media.to_string()), (header::CONTENT_DISPOSITION, disposition)],
                bytes,
            )
                .into_response()
        }
        Ok(None) => ApiError::NotFound.to_response(&request_id),
        Err(e) => ApiError::Unavailable(e.to_string()).to_response(&request_id),
    }
}

/// A running local server.
pub struct LocalServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalServer {
    /// Serves `router` on `addr` (port 0 picks a free one) until the returned server is dropped or stopped.
    pub async fn start(router: Router, addr: SocketAddr) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind(addr).await?, router)
    }

    /// Serves `router` on a bound listener (so its address can be known before the router is built).
    pub fn serve(listener: TcpListener, router: Router) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, service).await {
                tracing::error!(error = %e, "local server stopped");
            }
        });
        Ok(Self { addr, task })
    }

    pub fn stop(&self) {
        self.task.abort();
    }

    /// Waits until the server ends (never, unless it fails or is stopped).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The token keys of the local host (in the data directory).
fn token_keys(dir: &std::path::Path) -> Result<TokenKeys, ConfigError> {
    std::fs::create_dir_all(dir).map_err(|e| ConfigError(format!("cannot create {}: {e}", dir.display())))?;
    Ok(TokenKeys::new(config::key_file(&dir.join("token-signing.key"))?))
}

/// The local host's state and the upload store of the embedded blobs, from the environment; links and
/// uploads point at `base_url`. On `aws`, records, photos and keys are DynamoDB, S3 and KMS: nothing of
/// the data directory but the token and cursor keys is used.
pub async fn app_from_env(
    backend: Backend,
    dir: &std::path::Path,
    base_url: &str,
) -> Result<(App, Option<Arc<LocalBlobs>>), ConfigError> {
    let (records, archive): (Arc<dyn crate::store::Records>, Option<Arc<dyn crate::blobs::Blobs>>) = match backend {
        Backend::Embedded => {
            let embedded = config::embedded_in(dir)?;
            tokio::spawn(sweep_expired_records(embedded.clone()));
            let embedded: Arc<dyn crate::store::Records> = Arc::new(embedded);
            // The audit table's stream, played locally: committed events go to the archive folder.
            let blobs: Arc<dyn crate::blobs::Blobs> = config::local_archive_in(dir)?;
            let archive = crate::archive::Archive { records: embedded.clone(), blobs: blobs.clone() };
            let streamed: Arc<dyn crate::store::Records> =
                Arc::new(crate::archive::local_stream::ArchivingRecords::new(embedded, archive));
            let retiring = crate::archive::Archive { records: streamed.clone(), blobs: blobs.clone() };
            tokio::spawn(retire_old_events(retiring, config::retention_days()?));
            tokio::spawn(export_closed_months(streamed.clone(), blobs.clone()));
            (streamed, Some(blobs))
        }
        Backend::Aws => {
            let archive = config::aws_archive(config::sdk_config().await)?.map(|a| a as Arc<dyn crate::blobs::Blobs>);
            (config::aws_records_from_env().await?, archive)
        }
    };
    let cursor_key = match config::key_from_env("VELLUM_CURSOR_KEY")? {
        Some(key) => key,
        None => config::key_file(&dir.join("cursor.key"))?,
    };
    let mut app = App::new(records, cursor_key).with_public_url(Some(base_url.to_string()));
    if let Some(archive) = archive {
        app = app.with_archive(archive);
    }
    Ok(match backend {
        Backend::Embedded => {
            let (photos, uploads) = config::embedded_photos_in(dir, base_url)?;
            (app.with_photos(photos), Some(uploads))
        }
        Backend::Aws => match config::aws_photos(config::sdk_config().await)? {
            Some(photos) => (app.with_photos(photos), None),
            None => (app, None),
        },
    })
}

/// How often the local server removes expired records (DynamoDB's TTL does this on AWS).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes expired records now and every `SWEEP_EVERY`, for as long as the server runs.
async fn sweep_expired_records(records: crate::store::embedded::EmbeddedRecords) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        match records.sweep_expired(chrono::Utc::now().timestamp()).await {
            Ok(swept) => tracing::info!(swept, "expired records removed"),
            Err(e) => tracing::warn!(error = %e, "expired records could not be removed; next try later"),
        }
    }
}

/// How often the local server retires audit events past the table's window (a daily schedule on AWS).
const RETIRE_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Retires old audit events now and every `RETIRE_EVERY`, for as long as the server runs.
async fn retire_old_events(archive: crate::archive::Archive, days: i64) {
    let mut every = tokio::time::interval(RETIRE_EVERY);
    loop {
        every.tick().await;
        match crate::archive::retire::retire(&archive, chrono::Utc::now(), days).await {
            Ok(report) => tracing::info!(retired = report.retired, refused = report.refused.len(), "audit retired"),
            Err(e) => tracing::warn!(error = %e, "old audit events could not be retired; next try later"),
        }
    }
}

/// How often the local server exports the latest closed month's use (a daily schedule on AWS).
const EXPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Exports the latest closed month's use now and every `EXPORT_EVERY`: into the data directory's archive
/// folder, under `exports/usage/`.
async fn export_closed_months(records: Arc<dyn crate::store::Records>, blobs: Arc<dyn crate::blobs::Blobs>) {
    let mut every = tokio::time::interval(EXPORT_EVERY);
    loop {
        every.tick().await;
        let month = crate::metering::export::last_closed_month(chrono::Utc::now());
        match crate::metering::export::export(records.as_ref(), blobs.as_ref(), month, chrono::Utc::now()).await {
            Ok(report) if report.written => {
                tracing::info!(month = %report.month, events = report.events, "usage exported")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "usage could not be exported; next try later"),
        }
    }
}

/// How often the local server builds queued exports and deletes expired ones (every minute on AWS).
const EXPORTS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the export worker every `EXPORTS_EVERY`, for as long as the server runs.
async fn run_exports(app: Arc<App>) {
    let mut every = tokio::time::interval(EXPORTS_EVERY);
    loop {
        every.tick().await;
        match crate::exports::run(&app, app.clock.now()).await {
            Ok(report) if report == crate::exports::Report::default() => {}
            Ok(report) => {
                tracing::info!(built = report.built, failed = report.failed, expired = report.expired, "exports run")
            }
            Err(e) => tracing::warn!(code = e.code(), "exports could not run; next try later"),
        }
    }
}

/// Queues due reminders and sends queued messages every `every`, for as long as the server runs (a
/// schedule every minute on AWS).
async fn dispatch_messages(app: Arc<App>, messenger: Arc<dyn crate::messages::Messenger>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match crate::messages::dispatch::run(&app, messenger.as_ref(), app.clock.now()).await {
            Ok(report) if report == crate::messages::dispatch::Report::default() => {}
            Ok(report) => tracing::info!(
                reminders = report.reminders_queued,
                sent = report.sent,
                failed = report.failed,
                retrying = report.retrying,
                "messages dispatched"
            ),
            Err(e) => tracing::warn!(error = %e, "messages could not be dispatched; next try later"),
        }
    }
}

/// `vellum-local token --user <id> --role <role> [--clinic <id>] [--hours <n>]`: prints a token signed
/// with the data directory's key, for a local server on `aws` (which offers no token route). Whoever
/// can run it can read the key file anyway.
pub fn token_command(args: &[String]) -> Result<String, ConfigError> {
    let usage = || ConfigError("usage: token --user <id> --role <role> [--clinic <id>] [--hours <1-8>]".into());
    let mut values = std::collections::HashMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = flag.strip_prefix("--").filter(|n| ["user", "role", "clinic", "hours"].contains(n));
        values.insert(name.ok_or_else(usage)?, rest.next().ok_or_else(usage)?.as_str());
    }
    let ctx = crate::domain::fields::Context::timeless();
    let parse_error = |what: &str| ConfigError(format!("--{what} is not valid"));
    let user = <crate::domain::values::UserId as crate::domain::fields::ParseStr>::parse_str(
        values.get("user").ok_or_else(usage)?,
        &ctx,
    )
    .map_err(|_| parse_error("user"))?;
    let role = <Role as crate::domain::fields::ParseStr>::parse_str(values.get("role").ok_or_else(usage)?, &ctx)
        .ok()
        .filter(|r| *r != Role::System)
        .ok_or_else(|| parse_error("role"))?;
    let clinic = values
        .get("clinic")
        .map(|c| crate::domain::values::EntityId::parse(c).ok_or_else(|| parse_error("clinic")))
        .transpose()?;
    let hours: i64 = values.get("hours").map_or(Ok(1), |h| h.parse()).map_err(|_| parse_error("hours"))?;
    if !(1..=DEV_TOKEN_SECONDS / 3600).contains(&hours) || (role.is_staff() && clinic.is_none()) {
        return Err(usage());
    }
    let tokens = token_keys(&config::data_dir())?;
    Ok(tokens.issue(&user, clinic, role, chrono::Utc::now().timestamp(), hours * 3600))
}

/// `cargo run`: serves every route on `VELLUM_ADDR` (127.0.0.1:3000 by default) until interrupted.
pub async fn run_from_env() -> Result<(), ConfigError> {
    crate::telemetry::init();
    let addr: SocketAddr = std::env::var("VELLUM_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()
        .map_err(|_| ConfigError("VELLUM_ADDR must be an address such as 127.0.0.1:3000".into()))?;
    let listener = TcpListener::bind(addr).await.map_err(|e| ConfigError(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr().map_err(|e| ConfigError(e.to_string()))?;
    let public_url = config::public_url();
    let base_url = public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let backend = Backend::from_env()?;
    let dev_tokens = config::dev_tokens(backend)?;
    let dir = config::data_dir();
    let tokens = token_keys(&dir)?;
    let (app, uploads) = app_from_env(backend, &dir, &base_url).await?;
    let options =
        HostOptions::new(bound.port(), public_url.as_deref()).with_uploads(uploads).with_dev_tokens(dev_tokens);
    let app = Arc::new(app);
    tokio::spawn(run_exports(app.clone()));
    tokio::spawn(dispatch_messages(
        app.clone(),
        config::local_messenger(backend, &dir).await?,
        config::dispatch_every()?,
    ));
    let mut server = LocalServer::serve(listener, router(app, tokens, options))
        .map_err(|e| ConfigError(format!("cannot serve on {addr}: {e}")))?;
    tracing::info!(addr = %server.addr, data_dir = %config::data_dir().display(), "Vellum is listening");
    eprintln!("Vellum is listening on http://{}", server.addr);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server.wait() => {}
    }
    Ok(())
}
