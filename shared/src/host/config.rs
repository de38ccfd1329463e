//! Configuration from the environment: which backend, where its data lives, and the secrets it needs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::{PhotoPorts, ReadCursorKey};
use crate::blobs::local::LocalBlobs;
use crate::blobs::s3::S3Blobs;
use crate::crypto::SecretKey;
use crate::keyring::kms::KmsKeyring;
use crate::keyring::local::LocalKeyring;
use crate::store::Records;
use crate::store::dynamo::DynamoRecords;
use crate::store::embedded::EmbeddedRecords;

/// A start-up problem, naming the setting to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> Result<String, ConfigError> {
    var(name).ok_or_else(|| ConfigError(format!("set the environment variable {name}")))
}

/// Where records are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A `redb` file under the data directory.
    Embedded,
    /// DynamoDB (at `AWS_ENDPOINT_URL` when set).
    Aws,
}

impl Backend {
    /// `VELLUM_BACKEND`: `embedded` (default) or `aws`.
    pub fn from_env() -> Result<Self, ConfigError> {
        match var("VELLUM_BACKEND").as_deref() {
            None | Some("embedded") => Ok(Backend::Embedded),
            Some("aws") => Ok(Backend::Aws),
            Some(other) => Err(ConfigError(format!("VELLUM_BACKEND must be embedded or aws, not {other:?}"))),
        }
    }
}

/// `VELLUM_PUBLIC_URL`: the base URL patients' links point at (no trailing slash).
pub fn public_url() -> Option<String> {
    var("VELLUM_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string())
}

/// `VELLUM_DEV_TOKENS`: whether the local server offers `POST /v1/dev/token`. On by default on the
/// embedded backend, off on `aws`, and refused there: it would let anyone who reaches the server act as
/// anyone in real data.
pub fn dev_tokens(backend: Backend) -> Result<bool, ConfigError> {
    dev_tokens_setting(var("VELLUM_DEV_TOKENS").as_deref(), backend)
}

/// What a `VELLUM_DEV_TOKENS` value means on `backend`.
pub fn dev_tokens_setting(value: Option<&str>, backend: Backend) -> Result<bool, ConfigError> {
    match (value, backend) {
        (None, backend) => Ok(backend == Backend::Embedded),
        (Some("false"), _) => Ok(false),
        (Some("true"), Backend::Embedded) => Ok(true),
        (Some("true"), Backend::Aws) => Err(ConfigError(
            "VELLUM_DEV_TOKENS=true is refused with VELLUM_BACKEND=aws: development tokens never reach real data \
             (mint a token with `vellum-local token` instead)"
                .into(),
        )),
        (Some(other), _) => Err(ConfigError(format!("VELLUM_DEV_TOKENS must be true or false, not {other:?}"))),
    }
}

/// `VELLUM_DATA_DIR`, `./.vellum` by default.
pub fn data_dir() -> PathBuf {
    var("VELLUM_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".vellum"))
}

/// The AWS SDK's configuration (region, credentials, endpoint) by the SDK's default chains (environment,
/// profile files, SSO, instance roles), loaded once per process: for the local server and the tools, which
/// run wherever a developer or operator is signed in.
pub async fn sdk_config() -> &'static aws_config::SdkConfig {
    static CONFIG: tokio::sync::OnceCell<aws_config::SdkConfig> = tokio::sync::OnceCell::const_new();
    CONFIG.get_or_init(|| aws_config::load_defaults(aws_config::BehaviorVersion::latest())).await
}

/// The AWS SDK's configuration of a deployed function, from Lambda's environment alone: Lambda always sets
/// `AWS_REGION` and the execution role's credentials there, so the default chains (profile files, SSO, web
/// identity, instance metadata) are neither consulted at a cold start nor linked into the function.
/// `AWS_ENDPOINT_URL`, when set, points every client at a stand-in.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, ConfigError> {
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let credentials = aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new();
    let builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(required("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials));
    Ok(match var("AWS_ENDPOINT_URL") {
        Some(endpoint) => builder.endpoint_url(endpoint),
        None => builder,
    }
    .build())
}

/// How a deployed function reads the stack's cursor key: from the Secrets Manager secret that
/// `VELLUM_CURSOR_KEY_SECRET` names (the stack generates it, or keeps the `CursorKey` it was given).
pub fn cursor_key_reader(config: &aws_config::SdkConfig) -> Result<ReadCursorKey, ConfigError> {
    let secret = required("VELLUM_CURSOR_KEY_SECRET")?;
    let config = config.clone();
    Ok(Arc::new(move || {
        let (config, secret) = (config.clone(), secret.clone());
        Box::pin(async move { read_cursor_key(&config, &secret).await.map_err(|e| e.0) })
    }))
}

/// The stack's cursor key, read now (by the scheduled jobs, which need it on every run).
pub async fn cursor_key_from_secret(config: &aws_config::SdkConfig) -> Result<SecretKey, ConfigError> {
    cursor_key_reader(config)?().await.map_err(ConfigError)
}

/// The cursor key that the Secrets Manager secret `secret` (a name or an ARN) holds.
pub async fn read_cursor_key(config: &aws_config::SdkConfig, secret: &str) -> Result<SecretKey, ConfigError> {
    let answer =
        aws_sdk_secretsmanager::Client::new(config).get_secret_value().secret_id(secret).send().await.map_err(|e| {
            ConfigError(format!(
                "cannot read the cursor key's secret: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    answer
        .secret_string()
        .and_then(SecretKey::from_secret_text)
        .ok_or_else(|| ConfigError("the cursor key's secret must be text of at least 43 characters".into()))
}

/// The DynamoDB records adapter on `config`, from `VELLUM_RECORDS_TABLE` and `VELLUM_AUDIT_TABLE`.
pub fn dynamo(config: &aws_config::SdkConfig) -> Result<DynamoRecords, ConfigError> {
    let records = required("VELLUM_RECORDS_TABLE")?;
    let audit = required("VELLUM_AUDIT_TABLE")?;
    Ok(DynamoRecords::new(aws_sdk_dynamodb::Client::new(config), records, audit))
}

/// The S3 and KMS photo ports, when `VELLUM_PHOTO_BUCKET` is set (with `VELLUM_PHOTO_KEY_ID`, the KMS key).
/// Functions that do not handle photos have neither variable and build no S3 or KMS client. Not `async`, so
/// that a function that never calls it does not carry it (an `await` keeps its code in the caller's future).
pub fn aws_photos(config: &aws_config::SdkConfig) -> Result<Option<PhotoPorts>, ConfigError> {
    let Some(bucket) = var("VELLUM_PHOTO_BUCKET") else {
        return Ok(None);
    };
    let key_id = required("VELLUM_PHOTO_KEY_ID")?;
    Ok(Some(PhotoPorts {
        blobs: Arc::new(S3Blobs::new(s3_client(config), bucket)),
        keyring: Arc::new(KmsKeyring::new(aws_sdk_kms::Client::new(config), key_id)),
    }))
}

/// The photo bucket and data keys of a function that cannot do without them.
pub fn aws_photos_required(config: &aws_config::SdkConfig) -> Result<PhotoPorts, ConfigError> {
    aws_photos(config)?.ok_or_else(|| ConfigError("set the environment variable VELLUM_PHOTO_BUCKET".into()))
}

/// An S3 client, path-style when `VELLUM_S3_PATH_STYLE=true` (an S3 stand-in that serves no bucket hosts).
fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let path_style = var("VELLUM_S3_PATH_STYLE").as_deref() == Some("true");
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build())
}

/// How many days audit events stay in the table (`VELLUM_AUDIT_RETENTION_DAYS`, 365 by default).
pub fn retention_days() -> Result<i64, ConfigError> {
    use crate::archive::retire::{DEFAULT_RETENTION_DAYS, MIN_RETENTION_DAYS};
    match var("VELLUM_AUDIT_RETENTION_DAYS") {
        None => Ok(DEFAULT_RETENTION_DAYS),
        Some(raw) => raw.trim().parse::<i64>().ok().filter(|d| *d >= MIN_RETENTION_DAYS).ok_or_else(|| {
            ConfigError(format!(
                "VELLUM_AUDIT_RETENTION_DAYS must be a whole number of days, at least {MIN_RETENTION_DAYS}"
            ))
        }),
    }
}

/// The delivery port on AWS: SES and SNS, sending from `VELLUM_MESSAGES_FROM` (an address of a verified
/// SES identity).
pub fn aws_messenger(config: &aws_config::SdkConfig) -> Result<crate::messages::aws::AwsMessenger, ConfigError> {
    let from = required("VELLUM_MESSAGES_FROM")?;
    Ok(crate::messages::aws::AwsMessenger::new(config, from, var("VELLUM_SES_CONFIGURATION_SET")))
}

/// The local server's delivery port: SES and SNS on `aws` when `VELLUM_MESSAGES_FROM` names a sender, else
/// the data directory's `outbox/` folder (messages are written there, not sent).
pub async fn local_messenger(backend: Backend, dir: &Path) -> Result<Arc<dyn crate::messages::Messenger>, ConfigError> {
    if backend == Backend::Aws && var("VELLUM_MESSAGES_FROM").is_some() {
        return Ok(Arc::new(aws_messenger(sdk_config().await)?));
    }
    let outbox = dir.join("outbox");
    let local = crate::messages::local::LocalOutbox::new(outbox.clone())
        .map_err(|e| ConfigError(format!("cannot create {}: {e}", outbox.display())))?;
    Ok(Arc::new(local))
}

/// How often the local server dispatches messages (`VELLUM_DISPATCH_SECONDS`, 10 by default).
pub fn dispatch_every() -> Result<std::time::Duration, ConfigError> {
    match var("VELLUM_DISPATCH_SECONDS") {
        None => Ok(std::time::Duration::from_secs(10)),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if (1..=3600).contains(&seconds) => Ok(std::time::Duration::from_secs(seconds)),
            _ => Err(ConfigError("VELLUM_DISPATCH_SECONDS must be a whole number of seconds from 1 to 3600".into())),
        },
    }
}

/// The audit archive's bucket (`VELLUM_AUDIT_ARCHIVE_BUCKET`), on S3.
pub fn aws_archive_required(config: &aws_config::SdkConfig) -> Result<Arc<S3Blobs>, ConfigError> {
    aws_archive(config)?.ok_or_else(|| ConfigError("set the environment variable VELLUM_AUDIT_ARCHIVE_BUCKET".into()))
}

/// The audit archive's bucket when `VELLUM_AUDIT_ARCHIVE_BUCKET` names one (only the functions that
/// write or verify the archive have it).
pub fn aws_archive(config: &aws_config::SdkConfig) -> Result<Option<Arc<S3Blobs>>, ConfigError> {
    Ok(var("VELLUM_AUDIT_ARCHIVE_BUCKET").map(|bucket| Arc::new(S3Blobs::new(s3_client(config), bucket))))
}

/// The audit archive of the embedded host: files under `dir/audit-archive` (nothing is uploaded there, so
/// its upload signing key is a throwaway).
pub fn local_archive_in(dir: &Path) -> Result<Arc<LocalBlobs>, ConfigError> {
    let root = dir.join("audit-archive");
    std::fs::create_dir_all(&root).map_err(|e| ConfigError(format!("cannot create {}: {e}", root.display())))?;
    Ok(Arc::new(LocalBlobs::new(root, crate::crypto::SecretKey::generate(), "http://127.0.0.1")))
}

/// The embedded photo ports: objects under `dir/blobs`, uploads signed with `dir/upload-signing.key` and
/// sent to `base_url`, data keys wrapped by the master key in `dir/master.key` (all keys mode 0600).
pub fn embedded_photos_in(dir: &Path, base_url: &str) -> Result<(PhotoPorts, Arc<LocalBlobs>), ConfigError> {
    let signing = key_file(&dir.join("upload-signing.key"))?;
    let blobs = Arc::new(LocalBlobs::new(dir.join("blobs"), signing, base_url));
    let keyring = Arc::new(LocalKeyring::from_file(&dir.join("master.key"))?);
    Ok((PhotoPorts { blobs: blobs.clone(), keyring }, blobs))
}

/// The embedded records adapter in `dir`.
pub fn embedded_in(dir: &Path) -> Result<EmbeddedRecords, ConfigError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ConfigError(format!("cannot create data directory {}: {e}", dir.display())))?;
    EmbeddedRecords::open(&dir.join("records.redb"))
        .map_err(|e| ConfigError(format!("cannot open the records file: {e}")))
}

/// DynamoDB records for the local server on `aws`; `VELLUM_CREATE_TABLES=true` creates the tables first.
pub async fn aws_records_from_env() -> Result<Arc<dyn Records>, ConfigError> {
    let dynamo = dynamo(sdk_config().await)?;
    if var("VELLUM_CREATE_TABLES").as_deref() == Some("true") {
        dynamo.create_tables().await.map_err(|e| ConfigError(format!("cannot create the tables: {e}")))?;
    }
    Ok(Arc::new(dynamo))
}

/// A key given in the variable `name`: 32 bytes base64-encoded, or the text of a stack's cursor key secret
/// (see [`SecretKey::from_secret_text`]).
pub fn key_from_env(name: &str) -> Result<Option<SecretKey>, ConfigError> {
    var(name)
        .map(|raw| {
            SecretKey::from_secret_text(&raw).ok_or_else(|| {
                ConfigError(format!(
                    "{name} must be 32 bytes base64-encoded, or the text of the stack's cursor key secret"
                ))
            })
        })
        .transpose()
}

/// A key kept in a file readable only by its owner, created on first use.
pub fn key_file(path: &Path) -> Result<SecretKey, ConfigError> {
    let fail = |e: std::io::Error| ConfigError(format!("key file {}: {e}", path.display()));
    match std::fs::read(path) {
        Ok(bytes) => {
            SecretKey::from_slice(&bytes).ok_or_else(|| ConfigError(format!("key file {} is damaged", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private(path, key.as_bytes()).map_err(fail)?;
            Ok(key)
        }
        Err(e) => Err(fail(e)),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let first = key_file(&path).unwrap();
        assert_eq!(key_file(&path).unwrap().as_bytes(), first.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
