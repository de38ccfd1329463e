//! What an image file really is, from its first bytes: never from its name or the type it claims.

use crate::domain::photo::PhotoType;

/// The type the bytes show, if they are a JPEG, PNG or WebP image.
pub fn sniff(bytes: &[u8]) -> Option<PhotoType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(PhotoType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(PhotoType::Webp)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_decide_the_type() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(PhotoType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(PhotoType::Png));
        assert_eq!(sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 "), Some(PhotoType::Webp));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"RIFF\x10\x00\x00\x00WAVE"), None);
    }
}
