//! Lambda function for `GET /v1/patients/{patientId}/submissions/{submissionId}`.

vellum::function_main!("submissions-get");
