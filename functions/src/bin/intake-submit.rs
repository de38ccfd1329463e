//! Lambda function for `POST /v1/intake/{token}/submit`.

vellum::function_main!("intake-submit");
