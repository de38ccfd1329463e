//! Lambda function for `GET /v1/patients/{patientId}/appointments`.

vellum::function_main!("patients-appointments");
