//! Lambda function for `GET /v1/clinic/working-hours`.

vellum::function_main!("clinic-hours-get");
