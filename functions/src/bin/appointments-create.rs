//! Lambda function for `POST /v1/appointments`.

vellum::function_main!("appointments-create");
