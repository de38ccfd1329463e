//! Lambda function for `GET /v1/staff/{userId}/working-hours`.

vellum::function_main!("staff-hours-get");
