//! Lambda function for `POST /v1/staff/join`.

vellum::function_main!("staff-join");
