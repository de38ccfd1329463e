//! The sealed form of a rendition in the bucket: a small header (format version, key reference), then the
//! AES-256-GCM nonce and ciphertext. The header and the encryption context are the associated data, so a
//! sealed object opens only as itself and only for its own photo.

use crate::crypto::{self, SecretKey};
use crate::keyring::{EncryptionContext, canonical};

const MAGIC: &[u8; 4] = b"VLMP";
const VERSION: u8 = 1;

fn header(key_ref: &str) -> Vec<u8> {
    let key_ref = key_ref.as_bytes();
    let mut out = Vec::with_capacity(MAGIC.len() + 3 + key_ref.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(key_ref.len() as u16).to_be_bytes());
    out.extend_from_slice(key_ref);
    out
}

fn associated(header: &[u8], context: &EncryptionContext) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&canonical(context));
    aad
}

/// Seals `plaintext` under `key`, naming `key_ref` in the header.
pub fn seal(key: &SecretKey, key_ref: &str, context: &EncryptionContext, plaintext: &[u8]) -> Vec<u8> {
    let mut out = header(key_ref);
    let sealed = crypto::seal(key, &associated(&out, context), plaintext);
    out.extend_from_slice(&sealed);
    out
}

/// The key reference a sealed object names, if it is one.
pub fn key_ref(object: &[u8]) -> Option<&str> {
    let rest = object.strip_prefix(MAGIC.as_slice())?;
    let (&version, rest) = rest.split_first()?;
    if version != VERSION || rest.len() < 2 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
    rest.get(2..2 + len).and_then(|r| std::str::from_utf8(r).ok())
}

/// Opens a sealed object; `None` when it is damaged, not ours, or sealed for another context or key.
pub fn open(key: &SecretKey, context: &EncryptionContext, object: &[u8]) -> Option<Vec<u8>> {
    let header_len = MAGIC.len() + 3 + key_ref(object)?.len();
    let (header, sealed) = object.split_at(header_len);
    crypto::open(key, &associated(header, context), sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::contract::context;

    #[test]
    fn a_sealed_rendition_opens_only_with_its_key_and_context() {
        let key = SecretKey::generate();
        let own = context("c", "p", "x");
        let object = seal(&key, "arn:aws:kms:eu-west-1:1:key/abc", &own, b"\xFF\xD8\xFFpixels");
        assert_eq!(key_ref(&object), Some("arn:aws:kms:eu-west-1:1:key/abc"));
        assert!(!object.windows(6).any(|w| w == b"pixels"), "the plaintext is not in the object");
        assert_eq!(open(&key, &own, &object).as_deref(), Some(&b"\xFF\xD8\xFFpixels"[..]));
        assert!(open(&key, &context("c", "q", "x"), &object).is_none(), "another patient's context");
        assert!(open(&SecretKey::generate(), &own, &object).is_none());
        let mut relabelled = object.clone();
        relabelled[8] ^= 1;
        assert!(open(&key, &own, &relabelled).is_none(), "the header is authenticated");
        assert!(open(&key, &own, &object[..20]).is_none());
    }
}
