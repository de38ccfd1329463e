//! Lambda function for `GET /v1/patients/{patientId}`.

vellum::function_main!("patients-get");
