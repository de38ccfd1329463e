//! Lambda function for `GET /v1/plan`.

vellum::function_main!("plan-get");
