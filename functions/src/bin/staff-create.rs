//! Lambda function for `POST /v1/staff`.

vellum::function_main!("staff-create");
