//! Lambda function for `PATCH /v1/staff/{userId}`.

vellum::function_main!("staff-update");
