//! The embedded blobs adapter: objects as files under a directory, and upload URLs signed with HMAC that
//! the local server checks the way S3 checks a presigned URL (method, key, content type, size, expiry).

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

use super::{BlobError, Blobs, LIST_PAGE, ObjectPage, PresignedUpload, StoredObject, valid_key};
use crate::crypto::{SecretKey, mac, verify_mac};

/// The local server's path for uploads; the object key follows it.
pub const UPLOAD_PATH: &str = "/v1/local-uploads/";

/// The local server's path for downloads; the object key follows it.
pub const DOWNLOAD_PATH: &str = "/v1/local-downloads/";

/// Files under `root`, uploads through `base_url`.
pub struct LocalBlobs {
    root: PathBuf,
    signing: SecretKey,
    base_url: String,
}

/// Why an upload was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadRefused {
    BadSignature,
    Expired,
    WrongContentType,
    WrongSize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (s.len().is_multiple_of(2) && s.is_ascii())
        .then(|| (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect())
        .flatten()
}

fn signed_text(key: &str, content_type: &str, size: u64, expires: i64) -> String {
    format!("PUT\n{key}\n{content_type}\n{size}\n{expires}")
}

fn signed_download(key: &str, filename: &str, expires: i64) -> String {
    format!("GET\n{key}\n{filename}\n{expires}")
}

/// Every object file under `dir` (not the half-written `.partial` ones), keyed relative to `root`.
fn walk(root: &Path, dir: &Path, found: &mut Vec<StoredObject>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        // An object renamed into place or deleted since the directory was read is not an error: a
        // listing taken while others write sees it or not, as S3's would.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let path = entry.path();
        if meta.is_dir() {
            walk(root, &path, found)?;
        } else if path.extension().is_none_or(|e| e != "partial") {
            let Ok(relative) = path.strip_prefix(root) else { continue };
            let key = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            let modified_at = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64);
            if valid_key(&key) {
                found.push(StoredObject { key, modified_at });
            }
        }
    }
    Ok(())
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>, signing: SecretKey, base_url: impl Into<String>) -> Self {
        Self { root: root.into(), signing, base_url: base_url.into().trim_end_matches('/').to_string() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if valid_key(key) { Ok(self.root.join(key)) } else { Err(BlobError::InvalidKey) }
    }

    /// Checks an upload's URL, content type and declared length (`Content-Length`, when sent) before any
    /// of its body is read, as S3 checks a presigned request; answers the size the URL was signed for,
    /// which is then exactly what may be read.
    pub fn check_upload(
        &self,
        key: &str,
        query: &std::collections::HashMap<String, String>,
        content_type: Option<&str>,
        declared_size: Option<u64>,
        now: i64,
    ) -> Result<u64, UploadRefused> {
        let field = |name: &str| query.get(name).map(String::as_str);
        let (Some(signed_type), Some(signed_size), Some(expires), Some(signature)) =
            (field("contentType"), field("size"), field("expires"), field("signature"))
        else {
            return Err(UploadRefused::BadSignature);
        };
        let (Ok(signed_size), Ok(expires)) = (signed_size.parse::<u64>(), expires.parse::<i64>()) else {
            return Err(UploadRefused::BadSignature);
        };
        let tag = unhex(signature).ok_or(UploadRefused::BadSignature)?;
        if !verify_mac(&self.signing, signed_text(key, signed_type, signed_size, expires).as_bytes(), &tag) {
            return Err(UploadRefused::BadSignature);
        }
        if now > expires {
            return Err(UploadRefused::Expired);
        }
        if content_type != Some(signed_type) {
            return Err(UploadRefused::WrongContentType);
        }
        if declared_size.is_some_and(|size| size != signed_size) {
            return Err(UploadRefused::WrongSize);
        }
        Ok(signed_size)
    }

    /// Checks a download's URL as S3 checks a presigned `GET`: the file name it serves the object as.
    pub fn check_download(
        &self,
        key: &str,
        query: &std::collections::HashMap<String, String>,
        now: i64,
    ) -> Result<String, UploadRefused> {
        let field = |name: &str| query.get(name).map(String::as_str);
        let (Some(filename), Some(expires), Some(signature)) =
            (field("filename"), field("expires"), field("signature"))
        else {
            return Err(UploadRefused::BadSignature);
        };
        let expires = expires.parse::<i64>().map_err(|_| UploadRefused::BadSignature)?;
        let tag = unhex(signature).ok_or(UploadRefused::BadSignature)?;
        if !verify_mac(&self.signing, signed_download(key, filename, expires).as_bytes(), &tag) {
            return Err(UploadRefused::BadSignature);
        }
        if now > expires {
            return Err(UploadRefused::Expired);
        }
        Ok(filename.to_string())
    }

    /// Where the objects live.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        // Written beside, then renamed: a reader never sees half an object.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)
    }

    async fn list(&self, prefix: &str, after: Option<&str>) -> Result<ObjectPage, BlobError> {
        let root = self.root.clone();
        let (prefix, after) = (prefix.to_string(), after.map(str::to_string));
        let mut found = tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            walk(&root, &root, &mut found).map(|()| found)
        })
        .await
        .map_err(|e| BlobError::Unavailable(e.to_string()))?
        .map_err(io)?;
        found.retain(|o| o.key.starts_with(&prefix) && after.as_ref().is_none_or(|a| o.key > *a));
        found.sort_by(|a, b| a.key.cmp(&b.key));
        let next = (found.len() > LIST_PAGE).then(|| found[LIST_PAGE - 1].key.clone());
        found.truncate(LIST_PAGE);
        Ok(ObjectPage { objects: found, next })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        self.path(key)?;
        let expires = chrono::Utc::now().timestamp() + expires_in.as_secs() as i64;
        let signature = hex(&mac(&self.signing, signed_text(key, content_type, size, expires).as_bytes()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("contentType", content_type)
            .append_pair("size", &size.to_string())
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &signature)
            .finish();
        Ok(PresignedUpload {
            method: "PUT".into(),
            url: format!("{}{UPLOAD_PATH}{key}?{query}", self.base_url),
            headers: vec![("content-type".into(), content_type.into())],
            expires_at: expires,
        })
    }

    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, BlobError> {
        self.path(key)?;
        let expires = chrono::Utc::now().timestamp() + expires_in.as_secs() as i64;
        let signature = hex(&mac(&self.signing, signed_download(key, filename, expires).as_bytes()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filename", filename)
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &signature)
            .finish();
        Ok(format!("{}{DOWNLOAD_PATH}{key}?{query}", self.base_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn blobs(dir: &Path) -> LocalBlobs {
        LocalBlobs::new(dir, SecretKey::generate(), "http://127.0.0.1:3000")
    }

    crate::blobs_contract!({
        let dir = tempfile::tempdir().unwrap();
        (super::blobs(dir.path()), dir)
    });

    fn query_of(url: &str) -> HashMap<String, String> {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[tokio::test]
    async fn an_upload_url_binds_key_type_size_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let up = b.presign_put("quarantine/a/b/c", "image/jpeg", 1000, Duration::from_secs(300)).await.unwrap();
        let q = query_of(&up.url);
        let now = chrono::Utc::now().timestamp();
        assert_eq!(b.check_upload("quarantine/a/b/c", &q, Some("image/jpeg"), Some(1000), now), Ok(1000));
        assert_eq!(
            b.check_upload("quarantine/a/b/d", &q, Some("image/jpeg"), Some(1000), now),
            Err(UploadRefused::BadSignature)
        );
        assert_eq!(
            b.check_upload("quarantine/a/b/c", &q, Some("image/png"), Some(1000), now),
            Err(UploadRefused::WrongContentType)
        );
        assert_eq!(
            b.check_upload("quarantine/a/b/c", &q, Some("image/jpeg"), Some(1001), now),
            Err(UploadRefused::WrongSize)
        );
        assert_eq!(
            b.check_upload("quarantine/a/b/c", &q, Some("image/jpeg"), Some(1000), now + 301),
            Err(UploadRefused::Expired)
        );
        let mut forged = q.clone();
        forged.insert("size".into(), "50000000".into());
        assert_eq!(
            b.check_upload("quarantine/a/b/c", &forged, Some("image/jpeg"), Some(50000000), now),
            Err(UploadRefused::BadSignature)
        );
        let other = blobs(dir.path());
        assert_eq!(
            other.check_upload("quarantine/a/b/c", &q, Some("image/jpeg"), Some(1000), now),
            Err(UploadRefused::BadSignature)
        );
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "a/b c", ""] {
            assert!(matches!(b.put(bad, vec![1], "x").await, Err(BlobError::InvalidKey)), "{bad}");
        }
    }
}
