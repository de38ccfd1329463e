//! Cold starts of every function binary, beside two baselines, through a fake Lambda Runtime API on loopback.
//!
//! Builds the release binaries (the two baselines from `tests/baselines/`, and every function), then starts
//! each binary `--runs` times with its sample event from `events/`, against moto for DynamoDB, S3 and KMS,
//! and reports per binary its stripped size, its init (from the process's start to its first request for
//! work) and its first response (from the event handed over to the answer), min/median/max, each as a ratio
//! against the SDK floor measured in the same run. The rounds interleave the binaries, so a noisy moment
//! falls on all of them alike.
//!
//! `cargo bench -p vellum-tests --bench cold_start -- [--runs N] [--only a,b] [--no-build]`, with
//! `VELLUM_TEST_AWS_ENDPOINT` naming a running moto (`bash tests/bench-cold-start.sh` starts one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use tokio::sync::mpsc;
use vellum::app::PhotoPorts;
use vellum::keyring::kms::KmsKeyring;
use vellum::store::dynamo::DynamoRecords;
use vellum_tests::samples;

const HELLO: &str = "baseline-hello";
const FLOOR: &str = "baseline-sdk-floor";
/// The cold-start targets of a function against the SDK floor.
const SIZE_TARGET: f64 = 1.2;
const INIT_TARGET: f64 = 1.1;

/// What the fake runtime saw of one process.
enum Seen {
    /// It asked for its first event (its init is done).
    AskedForWork(Instant),
    /// It answered the event (or reported an error), with the HTTP status of its answer.
    Answered(Instant, Option<u16>),
}

#[derive(Clone)]
struct Runtime {
    event: Arc<String>,
    seen: mpsc::UnboundedSender<Seen>,
    handed: Arc<Mutex<bool>>,
}

/// `GET /2018-06-01/runtime/invocation/next`: the event the first time; afterwards never answers.
async fn next(State(runtime): State<Runtime>) -> (HeaderMap, String) {
    let now = Instant::now();
    let first = !std::mem::replace(&mut *runtime.handed.lock().expect("lock"), true);
    if !first {
        std::future::pending::<()>().await;
    }
    let _ = runtime.seen.send(Seen::AskedForWork(now));
    let mut headers = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    headers.insert("lambda-runtime-aws-request-id", "cold-start-1".parse().expect("header"));
    headers.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().expect("header"));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:cold-start".parse().expect("header"),
    );
    headers.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".parse().expect("header"));
    (headers, runtime.event.as_ref().clone())
}

/// `POST …/response` and `…/error`: the answer.
async fn answered(State(runtime): State<Runtime>, body: Bytes) -> StatusCode {
    let status = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("statusCode").and_then(serde_json::Value::as_u64))
        .map(|s| s as u16);
    let _ = runtime.seen.send(Seen::Answered(Instant::now(), status));
    StatusCode::ACCEPTED
}

/// One run's figures.
struct Run {
    init: Duration,
    first_response: Duration,
    status: Option<u16>,
}

/// Starts `binary` once with `event` and the deployment's environment; its init and first response.
async fn run_once(binary: &Path, event: &str, env: &[(String, String)]) -> Result<Run, String> {
    let (seen, mut watch) = mpsc::unbounded_channel();
    let runtime = Runtime { event: Arc::new(event.to_string()), seen, handed: Arc::new(Mutex::new(false)) };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(answered))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(answered))
        .route("/2018-06-01/runtime/init/error", post(answered))
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        let mut asked = None;
        while let Some(seen) = watch.recv().await {
            match (seen, asked) {
                (Seen::AskedForWork(at), None) => asked = Some(at),
                (Seen::Answered(at, status), Some(asked_at)) => {
                    return Ok(Run { init: asked_at - started, first_response: at - asked_at, status });
                }
                (Seen::Answered(..), None) => return Err("the function failed its init".to_string()),
                (Seen::AskedForWork(_), Some(_)) => {}
            }
        }
        Err("the runtime stopped".to_string())
    })
    .await
    .unwrap_or_else(|_| Err("no answer within 30 s".into()));
    let _ = child.kill().await;
    server.abort();
    outcome
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The event a function is started with: its `success` sample (a trigger's first sample).
fn sample_event(function: &str) -> Option<String> {
    let dir = samples::events_dir().join(function);
    let success = dir.join("success.json");
    if success.exists() {
        return std::fs::read_to_string(success).ok();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files.into_iter().find(|p| p.extension().is_some_and(|e| e == "json")).and_then(|p| std::fs::read_to_string(p).ok())
}

/// Every function binary the functions package builds (the local server is not a function).
fn function_binaries() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("functions/Cargo.toml")).expect("functions/Cargo.toml");
    manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \"").and_then(|n| n.strip_suffix('"')))
        .filter(|n| *n != "vellum-functions" && *n != "vellum-local" && *n != "vellum-audit-verify")
        .map(str::to_string)
        .collect()
}

fn cargo_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Builds the baselines and `functions`, in release (or, for a smoke run, in the dev profile); the wall time
/// it took.
fn build(functions: &[String], release: bool) -> Duration {
    let started = Instant::now();
    let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(root()).arg("build");
    if release {
        cargo.arg("--release");
    }
    cargo.args(["--locked", "-p", HELLO, "-p", FLOOR]);
    // With `--bin`, cargo builds only the binaries named, the baselines' too.
    cargo.args(["--bin", HELLO, "--bin", FLOOR, "-p", "vellum-functions"]);
    for function in functions {
        cargo.args(["--bin", function]);
    }
    assert!(cargo.status().expect("cargo runs").success(), "the build failed");
    started.elapsed()
}

/// The deployment's environment, on moto: fresh tables, a bucket and a key of this run's own, and the sample
/// clinic opened with its administrator (the caller of the staff sample events).
async fn environment() -> Vec<(String, String)> {
    let endpoint = vellum_tests::moto_endpoint();
    let config = vellum_tests::moto_config().await;
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let (records, audit) = (format!("records-{suffix}"), format!("audit-{suffix}"));
    let store = DynamoRecords::new(aws_sdk_dynamodb::Client::new(&config), records.clone(), audit.clone());
    store.create_tables().await.expect("moto creates the tables");
    let (blobs, bucket) = vellum_tests::moto_blobs().await;
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms.create_key().send().await.expect("moto creates a key");
    let key_id = key.key_metadata().map(|m| m.key_id().to_string()).expect("a key id");
    let photos = PhotoPorts { blobs: Arc::new(blobs), keyring: Arc::new(KmsKeyring::new(kms, key_id.clone())) };
    samples::open_sample_clinic(Arc::new(store), photos).await;
    // The cursor key as the stack keeps it: a secret a function reads when a call first needs it.
    let cursor_key =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, samples::deployment_key().as_bytes());
    let secret = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(format!("cursor-key-{suffix}"))
        .secret_string(cursor_key)
        .send()
        .await
        .expect("moto keeps the cursor key");
    let cursor_key_secret = secret.arn().expect("an ARN").to_string();
    [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_LAMBDA_FUNCTION_NAME", "cold-start"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cold-start"),
        ("VELLUM_RECORDS_TABLE", records.as_str()),
        ("VELLUM_AUDIT_TABLE", audit.as_str()),
        ("VELLUM_CURSOR_KEY_SECRET", cursor_key_secret.as_str()),
        ("VELLUM_PHOTO_BUCKET", bucket.as_str()),
        ("VELLUM_PHOTO_KEY_ID", key_id.as_str()),
        ("VELLUM_AUDIT_ARCHIVE_BUCKET", bucket.as_str()),
        ("VELLUM_S3_PATH_STYLE", "true"),
        ("VELLUM_MESSAGES_FROM", "clinic@example.com"),
        ("RUST_LOG", "off"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

struct Args {
    runs: usize,
    only: Option<Vec<String>>,
    build: bool,
    /// Release binaries; a smoke run (one round, to see that the harness still works) builds faster ones.
    release: bool,
}

fn args() -> Args {
    let mut args = Args { runs: 10, only: None, build: true, release: true };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--runs" => args.runs = given.next().and_then(|n| n.parse().ok()).expect("--runs takes a number"),
            "--only" => args.only = given.next().map(|l| l.split(',').map(str::to_string).collect()),
            "--no-build" => args.build = false,
            // `cargo bench` passes `--bench`; a smoke run asks for one round.
            "--bench" => {}
            "--smoke" => (args.runs, args.release) = (1, false),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = args();
    let functions: Vec<String> =
        function_binaries().into_iter().filter(|f| args.only.as_ref().is_none_or(|only| only.contains(f))).collect();
    let build_time = args.build.then(|| build(&functions, args.release));
    let release = cargo_target_dir().join(if args.release { "release" } else { "debug" });
    let mut binaries = vec![HELLO.to_string(), FLOOR.to_string()];
    binaries.extend(functions);
    let env = environment().await;
    let events: BTreeMap<String, String> = binaries
        .iter()
        .map(|b| {
            let event = if b.starts_with("baseline-") { sample_event("patients-get") } else { sample_event(b) };
            (b.clone(), event.unwrap_or_else(|| panic!("{b} has no sample event in events/")))
        })
        .collect();
    let mut runs: BTreeMap<String, Vec<Run>> = BTreeMap::new();
    for _ in 0..args.runs {
        for binary in &binaries {
            let run = run_once(&release.join(binary), &events[binary], &env).await;
            match run {
                Ok(run) => runs.entry(binary.clone()).or_default().push(run),
                Err(e) => panic!("{binary}: {e}"),
            }
        }
    }
    let size = |b: &str| std::fs::metadata(release.join(b)).map(|m| m.len()).unwrap_or(0);
    let floor_size = size(FLOOR) as f64;
    let floor_init = median(runs[FLOOR].iter().map(|r| r.init).collect()).as_secs_f64();
    println!("Cold starts on {} ({} runs each, interleaved)", machine(), args.runs);
    if let Some(build) = build_time {
        println!("Release build of the baselines and {} functions: {:.0} s", binaries.len() - 2, build.as_secs_f64());
    }
    println!();
    println!(
        "| binary | size MiB | × floor | init ms min/med/max | × floor | first response ms min/med/max | status |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let (mut worst_size, mut worst_init) = ((String::new(), 0.0_f64), (String::new(), 0.0_f64));
    for binary in &binaries {
        let runs = &runs[binary];
        let inits: Vec<Duration> = runs.iter().map(|r| r.init).collect();
        let answers: Vec<Duration> = runs.iter().map(|r| r.first_response).collect();
        let (size_ratio, init_ratio) =
            (size(binary) as f64 / floor_size, median(inits.clone()).as_secs_f64() / floor_init);
        let status = runs.last().and_then(|r| r.status).map_or("-".to_string(), |s| s.to_string());
        println!(
            "| {binary} | {} | {size_ratio:.2} | {}/{}/{} | {init_ratio:.2} | {}/{}/{} | {status} |",
            mib(size(binary)),
            ms(*inits.iter().min().expect("runs")),
            ms(median(inits.clone())),
            ms(*inits.iter().max().expect("runs")),
            ms(*answers.iter().min().expect("runs")),
            ms(median(answers.clone())),
            ms(*answers.iter().max().expect("runs")),
        );
        if !binary.starts_with("baseline-") {
            if size_ratio > worst_size.1 {
                worst_size = (binary.clone(), size_ratio);
            }
            if init_ratio > worst_init.1 {
                worst_init = (binary.clone(), init_ratio);
            }
        }
    }
    println!();
    let verdict = |ratio: f64, target: f64| if ratio <= target { "within" } else { "OVER" };
    println!(
        "Largest function: {} at {:.2}× the SDK floor's size ({} the {SIZE_TARGET}× target)",
        worst_size.0,
        worst_size.1,
        verdict(worst_size.1, SIZE_TARGET)
    );
    println!(
        "Slowest init: {} at {:.2}× the SDK floor's median ({} the {INIT_TARGET}× target)",
        worst_init.0,
        worst_init.1,
        verdict(worst_init.1, INIT_TARGET)
    );
    let floor_ms = floor_init * 1000.0;
    let hello_ms = median(runs[HELLO].iter().map(|r| r.init).collect()).as_secs_f64() * 1000.0;
    println!("report: cold start init, hello-world\t{hello_ms:.1}\tms");
    println!("report: cold start init, SDK floor\t{floor_ms:.1}\tms");
    println!("report: cold start largest function ({}), size\t{:.2}\t× SDK floor", worst_size.0, worst_size.1);
    println!("report: cold start slowest function ({}), init\t{:.2}\t× SDK floor", worst_init.0, worst_init.1);
}

/// The machine the figures were measured on: its CPU model and count.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("an unknown CPU");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores")
}
