//! The blobs contract: what every blobs adapter must do, as a test suite each adapter instantiates.

/// Seconds since the epoch, for the contract's expiry checks.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A key no other test uses.
pub fn fresh_key(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}/{nanos}-{}", &crate::crypto::sha256_hex(&crate::crypto::random_bytes::<8>())[..8])
}

/// Instantiates the blobs contract for `$make`, an expression giving `(adapter, guard)`.
#[macro_export]
macro_rules! blobs_contract {
    ($make:expr) => {
        mod blobs_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::blobs::Blobs;

            #[tokio::test]
            async fn an_object_is_put_read_and_deleted() {
                let (blobs, _guard) = $make;
                let key = $crate::blobs::contract::fresh_key("photos");
                assert_eq!(blobs.get(&key).await.unwrap(), None);
                blobs.put(&key, b"first".to_vec(), "application/octet-stream").await.unwrap();
                blobs.put(&key, b"second".to_vec(), "application/octet-stream").await.unwrap();
                assert_eq!(blobs.get(&key).await.unwrap().as_deref(), Some(&b"second"[..]));
                blobs.delete(&key).await.unwrap();
                assert_eq!(blobs.get(&key).await.unwrap(), None);
                blobs.delete(&key).await.expect("deleting what is gone is fine");
            }

            #[tokio::test]
            async fn a_listing_shows_a_folder_in_key_order_with_write_times() {
                let (blobs, _guard) = $make;
                let folder = format!("{}/", $crate::blobs::contract::fresh_key("photos"));
                let before = $crate::blobs::contract::now_seconds();
                for name in ["b/2", "a/1", "c"] {
                    blobs.put(&format!("{folder}{name}"), b"x".to_vec(), "application/octet-stream").await.unwrap();
                }
                blobs.put(&format!("{}x", folder.trim_end_matches('/')), b"x".to_vec(), "text/plain").await.unwrap();
                let page = blobs.list(&folder, None).await.unwrap();
                let keys: Vec<&str> = page.objects.iter().map(|o| o.key.strip_prefix(&folder).unwrap()).collect();
                assert_eq!(keys, ["a/1", "b/2", "c"], "only the folder, in key order");
                assert!(page.objects.iter().all(|o| (before - 5..=before + 60).contains(&o.modified_at)));
                assert_eq!(page.next, None);
                let after = blobs.list(&folder, Some(&format!("{folder}a/1"))).await.unwrap();
                assert_eq!(after.objects.len(), 2);
            }

            #[tokio::test]
            async fn an_upload_url_names_the_method_type_and_expiry() {
                let (blobs, _guard) = $make;
                let before = $crate::blobs::contract::now_seconds();
                let up = blobs
                    .presign_put("quarantine/c/p/x", "image/png", 1234, std::time::Duration::from_secs(600))
                    .await
                    .unwrap();
                assert_eq!(up.method, "PUT");
                assert!(up.url.contains("quarantine/c/p/x"), "{}", up.url);
                assert!(up.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "image/png"));
                assert!((before + 590..=before + 610).contains(&up.expires_at));
            }
        }
    };
}
