//! A plain PDF: pages of text lines in Helvetica (WinAnsi), with an optional image after the last line.
//! Enough for a signed consent and a record's summary, with no dependency to keep.

use std::fmt::Write as _;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const LINE: f32 = 14.0;
/// How many characters a line of body text holds.
pub const CHARS_PER_LINE: usize = 92;

/// A line of text and whether it is a heading.
pub struct Line {
    pub text: String,
    pub bold: bool,
}

/// Text as a PDF string literal in WinAnsi: characters beyond Latin-1 become `?`.
fn pdf_string(text: &str) -> String {
    let mut out = String::from("(");
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push(' '),
            c if (c as u32) < 0x80 => out.push(c),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// Wraps a paragraph at word boundaries.
pub fn wrap(paragraph: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in paragraph.split_whitespace() {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// An image as raw 8-bit RGB: width, height and pixels.
pub type Rgb = (u32, u32, Vec<u8>);

impl Line {
    pub fn plain(text: impl Into<String>) -> Self {
        Line { text: text.into(), bold: false }
    }

    pub fn bold(text: impl Into<String>) -> Self {
        Line { text: text.into(), bold: true }
    }
}

/// A PDF of `lines`, paged, with `image` (drawn at half its pixel size) after the last line.
pub fn document(lines: &[Line], image: Option<&Rgb>) -> Vec<u8> {
    let drawing = image;
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN - 150.0) / LINE) as usize;
    let pages: Vec<&[Line]> = lines.chunks(per_page).collect();

    // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 signature image, then a page and its
    // contents for each page.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let first_page = 6;
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec());
    let (sig_w, sig_h) = match &drawing {
        Some((w, h, rgb)) => {
            let mut image = format!(
                "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
                rgb.len()
            )
            .into_bytes();
            image.extend_from_slice(rgb);
            image.extend_from_slice(b"\nendstream");
            objects.push(image);
            (*w as f32 / 2.0, *h as f32 / 2.0)
        }
        None => {
            objects.push(b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\xff\nendstream".to_vec());
            (1.0, 1.0)
        }
    };
    for (i, page) in pages.iter().enumerate() {
        let mut content = String::from("BT\n");
        let mut y = PAGE_HEIGHT - MARGIN;
        for line in page.iter() {
            let font = if line.bold { "/F2 11 Tf" } else { "/F1 10 Tf" };
            let _ = writeln!(content, "{font} 1 0 0 1 {MARGIN} {y:.1} Tm {} Tj", pdf_string(&line.text));
            y -= LINE;
        }
        content.push_str("ET\n");
        if i + 1 == pages.len() && drawing.is_some() {
            let _ = writeln!(content, "q {sig_w:.1} 0 0 {sig_h:.1} {MARGIN} {:.1} cm /Sig Do Q", y - sig_h - 10.0);
        }
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> /XObject << /Sig 5 0 R >> >> /Contents {} 0 R >>",
                first_page + 2 * i + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }

    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(table, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_latin_1_kept() {
        assert_eq!(pdf_string("a (b) \\ c"), "(a \\(b\\) \\\\ c)");
        assert_eq!(pdf_string("García"), "(Garc\\355a)");
        assert_eq!(pdf_string("日本"), "(??)");
    }
}
