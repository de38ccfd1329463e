//! Lambda function for `POST /v1/intake/{token}/photos`.

vellum::function_main!("intake-photo");
