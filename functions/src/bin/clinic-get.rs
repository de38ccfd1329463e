//! Lambda function for `GET /v1/clinic`.

vellum::function_main!("clinic-get");
