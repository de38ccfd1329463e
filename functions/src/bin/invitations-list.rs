//! Lambda function for `GET /v1/patients/{patientId}/invitations`.

vellum::function_main!("invitations-list");
