//! Sealed pagination cursors: opaque, tamper-evident, bound to one clinic and one query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::problem::ApiError;
use crate::crypto::{self, SecretKey};
use crate::store::Item;

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// Which query the cursor continues.
    q: String,
    /// Where the previous page stopped.
    k: Item,
}

fn aad(clinic: &str) -> Vec<u8> {
    format!("vellum-cursor:{clinic}").into_bytes()
}

/// Seals a page position for `clinic` and the query named `scope`.
pub fn seal(key: &SecretKey, clinic: &str, scope: &str, position: Item) -> String {
    let plain = serde_json::to_vec(&Sealed { q: scope.to_string(), k: position }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(crypto::seal(key, &aad(clinic), &plain))
}

/// Opens a cursor; refuses one from another clinic, another query, or one that was altered.
pub fn open(key: &SecretKey, clinic: &str, scope: &str, cursor: &str) -> Result<Item, ApiError> {
    let refuse = || ApiError::field("cursor", "is not a cursor this query issued");
    if cursor.len() > 4096 {
        return Err(refuse());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refuse())?;
    let plain = crypto::open(key, &aad(clinic), &bytes).ok_or_else(refuse)?;
    let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| refuse())?;
    if sealed.q != scope {
        return Err(refuse());
    }
    Ok(sealed.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn position() -> Item {
        json!({"PK": "CLINIC#A", "SK": "PATIENT#1"}).as_object().cloned().unwrap()
    }

    #[test]
    fn a_cursor_opens_for_the_same_clinic_and_query_only() {
        let key = SecretKey::generate();
        let c = seal(&key, "A", "patients.list", position());
        assert_eq!(open(&key, "A", "patients.list", &c).unwrap(), position());
        assert!(open(&key, "B", "patients.list", &c).is_err());
        assert!(open(&key, "A", "audit.list", &c).is_err());
        let mut tampered = c.clone().into_bytes();
        tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
        assert!(open(&key, "A", "patients.list", &String::from_utf8(tampered).unwrap()).is_err());
        assert!(open(&key, "A", "patients.list", "not a cursor!").is_err());
    }
}
