//! Lambda function for `GET /v1/services`.

vellum::function_main!("services-list");
