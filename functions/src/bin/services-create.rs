//! Lambda function for `POST /v1/services`.

vellum::function_main!("services-create");
