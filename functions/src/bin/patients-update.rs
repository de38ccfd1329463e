//! Lambda function for `PATCH /v1/patients/{patientId}`.

vellum::function_main!("patients-update");
