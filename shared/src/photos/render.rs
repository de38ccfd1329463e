//! From uploaded bytes to clean renditions: refuse what is not a JPEG, PNG or WebP of a sane size (before
//! decoding it), decode, turn it upright by its EXIF orientation, and re-encode from pixels only, so no
//! metadata (GPS above all) survives.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::sniff::sniff;
use crate::domain::photo::{PhotoType, Rendition};

/// The most pixels an upload may have (a 12-megapixel phone photo is well within it).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The longest edge an upload may have.
pub const MAX_EDGE: u32 = 12_000;
/// JPEG quality of the renditions.
const QUALITY: u8 = 85;

/// One rendition, encoded as JPEG.
#[derive(Debug)]
pub struct Rendered {
    pub rendition: Rendition,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn format_of(kind: PhotoType) -> ImageFormat {
    match kind {
        PhotoType::Jpeg => ImageFormat::Jpeg,
        PhotoType::Png => ImageFormat::Png,
        PhotoType::Webp => ImageFormat::WebP,
    }
}

fn name(kind: PhotoType) -> &'static str {
    match kind {
        PhotoType::Jpeg => "JPEG",
        PhotoType::Png => "PNG",
        PhotoType::Webp => "WebP",
    }
}

/// Whether a JPEG holds its end-of-image marker after the start of its first scan. Inside the scan every
/// 0xFF byte is followed by 0x00 or a restart marker, so a cut-off file has none (trailing data after the
/// marker, as some phones append, is allowed).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        if marker == 0xDA {
            return bytes[pos..].windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        pos += 2 + usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
    }
    false
}

/// Checks the file and renders the display and thumbnail renditions; `Err` says why the file is refused.
pub fn render(bytes: &[u8], declared: PhotoType) -> Result<Vec<Rendered>, String> {
    let kind = sniff(bytes).ok_or("the file is not a JPEG, PNG or WebP image")?;
    if kind != declared {
        return Err(format!("the file was declared {declared} but is a {} image", name(kind)));
    }
    let broken = || format!("the {} image is damaged or truncated", name(kind));
    if kind == PhotoType::Jpeg && !jpeg_is_complete(bytes) {
        return Err(broken());
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), format_of(kind));
    let (width, height) = reader().into_dimensions().map_err(|_| broken())?;
    if width == 0 || height == 0 {
        return Err("the image has no pixels".into());
    }
    if width > MAX_EDGE || height > MAX_EDGE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "the image is {width}x{height} pixels: at most {MAX_PIXELS} pixels and {MAX_EDGE} on a side are accepted"
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_EDGE);
    limits.max_image_height = Some(MAX_EDGE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    let mut reader = reader();
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| broken())?;
    let orientation = decoder.orientation().map_err(|_| broken())?;
    let decoded = DynamicImage::from_decoder(decoder).map_err(|_| broken())?;
    // 8-bit RGB at once (the decoded buffer goes with it), then scaled, and only then turned upright: the
    // full-size image is never copied to be rotated. The long edge is the same either way up.
    let image = DynamicImage::ImageRgb8(decoded.into_rgb8());
    let mut display = scaled(&image, Rendition::Display);
    drop(image);
    let mut thumbnail = scaled(&display, Rendition::Thumbnail);
    display.apply_orientation(orientation);
    thumbnail.apply_orientation(orientation);
    Ok(vec![encode(&display, Rendition::Display)?, encode(&thumbnail, Rendition::Thumbnail)?])
}

/// The image scaled so its long edge is at most the rendition's (never enlarged).
fn scaled(image: &DynamicImage, rendition: Rendition) -> DynamicImage {
    let edge = rendition.long_edge();
    if image.width().max(image.height()) <= edge {
        return image.clone();
    }
    image.resize(edge, edge, image::imageops::FilterType::Triangle)
}

fn encode(image: &DynamicImage, rendition: Rendition) -> Result<Rendered, String> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(image)
        .map_err(|e| format!("the image could not be re-encoded: {e}"))?;
    Ok(Rendered { rendition, jpeg, width: image.width(), height: image.height() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90).encode_image(&DynamicImage::ImageRgb8(img)).unwrap();
        out
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, _| Rgb([x as u8, 0, 0]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn large_images_are_scaled_to_the_rendition_edges_and_small_ones_kept() {
        let out = render(&jpeg(3000, 1500), PhotoType::Jpeg).unwrap();
        assert_eq!((out[0].width, out[0].height), (2048, 1024));
        assert_eq!((out[1].width, out[1].height), (320, 160));
        let small = render(&jpeg(200, 100), PhotoType::Jpeg).unwrap();
        assert_eq!((small[0].width, small[1].width), (200, 200), "never enlarged");
    }

    #[test]
    fn data_after_the_end_of_a_jpeg_is_allowed() {
        let mut padded = jpeg(64, 48);
        padded.extend_from_slice(&[0; 100]);
        assert!(render(&padded, PhotoType::Jpeg).is_ok());
    }

    #[test]
    fn files_that_lie_or_break_are_refused_with_a_reason() {
        let png = png(50, 40);
        assert!(render(&png, PhotoType::Png).is_ok());
        assert!(render(&png, PhotoType::Jpeg).unwrap_err().contains("declared image/jpeg but is a PNG image"));
        let jpeg = jpeg(300, 200);
        assert!(render(&jpeg[..jpeg.len() / 2], PhotoType::Jpeg).unwrap_err().contains("damaged or truncated"));
        assert!(render(&png[..png.len() - 20], PhotoType::Png).unwrap_err().contains("damaged or truncated"));
        assert!(render(b"hello, I am text", PhotoType::Jpeg).unwrap_err().contains("not a JPEG, PNG or WebP"));
    }

    #[test]
    fn an_oversize_image_is_refused_from_its_header_alone() {
        // A small JPEG whose frame header claims 20000x20000 pixels, as a decompression bomb would.
        let mut bomb = jpeg(16, 16);
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]);
        let reason = render(&bomb, PhotoType::Jpeg).unwrap_err();
        assert!(reason.contains("20000x20000"), "{reason}");
    }
}
