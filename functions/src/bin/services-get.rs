//! Lambda function for `GET /v1/services/{serviceId}`.

vellum::function_main!("services-get");
