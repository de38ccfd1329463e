//! The blobs and keys contracts on S3 and KMS, over the wire against moto: the same suites the embedded
//! adapters pass.

vellum::blobs_contract!((vellum_tests::moto_blobs().await.0, ()));

vellum::keyring_contract!(vellum_tests::moto_keyring().await);
