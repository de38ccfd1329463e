//! Lambda function for `POST /v1/patients/{patientId}/photos`.

vellum::function_main!("photos-create");
