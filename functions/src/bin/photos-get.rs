//! Lambda function for `GET /v1/patients/{patientId}/photos/{photoId}`.

vellum::function_main!("photos-get");
