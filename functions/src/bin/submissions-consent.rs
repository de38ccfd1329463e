//! Lambda function for `GET /v1/patients/{patientId}/submissions/{submissionId}/consents/{templateId}`.

vellum::function_main!("submissions-consent");
