//! Lambda function for `GET /v1/break-glass`.

vellum::function_main!("break-glass-list");
