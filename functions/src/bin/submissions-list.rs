//! Lambda function for `GET /v1/patients/{patientId}/submissions`.

vellum::function_main!("submissions-list");
