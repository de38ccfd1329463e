//! Peak memory of rendering the largest uploads Vellum accepts, each in a process of its own, as a
//! ratio to rendering a 64x64 JPEG in the same kind of process (the baseline: the program, its libraries
//! and the runtime). The first case decodes the 16-bit PNG whole, as the pipeline once did, for
//! comparison. Run with `cargo bench -p vellum --bench photo_memory` (Linux: it reads `VmHWM`); it
//! prints its figures and asserts nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use vellum::domain::photo::PhotoType;
use vellum::photos::render;

/// The largest square within the pixel limit.
const EDGE: u32 = 7071;
const CASE: &str = "VELLUM_MEMORY_CASE";

struct Case {
    name: &'static str,
    file: &'static str,
    kind: PhotoType,
    /// Decode whole at the file's own depth (the old pipeline), instead of rendering.
    whole: bool,
}

const CASES: &[Case] = &[
    Case { name: "baseline: 64x64 JPEG", file: "small.jpg", kind: PhotoType::Jpeg, whole: false },
    Case {
        name: "7071x7071 16-bit RGBA PNG, decoded whole (as before)",
        file: "deep.png",
        kind: PhotoType::Png,
        whole: true,
    },
    Case { name: "7071x7071 16-bit RGBA PNG, rendered", file: "deep.png", kind: PhotoType::Png, whole: false },
    Case { name: "7071x7071 JPEG, rendered", file: "large.jpg", kind: PhotoType::Jpeg, whole: false },
];

fn jpeg(edge: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(edge, edge, |x, y| Rgb([(x / 32) as u8, (y / 32) as u8, ((x ^ y) / 64) as u8]));
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85).encode_image(&DynamicImage::ImageRgb8(img)).unwrap();
    out
}

/// The worst case: all zeros, 16 bits a channel, written row by row (never whole in memory).
fn deep_png(path: &Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, EDGE, EDGE);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; EDGE as usize * 8];
    for _ in 0..EDGE {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
}

/// The process's peak resident set, in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run_case(dir: &Path, case: &Case) {
    let bytes = std::fs::read(dir.join(case.file)).unwrap();
    if case.whole {
        std::hint::black_box(image::load_from_memory(&bytes).unwrap().into_rgb8());
    } else {
        std::hint::black_box(render::render(&bytes, case.kind).unwrap());
    }
    match peak_mib() {
        Some(mib) => println!("{mib:.1}"),
        None => println!("unavailable"),
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CASE) {
        let (index, dir) = spec.split_once(':').unwrap();
        run_case(Path::new(dir), &CASES[index.parse::<usize>().unwrap()]);
        return;
    }
    let dir: PathBuf = tempfile::tempdir().unwrap().keep();
    std::fs::write(dir.join("small.jpg"), jpeg(64)).unwrap();
    std::fs::write(dir.join("large.jpg"), jpeg(EDGE)).unwrap();
    deep_png(&dir.join("deep.png"));
    let size = |f: &str| std::fs::metadata(dir.join(f)).unwrap().len() as f64 / 1024.0;
    println!("inputs: 16-bit PNG {:.0} KiB, large JPEG {:.0} KiB", size("deep.png"), size("large.jpg"));
    let mut baseline = None;
    for (index, case) in CASES.iter().enumerate() {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CASE, format!("{index}:{}", dir.display()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let Ok(mib) = text.parse::<f64>() else {
            println!("{}: peak RSS unavailable ({text})", case.name);
            continue;
        };
        let base = *baseline.get_or_insert(mib);
        println!("{}: peak RSS {mib:.0} MiB, {:.1}x the baseline", case.name, mib / base);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
