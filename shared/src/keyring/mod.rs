//! The keys port: data keys for envelope encryption, generated and unwrapped under an encryption context
//! that must match exactly. KMS in production; a local master key file for the embedded host.

pub mod contract;
pub mod kms;
pub mod local;

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::crypto::SecretKey;

/// The encryption context a data key is bound to: every name and value must match to unwrap it.
pub type EncryptionContext = BTreeMap<String, String>;

/// A fresh data key: the plaintext to encrypt with (never stored) and the wrapped copy to keep.
pub struct DataKey {
    pub plaintext: SecretKey,
    pub wrapped: Vec<u8>,
    /// Which master key wrapped it (a KMS key ARN, or `local:` and the local key's fingerprint).
    pub key_ref: String,
}

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The wrapped key does not open under this context (or was tampered with, or belongs to another key).
    #[error("the data key cannot be unwrapped under this encryption context")]
    Refused,
    #[error("key service unavailable: {0}")]
    Unavailable(String),
}

/// The keys port.
#[async_trait]
pub trait Keyring: Send + Sync {
    /// A new 256-bit data key bound to `context`.
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError>;

    /// The plaintext of a wrapped data key, if `context` is the one it was generated under.
    async fn decrypt_data_key(&self, wrapped: &[u8], context: &EncryptionContext) -> Result<SecretKey, KeyError>;
}

/// A context's canonical bytes: `name=value` lines in name order (names and values never hold newlines).
pub fn canonical(context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in context {
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}
