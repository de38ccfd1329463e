//! Lambda function for `GET /v1/intake/{token}`.

vellum::function_main!("intake-get");
