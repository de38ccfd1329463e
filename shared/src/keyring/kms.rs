//! The AWS keys adapter: KMS `GenerateDataKey` and `Decrypt` with the encryption context, under one key.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use super::{DataKey, EncryptionContext, KeyError, Keyring};
use crate::crypto::SecretKey;

/// Data keys from one KMS key.
pub struct KmsKeyring {
    client: Client,
    key_id: String,
}

impl KmsKeyring {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }
}

fn unavailable(e: impl std::fmt::Display) -> KeyError {
    KeyError::Unavailable(e.to_string())
}

fn context_map(context: &EncryptionContext) -> std::collections::HashMap<String, String> {
    context.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[async_trait]
impl Keyring for KmsKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_kms::error::DisplayErrorContext(e)))?;
        let plaintext = out
            .plaintext()
            .and_then(|p| SecretKey::from_slice(p.as_ref()))
            .ok_or_else(|| unavailable("KMS returned no 256-bit plaintext key"))?;
        let wrapped =
            out.ciphertext_blob().map(|b| b.as_ref().to_vec()).ok_or_else(|| unavailable("no wrapped key"))?;
        let key_ref = out.key_id().unwrap_or(&self.key_id).to_string();
        Ok(DataKey { plaintext, wrapped, key_ref })
    }

    async fn decrypt_data_key(&self, wrapped: &[u8], context: &EncryptionContext) -> Result<SecretKey, KeyError> {
        let result = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await;
        match result {
            Ok(out) => out.plaintext().and_then(|p| SecretKey::from_slice(p.as_ref())).ok_or(KeyError::Refused),
            Err(e) => {
                let refused = e
                    .as_service_error()
                    .is_some_and(|s| s.is_invalid_ciphertext_exception() || s.is_incorrect_key_exception());
                if refused {
                    Err(KeyError::Refused)
                } else {
                    Err(unavailable(aws_sdk_kms::error::DisplayErrorContext(e)))
                }
            }
        }
    }
}
