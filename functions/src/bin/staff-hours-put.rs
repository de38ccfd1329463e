//! Lambda function for `PUT /v1/staff/{userId}/working-hours`.

vellum::function_main!("staff-hours-put");
