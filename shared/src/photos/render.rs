//! From uploaded bytes to clean renditions: refuse what is not a JPEG, PNG or WebP of a sane size (before
//! decoding it), decode to 8-bit RGB, scale, turn upright by the EXIF orientation, and re-encode from
//! pixels only, so no metadata (GPS above all) survives.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use super::reduce;
use super::sniff::sniff;
use crate::domain::photo::{PhotoType, Rendition};

/// The most pixels an upload may have (a 12-megapixel phone photo is well within it).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The longest edge an upload may have.
pub const MAX_EDGE: u32 = 12_000;
/// The most a decoder may allocate: a JPEG or WebP of the largest size at 4 bytes a pixel (CMYK, RGBA).
/// PNGs, the only format with 16 bits a channel, never reach it (see `reduce`).
pub const MAX_ALLOC: u64 = MAX_PIXELS * 4;
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
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = reader();
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| broken())?;
    let orientation = decoder.orientation().map_err(|_| broken())?;
    // Decoded as 8-bit RGB: a PNG (the one format with 16 bits a channel) streamed and reduced on the way
    // in; a JPEG or WebP whole, at 3 or 4 bytes a pixel, and converted at once. Then scaled, and only then
    // turned upright, so the full-size image is never copied to be rotated (the long edge is the same
    // either way up).
    let image = match kind {
        PhotoType::Png => reduce::png_rgb8(bytes, Rendition::Display.long_edge())?,
        PhotoType::Jpeg | PhotoType::Webp => {
            let full = DynamicImage::from_decoder(decoder).map_err(|_| broken())?.into_rgb8();
            reduce::reduced(full, Rendition::Display.long_edge())
        }
    };
    let display = scaled(image, Rendition::Display);
    let thumbnail = scaled(display.clone(), Rendition::Thumbnail);
    let upright = |image: RgbImage| {
        let mut image = DynamicImage::ImageRgb8(image);
        image.apply_orientation(orientation);
        image.into_rgb8()
    };
    Ok(vec![encode(&upright(display), Rendition::Display)?, encode(&upright(thumbnail), Rendition::Thumbnail)?])
}

/// How many uploads one process renders at once: each may take a few hundred megabytes at its peak (see
/// the `photo_memory` benchmark), so a local server given many at once queues them instead of running out
/// of memory. A Lambda instance handles one event at a time and never waits here.
pub const RENDERS_AT_ONCE: usize = 2;
static RENDER_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(RENDERS_AT_ONCE);

/// Runs blocking work on a blocking thread once one of the process's render slots is free.
pub async fn in_render_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let _slot = RENDER_SLOTS.acquire().await.expect("the render slots are never closed");
    tokio::task::spawn_blocking(work).await
}

/// [`render`] in a render slot.
pub async fn render_bounded(
    bytes: Vec<u8>,
    declared: PhotoType,
) -> Result<Result<Vec<Rendered>, String>, tokio::task::JoinError> {
    in_render_slot(move || render(&bytes, declared)).await
}

/// The image scaled so its long edge is the rendition's, its sides in proportion (never enlarged): a
/// tent (bilinear) filter as wide as the reduction, run with the CPU's vector instructions.
fn scaled(mut image: RgbImage, rendition: Rendition) -> RgbImage {
    let (width, height) = image.dimensions();
    let edge = rendition.long_edge();
    if width.max(height) <= edge {
        return image;
    }
    let ratio = f64::from(edge) / f64::from(width.max(height));
    let side = |length: u32| ((f64::from(length) * ratio).round() as u32).max(1);
    let (new_width, new_height) = (side(width), side(height));
    let source = Image::from_slice_u8(width, height, &mut image, PixelType::U8x3).expect("an RGB buffer of its size");
    let mut target = Image::new(new_width, new_height, PixelType::U8x3);
    let bilinear = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&source, &mut target, &bilinear).expect("source and target are both 8-bit RGB");
    RgbImage::from_raw(new_width, new_height, target.into_vec()).expect("a buffer of the target's size")
}

/// Encodes the pixels alone (a JFIF header, no EXIF), with the CPU's vector instructions where it has them.
fn encode(image: &RgbImage, rendition: Rendition) -> Result<Rendered, String> {
    let (width, height) = image.dimensions();
    let too_large = || format!("the image could not be re-encoded: {width}x{height} pixels");
    let (w, h) = (u16::try_from(width).map_err(|_| too_large())?, u16::try_from(height).map_err(|_| too_large())?);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, QUALITY)
        .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("the image could not be re-encoded: {e}"))?;
    Ok(Rendered { rendition, jpeg, width, height })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&DynamicImage::ImageRgb8(img))
            .unwrap();
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

    fn png_of(w: u32, h: u32, color: png::ColorType, depth: png::BitDepth, sample: u8) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(color);
        encoder.set_depth(depth);
        let mut writer = encoder.write_header().unwrap();
        let bytes_per_pixel = color.samples() * if depth == png::BitDepth::Sixteen { 2 } else { 1 };
        writer.write_image_data(&vec![sample; w as usize * h as usize * bytes_per_pixel]).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn sixteen_bit_and_grey_pngs_are_reduced_as_they_stream_to_rgb_renditions() {
        let deep = png_of(5000, 300, png::ColorType::Rgba, png::BitDepth::Sixteen, 0x80);
        let out = render(&deep, PhotoType::Png).unwrap();
        assert_eq!((out[0].width, out[0].height), (2048, 123));
        assert_eq!((out[1].width, out[1].height), (320, 19));
        let shown = image::load_from_memory(&out[0].jpeg).unwrap().into_rgb8();
        let [r, g, b] = shown.get_pixel(1000, 60).0;
        assert!(r.abs_diff(0x80) <= 2 && g.abs_diff(0x80) <= 2 && b.abs_diff(0x80) <= 2, "{r} {g} {b}");
        let grey = png_of(300, 200, png::ColorType::Grayscale, png::BitDepth::Eight, 200);
        let out = render(&grey, PhotoType::Png).unwrap();
        assert_eq!((out[0].width, out[0].height), (300, 200));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_render_slots_run_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..4 * RENDERS_AT_ONCE)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(in_render_slot(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), RENDERS_AT_ONCE);
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[4..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// A PNG written by hand: 8-bit RGB, `interlaced` as told, its image data one stored deflate block.
    fn handmade_png(width: u32, height: u32, interlaced: bool, scanlines: &[u8]) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, u8::from(interlaced)]);
        let (mut a, mut b) = (1u32, 0u32);
        for byte in scanlines {
            a = (a + u32::from(*byte)) % 65521;
            b = (b + a) % 65521;
        }
        let len = scanlines.len() as u16;
        let mut zlib = vec![0x78, 0x01, 0x01];
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(scanlines);
        zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &header));
        out.extend(chunk(b"IDAT", &zlib));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn interlaced_pngs_are_decoded_whole_up_to_their_own_limit() {
        // 1x1, interlaced: the one pixel is all of the first pass (filter byte, then RGB).
        let small = handmade_png(1, 1, true, &[0, 200, 100, 50]);
        let out = render(&small, PhotoType::Png).unwrap();
        assert_eq!((out[0].width, out[0].height), (1, 1));
        let pixel = image::load_from_memory(&out[0].jpeg).unwrap().into_rgb8().get_pixel(0, 0).0;
        assert!(pixel[0] > pixel[1] && pixel[1] > pixel[2], "{pixel:?}");
        // Within the 50-megapixel limit, but interlaced and over 16: refused from the header.
        let large = handmade_png(5000, 4000, true, &[0, 0, 0, 0]);
        let reason = render(&large, PhotoType::Png).unwrap_err();
        assert!(reason.contains("interlaced") && reason.contains("5000x4000"), "{reason}");
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
