//! Lambda function for `GET /v1/availability`.

vellum::function_main!("availability");
