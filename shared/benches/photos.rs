//! Photo pipeline figures, in release mode: the processing of a 12-megapixel JPEG (rendering alone, and
//! the whole upload processing on the embedded stores), and the AES-256-GCM sealing throughput.
//! Run with `cargo bench -p vellum --bench photos`; it prints its figures and asserts nothing.

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

/// A 4000x3000 photo-like image: gradients with texture, so it compresses like a real photo.
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
    JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&DynamicImage::ImageRgb8(img)).unwrap();
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

fn main() {
    let jpeg = twelve_megapixels();
    println!("input: 4000x3000 JPEG, {:.1} MiB", jpeg.len() as f64 / 1048576.0);

    let (best, typical) = time(5, || render::render(&jpeg, PhotoType::Jpeg).unwrap());
    println!(
        "render (check, decode, orient, 2048 px and 320 px renditions, re-encode): median {:.0} ms, best {:.0} ms",
        ms(typical),
        ms(best)
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let records = Arc::new(vellum::host::config::embedded_in(dir.path()).unwrap());
    let (photos, _) = vellum::host::config::embedded_photos_in(dir.path(), "http://127.0.0.1:3000").unwrap();
    let app = App::new(records, SecretKey::generate()).with_photos(photos.clone());
    let clinic = EntityId(ulid::Ulid::new());
    let patient = EntityId(ulid::Ulid::new());
    let mut samples = Vec::new();
    for _ in 0..4 {
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
    let buffer = vec![0x5a_u8; 64 * 1024 * 1024];
    let (best, typical) = time(5, || envelope::seal(&key, "local:bench", &context, &buffer));
    let mib = buffer.len() as f64 / 1048576.0;
    println!(
        "seal (AES-256-GCM, 64 MiB): median {:.0} MiB/s, best {:.0} MiB/s",
        mib / typical.as_secs_f64(),
        mib / best.as_secs_f64()
    );
    let sealed = envelope::seal(&key, "local:bench", &context, &buffer);
    let (_, typical) = time(5, || envelope::open(&key, &context, &sealed).unwrap());
    println!("open (AES-256-GCM, 64 MiB): median {:.0} MiB/s", mib / typical.as_secs_f64());
}
