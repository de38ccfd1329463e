//! Lambda function for `GET /v1/usage`.

vellum::function_main!("usage-read");
