//! Lambda function for `PATCH /v1/resources/{resourceId}`.

vellum::function_main!("resources-update");
