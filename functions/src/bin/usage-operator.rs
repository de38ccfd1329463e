//! Lambda function for `GET /v1/operator/usage`.

vellum::function_main!("usage-operator");
