//! Lambda function for `POST /v1/patients/{patientId}/photos/{photoId}/consent`.

vellum::function_main!("photos-consent");
