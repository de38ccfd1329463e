//! Lambda function for `GET /v1/patients/{patientId}/photo-sets`.

vellum::function_main!("photos-sets");
