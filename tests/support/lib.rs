//! Test support: a `TestApp` that starts the local server on either backend, and a moto-backed DynamoDB store.

pub mod faults;
pub mod images;
pub mod messages;
pub mod samples;
pub mod tally;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use faults::{Faults, FaultyBlobs, FaultyKeyring, FaultyRecords};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use vellum::app::{App, PhotoPorts};
use vellum::blobs::local::LocalBlobs;
use vellum::blobs::s3::S3Blobs;
use vellum::crypto::SecretKey;
use vellum::domain::role::Role;
use vellum::host::local::{self, LocalServer};
use vellum::host::token::TokenKeys;
use vellum::keyring::kms::KmsKeyring;
use vellum::store::dynamo::DynamoRecords;
use vellum::store::{Cond, Item, Key, Page, Query, Records, SkRange, StoreError, Table, Update, Write};

/// Where a test keeps its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

/// The moto endpoint the test command started. Missing means the suite was not started the supported way:
/// that is a failure, never a reason to skip the AWS side.
pub fn moto_endpoint() -> String {
    std::env::var("VELLUM_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!("VELLUM_TEST_AWS_ENDPOINT is not set: run the suite with `bash tests/run.sh`, which starts moto")
    })
}

/// The SDK configuration that reaches moto.
pub async fn moto_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

/// An S3 bucket of its own on moto.
pub async fn moto_blobs() -> (S3Blobs, String) {
    let config = moto_config().await;
    let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
    let bucket = format!("photos-{}", ulid::Ulid::new().to_string().to_lowercase());
    let blobs = S3Blobs::new(aws_sdk_s3::Client::from_conf(s3), bucket.clone());
    blobs.create_bucket().await.expect("moto creates the bucket");
    (blobs, bucket)
}

/// A KMS key of its own on moto.
pub async fn moto_keyring() -> KmsKeyring {
    let client = aws_sdk_kms::Client::new(&moto_config().await);
    let key = client.create_key().description("test photo key").send().await.expect("moto creates a key");
    let id = key.key_metadata().map(|m| m.key_id().to_string()).expect("a key id");
    KmsKeyring::new(client, id)
}

/// The photo ports of a backend: S3 and KMS on moto, or files and a local master key in `dir`.
pub async fn photo_ports(
    backend: Backend,
    dir: &std::path::Path,
    base_url: &str,
) -> (PhotoPorts, Option<Arc<LocalBlobs>>) {
    match backend {
        Backend::Embedded => {
            let (ports, uploads) = vellum::host::config::embedded_photos_in(dir, base_url).expect("embedded photos");
            (ports, Some(uploads))
        }
        Backend::Aws => {
            let ports = PhotoPorts { blobs: Arc::new(moto_blobs().await.0), keyring: Arc::new(moto_keyring().await) };
            (ports, None)
        }
    }
}

/// A DynamoDB store on moto with two fresh tables of its own.
pub async fn moto_records() -> DynamoRecords {
    let config = moto_config().await;
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let records = DynamoRecords::new(
        aws_sdk_dynamodb::Client::new(&config),
        format!("records-{suffix}"),
        format!("audit-{suffix}"),
    );
    records.create_tables().await.expect("moto creates the tables");
    records
}

/// An embedded store in a fresh directory (kept alive by the returned guard).
pub fn embedded_records() -> (Arc<dyn Records>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = vellum::host::config::embedded_in(dir.path()).expect("embedded store");
    (Arc::new(records), dir)
}

/// A store of the given backend.
pub async fn records(backend: Backend) -> (Arc<dyn Records>, Option<tempfile::TempDir>) {
    match backend {
        Backend::Embedded => {
            let (r, dir) = embedded_records();
            (r, Some(dir))
        }
        Backend::Aws => (Arc::new(moto_records().await), None),
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The fields named in a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

/// A clinic opened for a test, with its administrator's token.
#[derive(Clone, Debug)]
pub struct Clinic {
    pub id: String,
    pub admin: String,
    pub admin_user: String,
}

/// The local server on a fresh store, and a client for it.
pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub records: Arc<dyn Records>,
    pub tokens: TokenKeys,
    /// The state the server runs on (the photo processing of the AWS backend runs on it too).
    pub app: Arc<App>,
    _server: LocalServer,
    _dir: Option<tempfile::TempDir>,
    _photo_dir: tempfile::TempDir,
}

/// How many requests of each kind the records store received.
#[derive(Debug, Default)]
pub struct StoreCounts {
    pub gets: AtomicUsize,
    pub queries: AtomicUsize,
    pub transactions: AtomicUsize,
    pub updates: AtomicUsize,
    /// The sort-key range of the latest query (as `Debug` prints it).
    pub last_query_range: std::sync::Mutex<String>,
    /// A query to hold once it has read (see `hold_query`).
    held: std::sync::Mutex<Option<Arc<HeldQuery>>>,
}

/// The first query of a sort-key prefix, held after it has read until released: a request caught between
/// the check it made and its commit, so a test can commit a rival change in that moment.
#[derive(Debug, Default)]
pub struct HeldQuery {
    prefix: String,
    /// How many matching queries to let pass before the one held.
    pass: AtomicUsize,
    reached: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl HeldQuery {
    /// Waits until a request's query has read and is held.
    pub async fn reached(&self) {
        self.reached.notified().await;
    }
    /// Lets the held request go on with what it read.
    pub fn release(&self) {
        self.release.notify_one();
    }
}

impl StoreCounts {
    /// (gets, queries, transactions, updates) so far.
    pub fn snapshot(&self) -> (usize, usize, usize, usize) {
        let read = |c: &AtomicUsize| c.load(Ordering::SeqCst);
        (read(&self.gets), read(&self.queries), read(&self.transactions), read(&self.updates))
    }

    /// Holds the next query of a sort-key range starting with `prefix` once it has read.
    pub fn hold_query(&self, prefix: &str) -> Arc<HeldQuery> {
        self.hold_query_after(prefix, 0)
    }

    /// Holds the query of a sort-key range starting with `prefix` that comes after `pass` such queries.
    pub fn hold_query_after(&self, prefix: &str, pass: usize) -> Arc<HeldQuery> {
        let held = Arc::new(HeldQuery { prefix: prefix.into(), pass: AtomicUsize::new(pass), ..HeldQuery::default() });
        *self.held.lock().expect("held query") = Some(held.clone());
        held
    }
}

/// A records store that counts the requests it passes on.
pub struct CountingRecords {
    inner: Arc<dyn Records>,
    counts: Arc<StoreCounts>,
}

#[async_trait::async_trait]
impl Records for CountingRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        self.counts.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(table, key).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.counts.transactions.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(writes).await
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        self.counts.updates.fetch_add(1, Ordering::SeqCst);
        self.inner.update(table, key, update, cond).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.counts.queries.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut range) = self.counts.last_query_range.lock() {
            *range = format!("{:?}", query.sk);
        }
        let start = match &query.sk {
            SkRange::Prefix(prefix) | SkRange::Between(prefix, _) => Some(prefix.clone()),
            _ => None,
        };
        let held = start.and_then(|start| {
            let mut slot = self.counts.held.lock().expect("held query");
            let matches = slot.as_ref().is_some_and(|h| start.starts_with(&h.prefix));
            let passed = matches && slot.as_ref().is_some_and(|h| h.pass.load(Ordering::SeqCst) == 0);
            if matches && !passed {
                slot.as_ref().map(|h| h.pass.fetch_sub(1, Ordering::SeqCst));
            }
            if passed { slot.take() } else { None }
        });
        let page = self.inner.query(query).await;
        if let Some(held) = held {
            held.reached.notify_one();
            held.release.notified().await;
        }
        page
    }
}

/// The server's warnings and errors (a failed request's cause, never PHI) go into the output of the test that
/// caused them, so a failure says why it failed.
fn log_failures_into_the_test_output() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .try_init();
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_counting(backend).await.0
    }

    /// The local server over a store that counts every request made of it.
    pub async fn spawn_counting(backend: Backend) -> (Self, Arc<StoreCounts>) {
        Self::spawn_with(backend, |app| app).await
    }

    /// The local server with its state adjusted by `configure` (a fixed clock, a lower link limit).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(App) -> App) -> (Self, Arc<StoreCounts>) {
        Self::spawn_full(backend, configure, None, None).await
    }

    /// The local server over records, blobs and keys that fail as `faults` decides.
    pub async fn spawn_faulty(backend: Backend, faults: Arc<Faults>) -> Self {
        Self::spawn_full(backend, |app| app, Some(faults), None).await.0
    }

    /// The local server over records, blobs and keys that tally every request they receive.
    pub async fn spawn_tallied(backend: Backend, tally: Arc<tally::Tally>) -> Self {
        Self::spawn_full(backend, |app| app, None, Some(tally)).await.0
    }

    async fn spawn_full(
        backend: Backend,
        configure: impl FnOnce(App) -> App,
        faults: Option<Arc<Faults>>,
        tally: Option<Arc<tally::Tally>>,
    ) -> (Self, Arc<StoreCounts>) {
        log_failures_into_the_test_output();
        let (inner, dir) = records(backend).await;
        let inner: Arc<dyn Records> = match (&faults, &tally) {
            (Some(faults), _) => Arc::new(FaultyRecords { inner, faults: faults.clone() }),
            (None, Some(tally)) => Arc::new(tally::TallyingRecords { inner, tally: tally.clone() }),
            (None, None) => inner,
        };
        let counts = Arc::new(StoreCounts::default());
        let records: Arc<dyn Records> = Arc::new(CountingRecords { inner, counts: counts.clone() });
        let tokens = TokenKeys::new(SecretKey::generate());
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let photo_dir = tempfile::tempdir().expect("temp dir");
        let (photos, uploads) = photo_ports(backend, photo_dir.path(), &base).await;
        let photos = match &faults {
            Some(faults) => PhotoPorts {
                blobs: Arc::new(FaultyBlobs { inner: photos.blobs, faults: faults.clone() }),
                keyring: Arc::new(FaultyKeyring { inner: photos.keyring, faults: faults.clone() }),
            },
            None => photos,
        };
        let photos = match &tally {
            Some(tally) => PhotoPorts {
                blobs: Arc::new(tally::TallyingBlobs { inner: photos.blobs, tally: tally.clone() }),
                keyring: Arc::new(tally::TallyingKeyring { inner: photos.keyring, tally: tally.clone() }),
            },
            None => photos,
        };
        // The audit archive shares the photo bucket (or folder): its batches are under `audit/`.
        let app = App::new(records.clone(), SecretKey::generate())
            .with_archive(photos.blobs.clone())
            .with_photos(photos)
            .with_public_url(Some(base.clone()));
        let app = Arc::new(configure(app));
        let port = listener.local_addr().expect("address").port();
        let options = local::HostOptions::new(port, None).with_uploads(uploads).with_dev_tokens(true);
        let server =
            LocalServer::serve(listener, local::router(app.clone(), tokens.clone(), options)).expect("server starts");
        let app = Self {
            backend,
            base,
            client: reqwest::Client::new(),
            records,
            tokens,
            app,
            _server: server,
            _dir: dir,
            _photo_dir: photo_dir,
        };
        (app, counts)
    }

    /// A valid token for anyone, as the identity provider would issue it.
    pub fn token(&self, user: &str, clinic: Option<&str>, role: Role) -> String {
        let ctx = vellum::domain::fields::Context::now();
        let user = <vellum::domain::values::UserId as vellum::domain::fields::ParseStr>::parse_str(user, &ctx)
            .expect("user id");
        let clinic = clinic.map(|c| vellum::domain::values::EntityId::parse(c).expect("clinic id"));
        self.tokens.issue(&user, clinic, role, now_seconds(), 3600)
    }

    pub fn operator(&self) -> String {
        self.token("operator-1", None, Role::Operator)
    }

    /// Sends a request; `body` is sent as JSON unless `raw` gives bytes and a content type.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read(req).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn send_raw(&self, method: &str, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        self.read(req).await
    }

    async fn read(&self, req: reqwest::RequestBuilder) -> Reply {
        let request = req.build().expect("a request");
        let (method, url) = (request.method().as_str().to_string(), request.url().clone());
        let response = self.client.execute(request).await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        let reply = Reply { status, headers, body };
        if url.as_str().starts_with(&self.base) {
            assert_documented(&method, url.path(), &reply);
        }
        reply
    }

    /// Uploads `bytes` as a photo-request answer's `upload` says, then (on AWS) runs the processing the
    /// bucket's event would trigger. The reply's body says the photo's `state` after processing.
    pub async fn upload(&self, created: &Value, bytes: Vec<u8>) -> Reply {
        let upload = &created["upload"];
        let method =
            reqwest::Method::from_bytes(upload["method"].as_str().expect("method").as_bytes()).expect("method");
        let mut req = self.client.request(method, upload["url"].as_str().expect("url")).body(bytes);
        for header in upload["headers"].as_array().expect("headers") {
            let (name, value) = (header[0].as_str().unwrap(), header[1].as_str().unwrap());
            if !name.eq_ignore_ascii_case("content-length") {
                req = req.header(name, value);
            }
        }
        let uploaded = self.read(req).await;
        if self.backend == Backend::Embedded || uploaded.status >= 300 {
            return uploaded;
        }
        let key = upload["url"].as_str().unwrap().split('?').next().unwrap().split_once("/quarantine/").unwrap().1;
        let key = format!("quarantine/{key}");
        let processed =
            vellum::photos::process::process_upload(&self.app, &key, "test-upload").await.expect("processing");
        Reply { status: uploaded.status, headers: uploaded.headers, body: processed.to_json() }
    }

    /// Asks to upload a photo of `bytes` (declared `content_type`, with `extra` fields) and uploads it.
    /// Returns the photo-request answer and the upload's answer.
    pub async fn photo(
        &self,
        token: &str,
        patient: &str,
        content_type: &str,
        bytes: Vec<u8>,
        extra: Value,
    ) -> (Value, Reply) {
        let mut body = json!({
            "contentType": content_type,
            "byteSize": bytes.len(),
            "bodyArea": "face",
            "view": "front",
            "capturedAt": "2026-11-20T15:00:00Z",
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let created = self.post(&format!("/v1/patients/{patient}/photos"), token, body).await;
        assert_eq!(created.status, 201, "{created:?}");
        let uploaded = self.upload(&created.body, bytes).await;
        (created.body, uploaded)
    }

    /// Copies built-in templates into the clinic (as its administrator); already copied ones are left.
    pub async fn templates(&self, clinic: &Clinic, ids: &[&str]) {
        for id in ids {
            let reply = self
                .send("PUT", &format!("/v1/form-templates/{id}"), Some(&clinic.admin), Some(json!({"copyOf": id})), &[])
                .await;
            assert!(reply.status == 201 || reply.status == 428, "{reply:?}");
        }
    }

    /// Invites a patient to forms and returns the answer (with `link`) and the link's token.
    pub async fn invite(&self, clinic: &Clinic, patient: &str, templates: &[&str]) -> (Value, String) {
        self.templates(clinic, templates).await;
        let reply =
            self.post("/v1/invitations", &clinic.admin, json!({"patientId": patient, "templateIds": templates})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let token = reply.body["link"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        (reply.body, token)
    }

    /// A patient's full submission of the medical history and the neurotoxin consent; returns its id.
    pub async fn submission(&self, clinic: &Clinic, patient: &str) -> String {
        let (_, token) = self.invite(clinic, patient, &["medical-history", "neurotoxin-consent"]).await;
        let reply = self.send("POST", &format!("/v1/intake/{token}/submit"), None, Some(complete_answers()), &[]).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body["submissionId"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send("POST", path, Some(token), Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, token: &str, etag: &str, body: Value) -> Reply {
        self.send("PATCH", path, Some(token), Some(body), &[("if-match", etag)]).await
    }

    /// Opens a clinic through the API; a fresh administrator joins it with the invitation's code.
    pub async fn open_clinic(&self, name: &str) -> Clinic {
        let admin_user = format!("admin-{}", ulid::Ulid::new());
        let reply = self.post("/v1/clinics", &self.operator(), clinic_body(name)).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let id = reply.body["id"].as_str().expect("clinic id").to_string();
        let joined = self.join(&admin_user, reply.body["adminInvitationCode"].as_str().expect("a code")).await;
        assert_eq!(joined.status, 200, "{joined:?}");
        let admin = self.token(&admin_user, Some(&id), Role::Admin);
        Clinic { id, admin, admin_user }
    }

    /// Presents an invitation's code as `user`, signed in with no clinic yet.
    pub async fn join(&self, user: &str, code: &str) -> Reply {
        let joiner = self.token(user, None, Role::Joiner);
        self.post("/v1/staff/join", &joiner, json!({"code": code})).await
    }

    /// Invites a member with `role`, who joins; returns their token and user id.
    pub async fn member(&self, clinic: &Clinic, role: Role) -> (String, String) {
        let user = format!("{}-{}", role.as_str().replace('_', "-"), ulid::Ulid::new());
        let body = json!({"role": role.as_str(), "displayName": "Test Member"});
        let invited = self.post("/v1/staff", &clinic.admin, body).await;
        assert_eq!(invited.status, 201, "{invited:?}");
        let joined = self.join(&user, invited.body["code"].as_str().expect("a code")).await;
        assert_eq!(joined.status, 200, "{joined:?}");
        (self.token(&user, Some(&clinic.id), role), user)
    }

    /// Registers a patient and returns the response body.
    pub async fn patient(&self, clinic: &Clinic, body: Value) -> Value {
        let reply = self.post("/v1/patients", &clinic.admin, body).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body
    }

    /// The clinic's audit events, newest first (all pages).
    pub async fn audit(&self, clinic: &Clinic, query: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/audit?limit=100{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let reply = self.get(&path, &clinic.admin).await;
            assert_eq!(reply.status, 200, "{reply:?}");
            events.extend(reply.body["items"].as_array().cloned().unwrap_or_default());
            match reply.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return events,
            }
        }
    }
}

/// Working hours with the same spans (`[{"start", "end"}]`) on every day of the week.
pub fn every_day(spans: Value) -> Value {
    let days = vellum::domain::scheduling::hours::DAYS;
    json!({"weekly": days.iter().map(|d| (d.to_string(), spans.clone())).collect::<serde_json::Map<_, _>>()})
}

/// A clock that runs with the system's, moved ahead by a set amount.
#[derive(Default)]
pub struct MovableClock(std::sync::Mutex<chrono::Duration>);

impl MovableClock {
    /// From now on it reads the system's time plus `ahead`.
    pub fn set(&self, ahead: chrono::Duration) {
        *self.0.lock().expect("clock") = ahead;
    }
}

impl vellum::ids::Clock for MovableClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.0.lock().expect("clock")
    }
}

/// A valid clinic body.
pub fn clinic_body(name: &str) -> Value {
    json!({
        "name": name,
        "timeZone": "America/Los_Angeles",
        "country": "US",
        "contact": {"email": "front@clinic.example", "phone": "+14155550100"},
        "admin": {"displayName": "Dr. Admin"},
    })
}

/// Every answer a route gives is one the OpenAPI document lists for it: its status, and for a success its
/// body's schema and exactly the `ETag` and `Location` declared (an unserved path or method, and the local
/// server's refusal of a foreign Host, are no route's).
fn assert_documented(method: &str, path: &str, reply: &Reply) {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    if reply.status == 421 {
        return;
    }
    let Some(template) = vellum::http::routes::routed_path(path) else { return };
    let document = DOCUMENT.get_or_init(vellum::http::openapi::document);
    let responses = &document["paths"][template][method.to_ascii_lowercase()]["responses"];
    if responses.is_null() {
        return;
    }
    let status = reply.status;
    let declared = responses.get(status.to_string()).unwrap_or_else(|| {
        panic!("{method} {path} answered {status}, which the OpenAPI document does not list for {template}")
    });
    if !(200..300).contains(&status) {
        return;
    }
    for name in ["ETag", "Location"] {
        let sent = reply.headers.get(name).map(|v| v.to_str().expect("an ASCII header"));
        let declared = declared["headers"][name]["required"] == true;
        assert_eq!(
            sent.is_some(),
            declared,
            "{method} {path} answered {status} with {name} {sent:?}: the document says it does{}",
            if declared { "" } else { " not" }
        );
        if let Some(location) = sent.filter(|_| name == "Location") {
            assert!(
                vellum::http::routes::routed_path(location).is_some(),
                "{method} {path}: Location {location} is no route's"
            );
        }
    }
    let Some(schema) = declared["content"]["application/json"].get("schema") else { return };
    let validator = answer_validator(document, schema);
    let errors: Vec<String> =
        validator.iter_errors(&reply.body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} with a body the document does not describe: {errors:#?}\n{:#}",
        reply.body
    );
}

/// A validator of the schema a route's success answer has in `document` (its `$ref`s resolved there).
fn answer_validator(document: &Value, schema: &Value) -> Arc<jsonschema::Validator> {
    static VALIDATORS: std::sync::Mutex<Vec<(Value, Arc<jsonschema::Validator>)>> = std::sync::Mutex::new(Vec::new());
    let mut built = VALIDATORS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, validator)) = built.iter().find(|(s, _)| s == schema) {
        return validator.clone();
    }
    let root = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema],
                      "components": document["components"]});
    let validator = Arc::new(jsonschema::validator_for(&root).expect("the answer's schema compiles"));
    built.push((schema.clone(), validator.clone()));
    validator
}

/// A valid patient body.
pub fn patient_body(given: &str, family: &str) -> Value {
    json!({
        "givenName": given,
        "familyName": family,
        "birthDate": "1988-04-12",
        "sexAtBirth": "female",
        "genderIdentity": "female",
        "pronouns": "she/her",
        "phone": "+14155550123",
        "email": "patient@mail.example",
        "address": {"lines": ["1 Main St"], "city": "San Francisco", "region": "CA", "postalCode": "94105", "country": "US"},
        "emergencyContact": {"name": "Sam Doe", "relationship": "spouse", "phone": "+14155550124"},
        "insurance": {"payer": "Acme Health", "memberId": "M123", "group": "G9"},
        "preferredLanguage": "en-US",
    })
}

/// A valid create body for each chart route segment, and a valid merge patch of it.
pub fn chart_entry(segment: &str) -> (Value, Value) {
    match segment {
        "allergies" => (
            json!({"substance": "Penicillin", "category": "medication", "reaction": "Hives", "severity": "severe"}),
            json!({"severity": "life-threatening"}),
        ),
        "medications" => (
            json!({"name": "Isotretinoin", "strength": "20 mg", "dose": "1 capsule", "route": "oral",
                   "frequency": "daily", "startDate": "2026-01-10", "reason": "acne"}),
            json!({"status": "stopped", "stopDate": "2026-06-01"}),
        ),
        "conditions" => (json!({"code": "L70.0"}), json!({"status": "resolved"})),
        "vitals" => (
            json!({"bloodPressure": {"systolic": 118, "diastolic": 76}, "heartRate": 64,
                   "weight": {"value": 60, "unit": "kg"}, "height": {"value": 165, "unit": "cm"}}),
            json!({"heartRate": 66}),
        ),
        "notes" => (
            json!({"type": "consultation", "subjective": "Wants forehead lines softened", "plan": "Neurotoxin, 20 units"}),
            json!({"assessment": "Dynamic rhytides"}),
        ),
        "treatments" => (treatment_body("AB-1234", "2099-01-31"), json!({"outcome": "Good symmetry at review"})),
        "aesthetic-profile" => (
            json!({"concerns": ["forehead lines"], "fitzpatrick": "III",
                   "pregnancy": {"status": "neither", "recordedOn": "2026-01-10"}, "history": {"coldSores": true}}),
            json!({"goals": ["a natural look"]}),
        ),
        other => panic!("no chart body for {other}"),
    }
}

/// A drawn signature, as the page sends it.
pub fn drawn_signature() -> String {
    use base64::Engine;
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(images::png(120, 40)))
}

/// Every required answer of the medical history and the neurotoxin consent.
pub fn complete_answers() -> Value {
    json!({"answers": {
        "medical-history": {
            "allergies": [{"substance": "Penicillin", "reaction": "Hives", "severity": "moderate"}, {"substance": "Latex"}],
            "medications": [{"name": "Valacyclovir", "dose": "500 mg", "frequency": "as needed"}],
            "pregnant": false, "keloids": false, "cold-sores": true, "bleeding": false,
        },
        "neurotoxin-consent": {"understood": true, "signature": {"typedName": "Ana García", "drawing": drawn_signature()}},
    }})
}

/// A neurotoxin treatment with one product lot.
pub fn treatment_body(lot: &str, expiry: &str) -> Value {
    json!({
        "type": "neurotoxin",
        "treatedAreas": ["glabella", "forehead"],
        "products": [{"product": "Botox Cosmetic", "manufacturer": "Allergan", "lotNumber": lot,
                      "expiryDate": expiry, "quantity": {"value": 20, "unit": "units"}}],
        "injectionPoints": [
            {"diagram": "face-front", "x": 0.5, "y": 0.28, "amount": {"value": 4, "unit": "units"}, "productIndex": 0, "area": "procerus"},
            {"diagram": "face-front", "x": 0.44, "y": 0.3, "amount": {"value": 4, "unit": "units"}, "productIndex": 0},
        ],
        "technique": "30G needle, intramuscular",
        "aftercare": {"given": true, "instructions": "Stay upright for four hours"},
        "followUpDate": "2099-02-14",
    })
}

/// The S3 event the photo bucket sends when `key` lands in it (the sample event, with this key).
pub fn s3_event(key: &str) -> vellum::photos::S3Event {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/photos-process/upload.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the sample S3 event")).unwrap();
    event["Records"][0]["s3"]["object"]["key"] = json!(key);
    serde_json::from_value(event).expect("an S3 event")
}

pub fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The body type the router answers with.
pub type AxumBody = vellum::http::pipeline::Body;

/// Reads a router response body whole.
pub async fn body_bytes(response: http::Response<AxumBody>) -> Vec<u8> {
    vellum::http::pipeline::read_body(response.into_body()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_the_document_does_not_describe_is_caught() {
        let document = vellum::http::openapi::document();
        let schema = &document["paths"]["/v1/staff/{userId}"]["patch"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        let validator = answer_validator(&document, schema);
        let member = json!({"userId": "user-1", "role": "nurse", "displayName": "Nina", "status": "active",
                            "createdAt": "2026-12-01T09:00:00Z", "updatedAt": "2026-12-01T09:00:00Z", "version": 2});
        assert!(
            validator.is_valid(&member),
            "{:?}",
            validator.iter_errors(&member).map(|e| e.to_string()).collect::<Vec<_>>()
        );
        let mut unknown_field = member.clone();
        unknown_field["ssn"] = json!("123-45-6789");
        let mut missing = member.clone();
        missing.as_object_mut().unwrap().remove("version");
        let mut wrong_role = member;
        wrong_role["role"] = json!("superuser");
        for wrong in [unknown_field, missing, wrong_role] {
            assert!(!validator.is_valid(&wrong), "{wrong}");
        }
    }
}
