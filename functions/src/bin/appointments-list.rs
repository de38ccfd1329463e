//! Lambda function for `GET /v1/appointments`.

vellum::function_main!("appointments-list");
