//! Lambda function for `PATCH /v1/clinic`.

vellum::function_main!("clinic-update");
