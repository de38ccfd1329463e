//! Lambda function for `PUT /v1/resources/{resourceId}/working-hours`.

vellum::function_main!("resources-hours-put");
