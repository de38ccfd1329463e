//! The keys contract: what every keys adapter must do, as a test suite each adapter instantiates.

use super::EncryptionContext;

/// The encryption context of one photo.
pub fn context(clinic: &str, patient: &str, photo: &str) -> EncryptionContext {
    [("clinicId", clinic), ("patientId", patient), ("photoId", photo)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Instantiates the keys contract for the keyring `$make` builds (an expression, awaited if async).
#[macro_export]
macro_rules! keyring_contract {
    ($make:expr) => {
        mod keyring_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::keyring::Keyring;
            use $crate::keyring::contract::context;

            #[tokio::test]
            async fn a_data_key_unwraps_under_its_own_context_only() {
                let keyring = $make;
                let own = context("clinic-a", "patient-1", "photo-1");
                let key = keyring.generate_data_key(&own).await.expect("a data key");
                assert_eq!(key.plaintext.as_bytes().len(), 32);
                assert!(
                    !key.wrapped.windows(32).any(|w| w == key.plaintext.as_bytes()),
                    "the wrapped key hides the plaintext"
                );
                let opened = keyring.decrypt_data_key(&key.wrapped, &own).await.expect("unwraps under its context");
                assert_eq!(opened.as_bytes(), key.plaintext.as_bytes());
                for other in [
                    context("clinic-a", "patient-2", "photo-1"),
                    context("clinic-b", "patient-1", "photo-1"),
                    context("clinic-a", "patient-1", "photo-2"),
                ] {
                    assert!(
                        matches!(
                            keyring.decrypt_data_key(&key.wrapped, &other).await,
                            Err($crate::keyring::KeyError::Refused)
                        ),
                        "{other:?}"
                    );
                }
                let mut partial = own.clone();
                partial.remove("photoId");
                assert!(keyring.decrypt_data_key(&key.wrapped, &partial).await.is_err(), "a missing name refuses");
            }

            #[tokio::test]
            async fn every_data_key_is_fresh() {
                let keyring = $make;
                let own = context("clinic-a", "patient-1", "photo-1");
                let a = keyring.generate_data_key(&own).await.unwrap();
                let b = keyring.generate_data_key(&own).await.unwrap();
                assert_ne!(a.plaintext.as_bytes(), b.plaintext.as_bytes());
                assert_ne!(a.wrapped, b.wrapped);
            }

            #[tokio::test]
            async fn a_tampered_wrapped_key_is_refused() {
                let keyring = $make;
                let own = context("clinic-a", "patient-1", "photo-1");
                let mut key = keyring.generate_data_key(&own).await.unwrap();
                let last = key.wrapped.len() - 1;
                key.wrapped[last] ^= 0x01;
                assert!(keyring.decrypt_data_key(&key.wrapped, &own).await.is_err());
            }
        }
    };
}
