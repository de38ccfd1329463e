//! Lambda function for `GET /v1/patients/{patientId}/chart`.

vellum::function_main!("chart-summary");
