//! Lambda function for `GET /v1/patients/{patientId}/photos`.

vellum::function_main!("photos-list");
