//! Lambda function for `GET /v1/overrides`.

vellum::function_main!("safety-overrides");
