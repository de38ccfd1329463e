//! Lambda function for `GET /v1/resources/{resourceId}/working-hours`.

vellum::function_main!("resources-hours-get");
