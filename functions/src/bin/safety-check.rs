//! Lambda function for `POST /v1/patients/{patientId}/safety-checks`.

vellum::function_main!("safety-check");
