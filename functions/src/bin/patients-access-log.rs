//! Lambda function for `GET /v1/patients/{patientId}/access-log`.

vellum::function_main!("patients-access-log");
