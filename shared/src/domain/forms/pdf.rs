//! A signed consent as a PDF a clinic can print or send: the clinic, the patient, the exact consent text,
//! the typed name and drawn signature, when and from where it was signed, and the text's SHA-256.

use super::invitation::Signature;
use crate::pdf::{CHARS_PER_LINE, Line, Rgb, wrap};

/// The drawn signature as raw RGB on white, scaled to fit 360x120 points.
fn signature_image(png: &[u8]) -> Option<Rgb> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(png), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4000);
    limits.max_image_height = Some(4000);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().ok()?;
    let image = image.resize(720, 240, image::imageops::FilterType::Triangle).into_rgba8();
    let (w, h) = image.dimensions();
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for pixel in image.pixels() {
        let [r, g, b, a] = pixel.0;
        let over_white = |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        rgb.extend_from_slice(&[over_white(r), over_white(g), over_white(b)]);
    }
    Some((w, h, rgb))
}

/// The consent PDF. `patient` is the patient's name and birth date as the record holds them.
pub fn consent_pdf(clinic: &str, patient: &str, form_title: &str, signature: &Signature) -> Vec<u8> {
    let mut lines = vec![
        Line::bold(clinic.to_string()),
        Line::bold(form_title.to_string()),
        Line::plain(""),
        Line::plain(format!("Patient: {patient}")),
        Line::plain(""),
    ];
    for paragraph in signature.consent_text.split('\n') {
        lines.extend(wrap(paragraph, CHARS_PER_LINE).into_iter().map(|text| Line { text, bold: false }));
        lines.push(Line::plain(""));
    }
    lines.extend([
        Line { text: format!("Signed by: {}", signature.typed_name), bold: true },
        Line { text: format!("Signed at: {}", signature.signed_at), bold: false },
        Line { text: format!("From: {}", signature.ip.as_deref().unwrap_or("unknown address")), bold: false },
        Line { text: format!("Device: {}", signature.user_agent.as_deref().unwrap_or("unknown")), bold: false },
        Line { text: format!("SHA-256 of the consent text: {}", signature.consent_text_sha256), bold: false },
    ]);
    let drawing = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &signature.drawing_png)
        .ok()
        .and_then(|png| signature_image(&png));
    crate::pdf::document(&lines, drawing.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_pdf_is_a_pdf_with_its_text_and_a_valid_cross_reference() {
        let signature = Signature {
            template_id: "neurotoxin-consent".into(),
            question_id: "signature".into(),
            typed_name: "Ana García".into(),
            drawing_png: String::new(),
            signed_at: "2026-11-23T10:00:00Z".into(),
            ip: Some("203.0.113.10".into()),
            user_agent: Some("Phone".into()),
            consent_text: "I consent. ".repeat(200),
            consent_text_sha256: "ab".repeat(32),
        };
        let pdf = consent_pdf("Glow", "Ana García, born 1988-04-12", "Neurotoxin consent", &signature);
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(Signed by: Ana Garc\\355a)"));
        let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[startxref..].starts_with(b"xref"));
        let first_object = text.split("xref\n").nth(1).unwrap().lines().nth(2).unwrap()[..10].parse::<usize>().unwrap();
        assert!(pdf[first_object..].starts_with(b"1 0 obj"));
    }
}
