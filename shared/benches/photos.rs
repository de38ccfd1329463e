//! Photo pipeline figures, in release mode: the processing of a 12-megapixel JPEG (rendering alone, beside
//! libvips's `vipsthumbnail` making the same two renditions of the same file on one thread in the same
//! run, with both peak memories; and the whole upload processing on the embedded stores), and the
//! AES-256-GCM sealing throughput. Run with `cargo bench -p vellum --bench photos` (`vipsthumbnail` from
//! Debian's `libvips-tools`; without it the comparison is left out, and said so); `-- --smoke` runs each
//! step once. It prints its figures (`report:` lines too) and asserts nothing.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use vellum::app::App;
use vellum::crypto::SecretKey;
use vellum::domain::chart::Actor;
use vellum::domain::fields::{Context, ParseStr};
use vellum::domain::photo::{ConsentScope, Photo, PhotoRequest, PhotoState, PhotoType, StandardView};
use vellum::domain::role::Role;
use vellum::domain::values::{EntityId, PastInstant, ShortText, UserId};
use vellum::photos::{envelope, process, render};
use vellum::store::{Cond, Table, Write};

/// Renders the file named by this variable once and prints the process's peak memory (a child process).
const RENDER_ONCE: &str = "VELLUM_RENDER_ONCE";

/// A 4000x3000 photo-like image at quality 92: gradients with noise, so it compresses like a real photo.
fn twelve_megapixels() -> Vec<u8> {
    let mut seed: u32 = 0x2545_f491;
    let img = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as u8;
        Rgb([(x / 16) as u8 ^ noise, (y / 12) as u8 ^ noise, ((x + y) / 28) as u8 ^ noise])
    });
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(&DynamicImage::ImageRgb8(img)).unwrap();
    jpeg
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    f();
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    (*samples.iter().min().unwrap(), median(samples))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pending_photo(patient: EntityId, photo: EntityId, size: usize) -> Photo {
    let ctx = Context::timeless();
    let actor = Actor { user_id: UserId::parse_str("bench-nurse", &ctx).unwrap(), role: Role::Nurse };
    Photo {
        id: photo,
        patient_id: patient,
        request: PhotoRequest {
            content_type: PhotoType::Jpeg,
            byte_size: size as u64,
            body_area: ShortText::parse_str("face", &ctx).unwrap(),
            view: StandardView::Front,
            captured_at: PastInstant::at(chrono::Utc::now()),
            treatment_id: None,
            phase: None,
            consent: ConsentScope::ClinicalRecord,
        },
        state: PhotoState::Pending,
        rejection: None,
        display: None,
        thumbnail: None,
        consent_history: Vec::new(),
        uploaded_by: actor,
        created_at: "2026-01-01T00:00:00.000000Z".into(),
        processed_at: None,
        erased: None,
        version: 1,
    }
}

/// The process's peak resident set, in MiB.
fn peak_mib(status: &str) -> f64 {
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("Linux reports VmHWM");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<f64>().ok()).expect("a size") / 1024.0
}

/// Our peak memory rendering `input` once, in a process of its own.
fn render_peak_mib(input: &Path) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).env(RENDER_ONCE, input).output().expect("the bench runs itself");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("the child prints its peak")
}

/// `vipsthumbnail` making a rendition of `size` px of `input` on one thread, as our renditions are made
/// (quality 85, no metadata): its time and its peak memory (MiB), or `None` without libvips.
fn vipsthumbnail(input: &Path, size: u32) -> Option<(Duration, f64)> {
    let output = input.with_file_name(format!("vips-{size}.jpg[Q=85,strip]"));
    let start = Instant::now();
    let run = Command::new("/usr/bin/time")
        .args(["-f", "%M", "vipsthumbnail"])
        .arg(input)
        .args(["--size", &size.to_string(), "-o"])
        .arg(output)
        .env("VIPS_CONCURRENCY", "1")
        .output()
        .ok()?;
    let took = start.elapsed();
    if !run.status.success() {
        return None;
    }
    let kib: f64 = String::from_utf8_lossy(&run.stderr).lines().last()?.trim().parse().ok()?;
    Some((took, kib / 1024.0))
}

fn main() {
    if let Ok(input) = std::env::var(RENDER_ONCE) {
        let bytes = std::fs::read(input).unwrap();
        std::hint::black_box(render::render(&bytes, PhotoType::Jpeg).unwrap());
        println!("{:.1}", peak_mib(&std::fs::read_to_string("/proc/self/status").unwrap()));
        return;
    }
    let runs = if std::env::args().any(|a| a == "--smoke") { 1 } else { 5 };
    let jpeg = twelve_megapixels();
    println!("input: 4000x3000 JPEG, quality 92, {:.1} MiB", jpeg.len() as f64 / 1048576.0);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("twelve-megapixels.jpg");
    std::fs::write(&input, &jpeg).unwrap();

    let (best, typical) = time(runs, || render::render(&jpeg, PhotoType::Jpeg).unwrap());
    let ours_mib = render_peak_mib(&input);
    println!(
        "render (check, decode, orient, 2048 px and 320 px renditions, re-encode): median {:.0} ms, best {:.0} ms, peak {ours_mib:.0} MiB",
        ms(typical),
        ms(best)
    );
    println!("report: photos both renditions, ours\t{:.0}\tms", ms(typical));
    println!("report: photos peak memory, ours\t{ours_mib:.0}\tMiB");
    let vips: Option<Vec<(Duration, f64)>> = (0..runs)
        .map(|_| Some((vipsthumbnail(&input, 2048)?, vipsthumbnail(&input, 320)?)))
        .map(|both| both.map(|((t1, m1), (t2, m2))| (t1 + t2, m1.max(m2))))
        .collect();
    match vips {
        Some(vips) => {
            let took = median(vips.iter().map(|(t, _)| *t).collect());
            let peak = vips.iter().map(|(_, m)| *m).fold(0.0, f64::max);
            println!(
                "vipsthumbnail, one thread, the same two renditions (2048 px, then 320 px): median {:.0} ms, peak {peak:.0} MiB; ours is {:.2}x its time and {:.2}x its memory",
                ms(took),
                typical.as_secs_f64() / took.as_secs_f64(),
                ours_mib / peak
            );
            println!("report: photos both renditions, vipsthumbnail\t{:.0}\tms", ms(took));
            println!("report: photos peak memory, vipsthumbnail\t{peak:.0}\tMiB");
        }
        None => println!("vipsthumbnail is not installed (Debian: libvips-tools): no comparison in this run"),
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let records = Arc::new(vellum::host::config::embedded_in(dir.path()).unwrap());
    let (photos, _) = vellum::host::config::embedded_photos_in(dir.path(), "http://127.0.0.1:3000").unwrap();
    let app = App::new(records, SecretKey::generate()).with_photos(photos.clone());
    let clinic = EntityId(ulid::Ulid::new());
    let patient = EntityId(ulid::Ulid::new());
    let mut samples = Vec::new();
    for _ in 0..runs.clamp(2, 4) {
        let photo = EntityId(ulid::Ulid::new());
        let item = pending_photo(patient, photo, jpeg.len()).to_item(clinic);
        let key = Photo::quarantine_key(clinic, patient, photo);
        let start = runtime.block_on(async {
            app.records.transact(vec![Write::put(Table::Records, item, Cond::NotExists)]).await.unwrap();
            photos.blobs.put(&key, jpeg.clone(), "image/jpeg").await.unwrap();
            let start = Instant::now();
            let outcome = process::process_upload(&app, &key, "bench").await.unwrap();
            assert_eq!(outcome, process::Processed::Ready);
            start
        });
        samples.push(start.elapsed());
    }
    samples.remove(0);
    println!(
        "whole upload processing on the embedded stores (read, render, 2 data keys, seal, store, commit): median {:.0} ms",
        ms(median(samples))
    );

    let key = SecretKey::generate();
    let context = process::encryption_context(clinic, patient, EntityId(ulid::Ulid::new()));
    // A smoke run seals a small buffer: its figures mean nothing, and the dev profile is slow.
    let buffer = vec![0x5a_u8; if runs == 1 { 1024 * 1024 } else { 64 * 1024 * 1024 }];
    let (best, typical) = time(runs, || envelope::seal(&key, "local:bench", &context, &buffer));
    let mib = buffer.len() as f64 / 1048576.0;
    println!(
        "seal (AES-256-GCM, {mib:.0} MiB): median {:.0} MiB/s, best {:.0} MiB/s",
        mib / typical.as_secs_f64(),
        mib / best.as_secs_f64()
    );
    let sealed = envelope::seal(&key, "local:bench", &context, &buffer);
    let (_, typical) = time(runs, || envelope::open(&key, &context, &sealed).unwrap());
    println!("open (AES-256-GCM, {mib:.0} MiB): median {:.0} MiB/s", mib / typical.as_secs_f64());
}
