//! Lambda function for `POST /v1/patients/{patientId}/submissions/{submissionId}/accept`.

vellum::function_main!("submissions-accept");
