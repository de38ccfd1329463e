//! Lambda function for `GET /v1/patients`.

vellum::function_main!("patients-list");
