//! The local server on `VELLUM_BACKEND=aws` keeps nothing of the data in local files: records in
//! DynamoDB, photos in S3, data keys from KMS (moto). One test in its own process, since it sets the
//! environment the server reads.

use std::time::Duration;

use vellum::host::config::Backend;

#[tokio::test]
async fn on_aws_the_local_server_keeps_photos_in_s3_under_kms_and_no_local_key() {
    let (_, bucket) = vellum_tests::moto_blobs().await;
    let kms = aws_sdk_kms::Client::new(&vellum_tests::moto_config().await);
    let created = kms.create_key().send().await.expect("moto creates a key");
    let key_id = created.key_metadata().map(|m| m.key_id().to_string()).expect("a key id");
    let dir = tempfile::tempdir().unwrap();
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    // SAFETY: this test binary holds this one test, so nothing reads the environment concurrently.
    unsafe {
        for (name, value) in [
            ("AWS_ENDPOINT_URL", vellum_tests::moto_endpoint()),
            ("VELLUM_RECORDS_TABLE", format!("records-{suffix}")),
            ("VELLUM_AUDIT_TABLE", format!("audit-{suffix}")),
            ("VELLUM_CREATE_TABLES", "true".into()),
            ("VELLUM_PHOTO_BUCKET", bucket.clone()),
            ("VELLUM_PHOTO_KEY_ID", key_id.clone()),
            ("VELLUM_S3_PATH_STYLE", "true".into()),
        ] {
            std::env::set_var(name, value);
        }
    }
    let (app, uploads) =
        vellum::host::local::app_from_env(Backend::Aws, dir.path(), "http://127.0.0.1:3000").await.expect("starts");
    assert!(uploads.is_none(), "no local upload route on aws");
    let photos = app.photos.as_ref().expect("photo ports");
    let upload = photos.blobs.presign_put("quarantine/a/b/c", "image/jpeg", 10, Duration::from_secs(60)).await.unwrap();
    assert!(upload.url.starts_with(&vellum_tests::moto_endpoint()), "an S3 URL, not a local one: {}", upload.url);
    assert!(upload.url.contains(&bucket));
    let context = [("clinicId", "c"), ("patientId", "p"), ("photoId", "f")].map(|(k, v)| (k.into(), v.into())).into();
    let data_key = photos.keyring.generate_data_key(&context).await.expect("KMS makes the data key");
    assert!(data_key.key_ref.contains(&key_id), "wrapped by the KMS key, not a local one: {}", data_key.key_ref);
    let unwrapped = photos.keyring.decrypt_data_key(&data_key.wrapped, &context).await.unwrap();
    assert_eq!(unwrapped.as_bytes(), data_key.plaintext.as_bytes());
    let files: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["cursor.key"], "no blobs directory, no master key, no records file");
}
