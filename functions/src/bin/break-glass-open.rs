//! Lambda function for `POST /v1/patients/{patientId}/break-glass`.

vellum::function_main!("break-glass-open");
