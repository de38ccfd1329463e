//! The embedded keys adapter: a master key in a file readable only by its owner (created on first run),
//! data keys wrapped with AES-256-GCM and the encryption context as associated data.

use std::path::Path;

use async_trait::async_trait;

use super::{DataKey, EncryptionContext, KeyError, Keyring, canonical};
use crate::crypto::{self, SecretKey, sha256_hex};
use crate::host::config::{self, ConfigError};

/// Wraps data keys with a local master key.
pub struct LocalKeyring {
    master: SecretKey,
    key_ref: String,
}

impl LocalKeyring {
    pub fn new(master: SecretKey) -> Self {
        let key_ref = format!("local:{}", &sha256_hex(master.as_bytes())[..16]);
        Self { master, key_ref }
    }

    /// The master key kept in `path` (mode 0600), created on first use.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        Ok(Self::new(config::key_file(path)?))
    }
}

#[async_trait]
impl Keyring for LocalKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        let plaintext = SecretKey::generate();
        let wrapped = crypto::seal(&self.master, &canonical(context), plaintext.as_bytes());
        Ok(DataKey { plaintext, wrapped, key_ref: self.key_ref.clone() })
    }

    async fn decrypt_data_key(&self, wrapped: &[u8], context: &EncryptionContext) -> Result<SecretKey, KeyError> {
        crypto::open(&self.master, &canonical(context), wrapped)
            .and_then(|bytes| SecretKey::from_slice(&bytes))
            .ok_or(KeyError::Refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::keyring_contract!(LocalKeyring::new(SecretKey::generate()));

    #[tokio::test]
    async fn another_master_key_cannot_unwrap() {
        let a = LocalKeyring::new(SecretKey::generate());
        let b = LocalKeyring::new(SecretKey::generate());
        let context = super::super::contract::context("c", "p", "x");
        let key = a.generate_data_key(&context).await.unwrap();
        assert!(b.decrypt_data_key(&key.wrapped, &context).await.is_err());
        assert_ne!(a.key_ref, b.key_ref);
    }
}
