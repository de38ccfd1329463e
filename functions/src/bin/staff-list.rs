//! Lambda function for `GET /v1/staff`.

vellum::function_main!("staff-list");
