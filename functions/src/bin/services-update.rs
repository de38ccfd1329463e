//! Lambda function for `PATCH /v1/services/{serviceId}`.

vellum::function_main!("services-update");
