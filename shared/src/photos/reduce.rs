//! Decoding without holding the full-size image for long: a PNG streamed row by row as 8-bit RGB into a
//! box filter that averages each `factor`×`factor` block into one pixel, so a 16-bit RGBA upload of 50
//! megapixels costs a few megabytes instead of 400; a decoded JPEG or WebP averaged down the same way
//! before it is scaled, so the scaling's floating-point buffers are sized by the small image.

use std::io::Cursor;

use image::RgbImage;
use png::{ColorType, Transformations};

/// Interlaced PNGs are decoded whole (the passes cannot be streamed into one row order); above this many
/// pixels they are refused with a reason (photos from phones and cameras are never interlaced PNGs).
pub const MAX_INTERLACED_PIXELS: u64 = 16_000_000;

/// Averages blocks of `factor`×`factor` source pixels as rows arrive.
pub struct BoxReducer {
    factor: u32,
    width: u32,
    out_width: u32,
    sums: Vec<u32>,
    rows_in_band: u32,
    out: Vec<u8>,
}

impl BoxReducer {
    /// A reducer for a `width`×`height` image whose result keeps a long edge of at least `min_edge` (or the
    /// image's own, when smaller).
    pub fn new(width: u32, height: u32, min_edge: u32) -> Self {
        let factor = (width.max(height) / min_edge.max(1)).max(1);
        let out_width = width.div_ceil(factor);
        let out_height = height.div_ceil(factor);
        Self {
            factor,
            width,
            out_width,
            sums: vec![0; out_width as usize * 3],
            rows_in_band: 0,
            out: Vec::with_capacity(out_width as usize * out_height as usize * 3),
        }
    }

    pub fn factor(&self) -> u32 {
        self.factor
    }

    /// Adds the next source row, as 8-bit RGB (3 bytes a pixel).
    pub fn push_rgb_row(&mut self, row: &[u8]) {
        for (x, pixel) in row.chunks_exact(3).take(self.width as usize).enumerate() {
            let at = (x / self.factor as usize) * 3;
            for (sum, value) in self.sums[at..at + 3].iter_mut().zip(pixel) {
                *sum += u32::from(*value);
            }
        }
        self.rows_in_band += 1;
        if self.rows_in_band == self.factor {
            self.flush_band();
        }
    }

    fn flush_band(&mut self) {
        for x in 0..self.out_width {
            let columns = (self.width - x * self.factor).min(self.factor);
            let count = columns * self.rows_in_band;
            let at = x as usize * 3;
            for sum in &mut self.sums[at..at + 3] {
                self.out.push(((*sum + count / 2) / count) as u8);
                *sum = 0;
            }
        }
        self.rows_in_band = 0;
    }

    /// The reduced image (a last band of fewer rows is averaged over the rows it got).
    pub fn finish(mut self) -> RgbImage {
        if self.rows_in_band > 0 {
            self.flush_band();
        }
        let height = (self.out.len() / (self.out_width as usize * 3)) as u32;
        RgbImage::from_raw(self.out_width, height, self.out).expect("the buffer holds whole rows")
    }
}

/// A decoded image averaged down so its long edge stays at least `min_edge` (the full-size buffer is
/// dropped as soon as it has been read), so scaling to the renditions works on the small one.
pub fn reduced(image: RgbImage, min_edge: u32) -> RgbImage {
    let (width, height) = image.dimensions();
    let mut reducer = BoxReducer::new(width, height, min_edge);
    if reducer.factor() == 1 {
        return image;
    }
    for row in image.as_raw().chunks_exact(width as usize * 3) {
        reducer.push_rgb_row(row);
    }
    drop(image);
    reducer.finish()
}

/// One row in the decoder's 8-bit output colour as RGB (alpha dropped, grey repeated).
fn to_rgb(row: &[u8], color: ColorType, rgb: &mut Vec<u8>) {
    rgb.clear();
    match color {
        ColorType::Rgb => rgb.extend_from_slice(row),
        ColorType::Rgba => row.chunks_exact(4).for_each(|p| rgb.extend_from_slice(&p[..3])),
        ColorType::Grayscale => row.iter().for_each(|g| rgb.extend_from_slice(&[*g, *g, *g])),
        ColorType::GrayscaleAlpha => row.chunks_exact(2).for_each(|p| rgb.extend_from_slice(&[p[0], p[0], p[0]])),
        // `EXPAND` turns palettes into RGB(A) before rows reach here.
        ColorType::Indexed => {}
    }
}

/// Decodes a PNG to 8-bit RGB, reduced so its long edge stays at least `min_edge`. `Err` says why not.
pub fn png_rgb8(bytes: &[u8], min_edge: u32) -> Result<RgbImage, String> {
    let broken = || "the PNG image is damaged or truncated".to_string();
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| broken())?;
    let (width, height) = reader.info().size();
    let (color, _) = reader.output_color_type();
    let mut reducer = BoxReducer::new(width, height, min_edge);
    let mut rgb = Vec::with_capacity(width as usize * 3);
    if reader.info().interlaced {
        if u64::from(width) * u64::from(height) > MAX_INTERLACED_PIXELS {
            return Err(format!(
                "the PNG is interlaced and {width}x{height} pixels: interlaced PNGs of more than {MAX_INTERLACED_PIXELS} pixels are not accepted; save it without interlacing"
            ));
        }
        let mut frame = vec![0; reader.output_buffer_size().ok_or_else(broken)?];
        let info = reader.next_frame(&mut frame).map_err(|_| broken())?;
        for row in frame.chunks_exact(info.line_size).take(height as usize) {
            to_rgb(row, color, &mut rgb);
            reducer.push_rgb_row(&rgb);
        }
    } else {
        let mut rows = 0;
        while let Some(row) = reader.next_row().map_err(|_| broken())? {
            to_rgb(row.data(), color, &mut rgb);
            reducer.push_rgb_row(&rgb);
            rows += 1;
        }
        if rows != height {
            return Err(broken());
        }
    }
    Ok(reducer.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_averaged_and_ragged_edges_kept() {
        // 5x3 source, factor 2 (long edge 5, at least 2): 3x2 result.
        let mut reducer = BoxReducer::new(5, 3, 2);
        assert_eq!(reducer.factor(), 2);
        for y in 0..3u8 {
            let row: Vec<u8> = (0..5u8).flat_map(|x| [x * 10 + y, 0, 255]).collect();
            reducer.push_rgb_row(&row);
        }
        let out = reducer.finish();
        assert_eq!(out.dimensions(), (3, 2));
        // The first block holds x 0..2 of rows 0..2: reds 0, 10, 1, 11 → 5.5, rounded to 6.
        assert_eq!(out.get_pixel(0, 0).0, [6, 0, 255]);
        // The last column is one pixel wide; the last row band one row high: x 4 of row 2 → 42.
        assert_eq!(out.get_pixel(2, 1).0, [42, 0, 255]);
    }

    #[test]
    fn a_small_image_is_not_reduced() {
        let reducer = BoxReducer::new(100, 50, 2048);
        assert_eq!(reducer.factor(), 1);
    }
}
