//! The AWS blobs adapter: S3 objects in one bucket, and presigned `PutObject` URLs that sign the content
//! type and length.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use super::{BlobError, Blobs, LIST_PAGE, ObjectPage, PresignedUpload, StoredObject, valid_key};

/// Objects in one S3 bucket.
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn unavailable(e: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    /// Creates the bucket (for tests and S3-compatible local endpoints).
    pub async fn create_bucket(&self) -> Result<(), BlobError> {
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))
    }

    fn checked(key: &str) -> Result<&str, BlobError> {
        if valid_key(key) { Ok(key) } else { Err(BlobError::InvalidKey) }
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let result = self.client.get_object().bucket(&self.bucket).key(Self::checked(key)?).send().await;
        match result {
            Ok(out) => out.body.collect().await.map(|b| Some(b.into_bytes().to_vec())).map_err(unavailable),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))
    }

    async fn list(&self, prefix: &str, after: Option<&str>) -> Result<ObjectPage, BlobError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(after.map(str::to_string))
            .max_keys(LIST_PAGE as i32)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let objects: Vec<StoredObject> = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(StoredObject { key: o.key()?.to_string(), modified_at: o.last_modified().map_or(0, |t| t.secs()) })
            })
            .collect();
        let next = if out.is_truncated() == Some(true) { objects.last().map(|o| o.key.clone()) } else { None };
        Ok(ObjectPage { objects, next })
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(unavailable)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .content_type(content_type)
            .content_length(size as i64)
            .presigned(config)
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let headers = presigned.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Ok(PresignedUpload {
            method: presigned.method().to_string(),
            url: presigned.uri().to_string(),
            headers,
            expires_at: chrono::Utc::now().timestamp() + expires_in.as_secs() as i64,
        })
    }

    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<String, BlobError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(unavailable)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .response_content_disposition(super::attachment(filename))
            .presigned(config)
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(presigned.uri().to_string())
    }
}
