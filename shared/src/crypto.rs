//! Small authenticated-encryption and MAC helpers (AES-256-GCM, HMAC-SHA256) with random nonces.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

/// A 256-bit secret key; its bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The key a stored secret's text gives: 32 bytes in base64 are the key itself (the `CursorKey` a stack
    /// was given), and any other text of at least 43 characters (a secret the stack generated, 64 letters and
    /// digits) is hashed into one. `None` for a shorter text.
    pub fn from_secret_text(text: &str) -> Option<Self> {
        use base64::Engine;
        let text = text.trim();
        let given = base64::engine::general_purpose::STANDARD.decode(text).ok().and_then(|b| Self::from_slice(&b));
        given.or_else(|| (text.len() >= 43).then(|| Self(Sha256::digest(text.as_bytes()).into())))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key of its own for one purpose (`label`), derived from this one: one configured secret serves
    /// several uses without any two sharing a key.
    pub fn derive(&self, label: &str) -> SecretKey {
        SecretKey(mac(self, label.as_bytes()))
    }
}

/// Fills an array from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system random source is unavailable");
    out
}

/// Encrypts `plaintext` bound to `aad`; the output is `nonce || ciphertext || tag`.
pub fn seal(key: &SecretKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("key is 32 bytes");
    let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
    let nonce = Nonce::from(nonce_bytes);
    let ciphertext = cipher
        .encrypt(&nonce, Payload { msg: plaintext, aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    out
}

/// Decrypts what [`seal`] produced; `None` if the data was tampered with or the `aad` differs.
pub fn open(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + 16 {
        return None;
    }
    let (nonce_bytes, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce_bytes: [u8; NONCE_LEN] = nonce_bytes.try_into().ok()?;
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).ok()?;
    cipher.decrypt(&Nonce::from(nonce_bytes), Payload { msg: ciphertext, aad }).ok()
}

/// [`seal`] as text to store: the sealed bytes in standard base64.
pub fn seal_text(key: &SecretKey, aad: &[u8], plaintext: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seal(key, aad, plaintext))
}

/// Opens what [`seal_text`] produced; `None` if it is not base64, was tampered with, or the `aad` differs.
pub fn open_text(key: &SecretKey, aad: &[u8], sealed: &str) -> Option<Vec<u8>> {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed).ok()?;
    open(key, aad, &bytes)
}

/// HMAC-SHA256 of `data`.
pub fn mac(key: &SecretKey, data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Checks an HMAC-SHA256 tag in constant time.
pub fn verify_mac(key: &SecretKey, data: &[u8], tag: &[u8]) -> bool {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
    m.update(data);
    m.verify_slice(tag).is_ok()
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_context() {
        let key = SecretKey::generate();
        let sealed = seal(&key, b"clinic-a", b"hello");
        assert_eq!(open(&key, b"clinic-a", &sealed).as_deref(), Some(&b"hello"[..]));
        assert!(open(&key, b"clinic-b", &sealed).is_none());
        assert!(open(&SecretKey::generate(), b"clinic-a", &sealed).is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&key, b"clinic-a", &tampered).is_none());
        assert!(open(&key, b"clinic-a", &sealed[..10]).is_none());
    }

    #[test]
    fn derived_keys_differ_by_label_and_repeat_for_the_same_one() {
        let key = SecretKey::generate();
        assert_eq!(key.derive("a").as_bytes(), key.derive("a").as_bytes());
        assert_ne!(key.derive("a").as_bytes(), key.derive("b").as_bytes());
        assert_ne!(key.derive("a").as_bytes(), key.as_bytes());
    }

    #[test]
    fn a_mac_verifies_only_the_data_it_was_made_for() {
        let key = SecretKey::generate();
        let tag = mac(&key, b"payload");
        assert!(verify_mac(&key, b"payload", &tag));
        assert!(!verify_mac(&key, b"payload2", &tag));
    }
}
